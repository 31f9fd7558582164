package org.fhirbox.cli;

import java.io.PrintWriter;
import java.net.ConnectException;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import org.fhirbox.client.FhirboxException;
import org.hl7.fhir.r4.model.OperationOutcome;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IExitCodeExceptionMapper;
import picocli.CommandLine.ParseResult;

/**
 * Turns any failure of a command into one line on stderr, e.g.
 * {@code fhirbox: 404 Not Found: Patient/x is not known}, and an exit code: 1 when the server
 * or the transfer failed, 2 when the request itself was wrong. {@code --verbose} adds the stack trace.
 */
final class FailureHandler implements IExecutionExceptionHandler, IExitCodeExceptionMapper {
  static final int FAILED = 1;
  static final int USAGE = 2;

  private static final Map<Integer, String> REASONS = Map.ofEntries(
      Map.entry(301, "Moved Permanently"), Map.entry(302, "Found"), Map.entry(303, "See Other"),
      Map.entry(307, "Temporary Redirect"), Map.entry(308, "Permanent Redirect"),
      Map.entry(400, "Bad Request"), Map.entry(401, "Unauthorized"), Map.entry(403, "Forbidden"),
      Map.entry(404, "Not Found"), Map.entry(405, "Method Not Allowed"), Map.entry(406, "Not Acceptable"),
      Map.entry(409, "Conflict"), Map.entry(410, "Gone"), Map.entry(412, "Precondition Failed"),
      Map.entry(413, "Content Too Large"), Map.entry(415, "Unsupported Media Type"),
      Map.entry(416, "Range Not Satisfiable"), Map.entry(422, "Unprocessable Content"),
      Map.entry(429, "Too Many Requests"), Map.entry(500, "Internal Server Error"),
      Map.entry(502, "Bad Gateway"), Map.entry(503, "Service Unavailable"), Map.entry(504, "Gateway Timeout"));

  @Override
  public int handleExecutionException(Exception e, CommandLine cmd, ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    err.println("fhirbox: " + printable(message(e)));
    if (verbose(parsed)) {
      e.printStackTrace(err);
    }
    err.flush();
    return getExitCode(e);
  }

  /**
   * One line with no control characters: a message may carry a server's words (an OperationOutcome's
   * diagnostics, a file name), and an escape sequence among them would drive the terminal (clear it,
   * retitle it, write its clipboard: ECMA-48 ESC and CSI, OSC 52).
   */
  static String printable(String message) {
    return message.replaceAll("\\s*[\\r\\n]+\\s*", " ").codePoints()
        .map(c -> c == '\t' ? ' ' : Character.isISOControl(c) ? '?' : c)
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
  }

  /**
   * Also for picocli's own parse errors (a missing required option, an unknown one). Only those
   * and a {@link UsageException} are the request's fault: any other exception, an
   * IllegalArgumentException too (a malformed number or URL in an answer), is a failure.
   */
  @Override
  public int getExitCode(Throwable e) {
    return e instanceof UsageException || e instanceof CommandLine.ParameterException ? USAGE : FAILED;
  }

  static String message(Throwable e) {
    if (e instanceof FhirboxException f && f.status() > 0) {
      String head = f.status() + " " + REASONS.getOrDefault(f.status(), "Error");
      String detail = f.operationOutcome() == null ? "" : diagnostics(f.operationOutcome());
      return detail.isEmpty() ? head + " (" + f.getMessage() + ")" : head + ": " + detail;
    }
    if (e instanceof FhirboxException f && hasCause(e, ConnectException.class)) {
      // another host (an Attachment's URL elsewhere, a bucket) is named: the hint is for the configured server only
      return f.otherHost().map(host -> "cannot connect to " + host + ": " + e.getMessage())
          .orElse("cannot connect to the server (check --server or FHIRBOX_SERVER): " + e.getMessage());
    }
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file: " + e.getMessage();
    }
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }

  private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static String diagnostics(OperationOutcome outcome) {
    return outcome.getIssue().stream()
        .map(i -> i.hasDiagnostics() ? i.getDiagnostics() : i.getDetails().getText())
        .filter(Objects::nonNull)
        .filter(s -> !s.isBlank())
        .collect(Collectors.joining("; "));
  }

  private static boolean verbose(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }
}
