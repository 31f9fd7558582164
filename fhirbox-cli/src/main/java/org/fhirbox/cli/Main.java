package org.fhirbox.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code fhirbox} command. */
@Command(name = "fhirbox", mixinStandardHelpOptions = true, version = "fhirbox 0.1.0",
    description = "FHIR R4 server for binary health data.",
    subcommands = {ServeCommand.class, CommandLine.HelpCommand.class})
public final class Main {
  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }
}
