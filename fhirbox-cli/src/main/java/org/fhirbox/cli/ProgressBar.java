package org.fhirbox.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;
import org.fhirbox.client.ProgressListener;

/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal and only once a
 * transfer has taken longer than a second (short transfers stay silent), redrawn at most ten
 * times a second.
 */
final class ProgressBar implements ProgressListener {
  static final long DELAY_NANOS = 1_000_000_000L;
  private static final long REDRAW_NANOS = 100_000_000L;
  private static final int WIDTH = 30;

  private final PrintWriter err;
  private final boolean terminal;
  private final String label;
  private final LongSupplier nanoTime;
  private final long started;
  private long lastDrawn = Long.MIN_VALUE;
  private boolean drawn;
  /**
   * Set by {@link #finish}: an upload's progress comes on the HTTP client's thread, which may still
   * hand over bytes after an early answer (413, 401) ended the command and its line.
   */
  private boolean finished;

  ProgressBar(PrintWriter err, boolean terminal, String label, LongSupplier nanoTime) {
    this.err = err;
    this.terminal = terminal;
    this.label = label;
    this.nanoTime = nanoTime;
    this.started = nanoTime.getAsLong();
  }

  /** The system property the {@code fhirbox} launcher sets from {@code test -t 2}: true or false. */
  static final String STDERR_TERMINAL = "fhirbox.stderrTerminal";

  /**
   * Whether stderr is a terminal, which Java 17 cannot ask directly: {@code System.console()}
   * answers whether stdin and stdout are, so it would draw into {@code 2> log} and stay silent
   * for {@code -o - > file}. The launcher's word counts first; else, on Linux,
   * {@code /proc/self/fd/2} names the device stderr is open on (a terminal is {@code /dev/pts/N},
   * {@code /dev/ttyN} or {@code /dev/console}); only where neither is known does the console decide.
   */
  static boolean stderrIsTerminal() {
    String told = System.getProperty(STDERR_TERMINAL);
    if (told != null) {
      return Boolean.parseBoolean(told.trim());
    }
    try {
      String device = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return device.startsWith("/dev/pts/") || device.startsWith("/dev/tty") || device.equals("/dev/console");
    } catch (IOException | UnsupportedOperationException | SecurityException noProc) {
      return System.console() != null;
    }
  }

  static ProgressBar on(PrintWriter err, boolean terminal, String label) {
    return new ProgressBar(err, terminal, label, System::nanoTime);
  }

  @Override
  public synchronized void onProgress(long bytesDone, long totalBytes) {
    if (!terminal || finished) {
      return;
    }
    long now = nanoTime.getAsLong();
    boolean complete = totalBytes >= 0 && bytesDone >= totalBytes;
    if (now - started < DELAY_NANOS || (!complete && drawn && now - lastDrawn < REDRAW_NANOS)) {
      return;
    }
    lastDrawn = now;
    drawn = true;
    err.print("\r" + render(bytesDone, totalBytes));
    err.flush();
  }

  /** Ends the bar's line, if one was drawn; later progress is not drawn. */
  synchronized void finish() {
    finished = true;
    if (drawn) {
      err.println();
      err.flush();
      drawn = false;
    }
  }

  String render(long done, long total) {
    if (total <= 0) {
      return String.format(Locale.ROOT, "%s %s", label, size(done));
    }
    int filled = (int) Math.min(WIDTH, WIDTH * done / total);
    return String.format(Locale.ROOT, "%s [%s%s] %3d%% %s / %s", label, "#".repeat(filled),
        " ".repeat(WIDTH - filled), 100 * done / total, size(done), size(total));
  }

  private static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
