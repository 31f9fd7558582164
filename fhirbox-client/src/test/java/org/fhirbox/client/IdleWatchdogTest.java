package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The watchdog's checks live as long as the bodies they guard, not as long as their period. */
class IdleWatchdogTest {
  @Test
  void aClosedBodysCheckLeavesTheTimerAtOnce() throws Exception {
    int before = IdleWatchdog.pendingChecks();
    List<InputStream> bodies = new ArrayList<>();
    // an hour's idle timeout: each check is due every 15 minutes, long after this test
    for (int i = 0; i < 1000; i++) {
      bodies.add(IdleWatchdog.guard(new ByteArrayInputStream(new byte[] {1}), Duration.ofHours(1)));
    }
    // bodies of other tests may come and go meanwhile, but not a hundred
    assertThat(IdleWatchdog.pendingChecks()).isGreaterThan(before + 900);

    for (InputStream body : bodies) {
      body.close();
    }

    assertThat(IdleWatchdog.pendingChecks()).isLessThan(before + 100);
  }
}
