package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.File;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.fhirbox.testing.SlowTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressBarTest {
  private final AtomicLong now = new AtomicLong(0);
  private final StringWriter err = new StringWriter();

  private ProgressBar bar(boolean terminal) {
    return new ProgressBar(new PrintWriter(err), terminal, "upload", now::get);
  }

  @Test
  void staysSilentWhenStderrIsNotATerminal() {
    ProgressBar bar = bar(false);
    now.set(5 * ProgressBar.DELAY_NANOS);
    bar.onProgress(50, 100);
    bar.finish();
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void staysSilentDuringTheFirstSecond() {
    ProgressBar bar = bar(true);
    now.set(ProgressBar.DELAY_NANOS - 1);
    bar.onProgress(100, 100);
    bar.finish();
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void drawsOnATerminalOnceATransferTakesLongerThanASecond() {
    ProgressBar bar = bar(true);
    now.set(ProgressBar.DELAY_NANOS + 1);
    bar.onProgress(512 * 1024, 1024 * 1024);
    bar.finish();
    assertThat(err.toString()).startsWith("\rupload [###############               ]  50% 512.0 KiB / 1.0 MiB")
        .endsWith(System.lineSeparator());
  }

  /**
   * An upload's progress comes on the HTTP client's thread, which may still hand over bytes when
   * an early answer (413, 401) has ended the command and its line: nothing is drawn after it.
   */
  @Test
  void progressAfterTheBarIsFinishedIsNotDrawn() {
    ProgressBar bar = bar(true);
    now.set(ProgressBar.DELAY_NANOS + 1);
    bar.onProgress(10, 100);
    bar.finish();
    String finished = err.toString();

    now.addAndGet(ProgressBar.DELAY_NANOS);
    bar.onProgress(20, 100);
    bar.finish();

    assertThat(err.toString()).isEqualTo(finished).endsWith(System.lineSeparator());
  }

  @Test
  void showsOnlyBytesWhenTheTotalIsUnknown() {
    assertThat(bar(true).render(2048, -1)).isEqualTo("upload 2.0 KiB");
  }

  @TempDir
  Path work;

  /**
   * {@code fhirbox download} of a signed URL whose peer sends 32 KiB over about 1.5 s, run as a
   * process inside a pseudo-terminal ({@code script}) with the shell redirections {@code redirect};
   * returns what reached the terminal. The file {@code err.txt} holds stderr when it was redirected.
   */
  private String downloadInATerminal(String redirect, String... javaOptions) throws Exception {
    Path script = Path.of("/usr/bin/script");
    assertThat(script).as("util-linux script, which gives the command a terminal").isExecutable();
    HttpServer peer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    peer.createContext("/", ex -> {
      ex.sendResponseHeaders(200, 32 * 1024);
      try (OutputStream out = ex.getResponseBody()) {
        for (int i = 0; i < 32; i++) {
          out.write(new byte[1024]);
          out.flush();
          Thread.sleep(50);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    peer.start();
    try {
      String url = "http://127.0.0.1:" + peer.getAddress().getPort() + "/storage/b1/1?Signature=s";
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      String command = "exec '" + java + "' " + String.join(" ", javaOptions) + " -cp '"
          + System.getProperty("java.class.path") + "' " + Main.class.getName() + " download '" + url + "' "
          + redirect + "\n";
      Path run = work.resolve("run.sh");
      Files.writeString(run, "cd '" + work + "'\n" + command);
      Path terminal = work.resolve("terminal.txt");
      Process p = new ProcessBuilder(List.of(script.toString(), "-qec", "bash " + run, "/dev/null"))
          .redirectInput(new File("/dev/null")).redirectErrorStream(true).redirectOutput(terminal.toFile()).start();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String seen = Files.readString(terminal, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(seen).isZero();
      return seen;
    } finally {
      peer.stop(0);
    }
  }

  @Test
  @SlowTest // the command in a JVM of its own, inside a pseudo-terminal
  void aBarIsDrawnOnAStderrTerminalWhileStdoutGoesToAFile() throws Exception {
    String terminal = downloadInATerminal("-o - > out.bin");

    assertThat(terminal).contains("download [").contains("100% 32.0 KiB / 32.0 KiB");
    assertThat(Files.size(work.resolve("out.bin"))).isEqualTo(32 * 1024);
  }

  @Test
  @SlowTest // the command in a JVM of its own, inside a pseudo-terminal
  void noBarGoesToAStderrRedirectedToAFileWhileStdoutIsATerminal() throws Exception {
    String terminal = downloadInATerminal("-o out.bin 2> err.txt");

    assertThat(Files.readString(work.resolve("err.txt"))).doesNotContain("download [").doesNotContain("\r");
    assertThat(terminal).contains("out.bin");
  }

  @Test
  @SlowTest // the command in a JVM of its own, inside a pseudo-terminal
  void theLaunchersWordOnStderrDecides() throws Exception {
    String terminal = downloadInATerminal("-o out.bin", "-D" + ProgressBar.STDERR_TERMINAL + "=false");

    assertThat(terminal).doesNotContain("download [");
  }
}
