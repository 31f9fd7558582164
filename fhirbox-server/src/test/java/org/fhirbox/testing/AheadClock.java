package org.fhirbox.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * The real time plus a lead the test moves on by hand: for a server whose own timers (flushers,
 * request timeouts) need a running clock, while a test still jumps past a wait (a sweeper's watch).
 */
public final class AheadClock extends Clock {
  private volatile Duration ahead = Duration.ZERO;

  public void advance(Duration d) {
    ahead = ahead.plus(d);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return Instant.now().plus(ahead);
  }
}
