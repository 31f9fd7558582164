package org.fhirbox.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/** Runs {@code fhirbox} commands in-process with captured streams and no real environment. */
final class Cli {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What one run produced: exit code, stdout as text, stderr, and stdout as bytes (for {@code -o -}). */
  record Result(int exitCode, String out, String err, byte[] stdoutBytes) {
    JsonNode json() {
      try {
        return JSON.readTree(out);
      } catch (java.io.IOException e) {
        throw new UncheckedIOException("stdout is not JSON: " + out + "\nstderr: " + err, e);
      }
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\nstdout: " + out + "\nstderr: " + err;
    }
  }

  private final Map<String, String> env;
  private final List<String> connection;

  private Cli(Map<String, String> env, List<String> connection) {
    this.env = env;
    this.connection = connection;
  }

  /** Passes the server and credentials as flags after every command. */
  static Cli withFlags(String server, String clientId, String clientSecret) {
    return new Cli(Map.of(), List.of("--server", server, "--client-id", clientId, "--client-secret", clientSecret));
  }

  /** Passes the server and credentials as the environment the command sees. */
  static Cli withEnv(Map<String, String> env) {
    return new Cli(env, List.of());
  }

  static Cli bare() {
    return new Cli(Map.of(), List.of());
  }

  Result run(String... args) {
    return runWithStdin("", args);
  }

  Result runWithStdin(String stdin, String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = Main.commandLine(new Main(env, new ByteArrayInputStream(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8)), bytes, false));
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(connection);
    int code = cmd.execute(all.toArray(String[]::new));
    return new Result(code, out.toString(), err.toString(), bytes.toByteArray());
  }

  /**
   * Runs with {@code stdout} as the process's standard output, as {@code main} does: both the
   * bytes of {@code download -o -} and the text of every other command go there. Only stderr is
   * captured.
   */
  Result runWithStdout(OutputStream stdout, String... args) {
    StringWriter err = new StringWriter();
    CommandLine cmd = Main.commandLine(new Main(env, new ByteArrayInputStream(new byte[0]), stdout, false));
    cmd.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(connection);
    int code = cmd.execute(all.toArray(String[]::new));
    return new Result(code, "", err.toString(), new byte[0]);
  }

  /** A stream that takes {@code limit} bytes and then fails every write, as a full disk does. */
  static OutputStream failingAfter(int limit) {
    return new OutputStream() {
      private long written;

      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (written + len > limit) {
          throw new IOException("No space left on device");
        }
        written += len;
      }
    };
  }
}
