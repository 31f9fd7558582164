package org.fhirbox.cli;

import java.io.BufferedWriter;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Standard output that fails loudly. {@code System.out} is a PrintStream and picocli's writer a
 * PrintWriter: neither throws when a write fails (a full disk, a closed pipe), they only set a
 * flag, so a command would go on, print the rest into nothing and exit 0 with its output cut
 * short. Here a failed write throws, and the writer is checked after every flush.
 */
final class StandardOutput extends FilterOutputStream {
  static final String FAILED = "cannot write to standard output";

  private StandardOutput(OutputStream out) {
    super(out);
  }

  /** {@code out}, throwing an IOException on the first write or flush that fails. */
  static OutputStream checked(OutputStream out) {
    return out instanceof StandardOutput ? out : new StandardOutput(out);
  }

  /**
   * The text writer for {@code out}: UTF-8, which JSON text is (RFC 8259 §8.1), whatever the
   * locale; Java 17 would otherwise take the locale's charset, US-ASCII where none is set (cron,
   * many containers), and print every other character as {@code ?}. Only a Windows console
   * ({@code sun.stdout.encoding}, set only for one) gets its own code page.
   */
  static PrintWriter writer(OutputStream out) {
    return new PrintWriter(new BufferedWriter(new OutputStreamWriter(checked(out), charset("sun.stdout.encoding"))),
        true);
  }

  /**
   * The text writer for standard error: UTF-8 too, so that a message naming a file or echoing a
   * server's diagnostic keeps its characters where no locale is set (a Windows console gets its
   * code page, {@code sun.stderr.encoding}). Not checked: a failure to report a failure has
   * nowhere to go.
   */
  static PrintWriter errorWriter(OutputStream err) {
    return new PrintWriter(new BufferedWriter(new OutputStreamWriter(err, charset("sun.stderr.encoding"))), true);
  }

  private static Charset charset(String consoleProperty) {
    String name = System.getProperty(consoleProperty);
    return name != null && Charset.isSupported(name) ? Charset.forName(name) : StandardCharsets.UTF_8;
  }

  /** Flushes {@code out} and fails (exit 1) if any write to it failed. */
  static void flush(PrintWriter out) {
    if (out.checkError()) { // flushes first
      throw new UncheckedIOException(FAILED, new IOException(FAILED));
    }
  }

  @Override
  public void write(int b) throws IOException {
    try {
      out.write(b);
    } catch (IOException e) {
      throw failed(e);
    }
    check();
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    try {
      out.write(b, off, len);
    } catch (IOException e) {
      throw failed(e);
    }
    check();
  }

  @Override
  public void flush() throws IOException {
    try {
      out.flush();
    } catch (IOException e) {
      throw failed(e);
    }
    check();
  }

  /** A PrintStream swallowed the failure; its error flag is all that is left of it. */
  private void check() throws IOException {
    if (out instanceof PrintStream ps && ps.checkError()) {
      throw new IOException(FAILED);
    }
  }

  private static IOException failed(IOException e) {
    return new IOException(FAILED + ": " + e.getMessage(), e);
  }
}
