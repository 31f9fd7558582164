package org.fhirbox.cli;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code fhirbox} command. Holds what the subcommands take from the process (environment,
 * standard input, standard output as bytes, whether stderr is a terminal) so that tests can run
 * them in-process with their own.
 */
@Command(name = "fhirbox", mixinStandardHelpOptions = true, version = "fhirbox 0.1.0",
    description = "FHIR R4 server for binary health data, and a client for it.",
    footer = {"", "Client commands find the server and credentials in FHIRBOX_SERVER, FHIRBOX_CLIENT_ID and "
        + "FHIRBOX_CLIENT_SECRET; --server, --client-id and --client-secret override them. "
        + "Errors print one line on stderr and exit non-zero; --verbose adds the stack trace."},
    subcommands = {ServeCommand.class, UploadCommand.class, DownloadCommand.class, UrlCommand.class,
        GetCommand.class, CreateCommand.class, SearchCommand.class, AdminCommand.class,
        CommandLine.HelpCommand.class})
public final class Main {
  final Map<String, String> env;
  final InputStream stdin;
  final OutputStream stdout;
  final boolean terminal;

  /** The real process: its environment and streams; progress bars when stderr is a terminal. */
  public Main() {
    this(System.getenv(), System.in, System.out, ProgressBar.stderrIsTerminal());
  }

  Main(Map<String, String> env, InputStream stdin, OutputStream stdout, boolean terminal) {
    this.env = Map.copyOf(env);
    this.stdin = stdin;
    this.stdout = StandardOutput.checked(stdout);
    this.terminal = terminal;
  }

  /**
   * A command line for {@code main} with the one error path: {@link FailureHandler}. Its text
   * output goes to {@code main}'s stdout, so that a write there that fails fails the command; its
   * messages go to stderr as UTF-8, as stdout's text does.
   */
  public static CommandLine commandLine(Main main) {
    FailureHandler failures = new FailureHandler();
    return new CommandLine(main)
        .setOut(StandardOutput.writer(main.stdout))
        .setErr(StandardOutput.errorWriter(System.err))
        .setExecutionExceptionHandler(failures)
        .setExitCodeExceptionMapper(failures);
  }

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("serve")) {
      // Building the whole command tree reflects over every subcommand (about 150 ms of a start
      // that should take under two seconds); serve needs nothing from the others.
      FailureHandler failures = new FailureHandler();
      System.exit(new CommandLine(new ServeCommand()).setCommandName("fhirbox serve")
          .setErr(StandardOutput.errorWriter(System.err)).setExecutionExceptionHandler(failures).setExitCodeExceptionMapper(failures)
          .execute(java.util.Arrays.copyOfRange(args, 1, args.length)));
    }
    System.exit(commandLine(new Main()).execute(args));
  }
}
