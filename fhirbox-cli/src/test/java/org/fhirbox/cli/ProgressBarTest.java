package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

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

  @Test
  void showsOnlyBytesWhenTheTotalIsUnknown() {
    assertThat(bar(true).render(2048, -1)).isEqualTo("upload 2.0 KiB");
  }
}
