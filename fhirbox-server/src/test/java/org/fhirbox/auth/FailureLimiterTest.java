package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.Test;

class FailureLimiterTest {
  private final TestClock clock = new TestClock();
  private final FailureLimiter limiter = new FailureLimiter(clock, 5, Duration.ofMinutes(15), Duration.ofSeconds(60));

  @Test
  void fewFailuresDoNotBlock() {
    for (int i = 0; i < 4; i++) {
      limiter.failure("client:a");
    }
    assertThat(limiter.retryAfterSeconds("client:a")).isZero();
  }

  @Test
  void delayGrowsExponentiallyAndIsCapped() {
    for (int i = 0; i < 5; i++) {
      limiter.failure("k");
    }
    assertThat(limiter.retryAfterSeconds("k")).isEqualTo(1);
    limiter.failure("k");
    assertThat(limiter.retryAfterSeconds("k")).isEqualTo(2);
    limiter.failure("k");
    assertThat(limiter.retryAfterSeconds("k")).isEqualTo(4);
    for (int i = 0; i < 20; i++) {
      limiter.failure("k");
    }
    assertThat(limiter.retryAfterSeconds("k")).isEqualTo(60);
    clock.advance(Duration.ofSeconds(60));
    assertThat(limiter.retryAfterSeconds("k")).isZero();
  }

  @Test
  void successResetsAndIdleWindowForgets() {
    for (int i = 0; i < 5; i++) {
      limiter.failure("k");
    }
    limiter.succeeded("k");
    assertThat(limiter.retryAfterSeconds("k")).isZero();
    for (int i = 0; i < 4; i++) {
      limiter.failure("k");
    }
    clock.advance(Duration.ofMinutes(16));
    limiter.failure("k");
    assertThat(limiter.retryAfterSeconds("k")).isZero();
  }

  @Test
  void attemptsUnderWayCountAgainstTheThresholdUntilTheyEnd() {
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.tryAcquire("k")).isZero();
    }
    assertThat(limiter.tryAcquire("k")).as("a sixth while five are under way").isEqualTo(1);
    limiter.released("k");
    assertThat(limiter.tryAcquire("k")).as("a slot let go is free again").isZero();
    limiter.failed("k");
    limiter.failed("k");
    assertThat(limiter.tryAcquire("k")).as("two failed and three under way").isEqualTo(1);
    limiter.succeeded("k");
    assertThat(limiter.tryAcquire("k")).as("a success starts the key over").isZero();
  }

  @Test
  void pastTheThresholdOnlyOneAttemptAtATimeOnceTheBlockRunsOut() {
    for (int i = 0; i < 5; i++) {
      limiter.failure("k");
    }
    assertThat(limiter.tryAcquire("k")).isEqualTo(1);
    clock.advance(Duration.ofSeconds(1));
    assertThat(limiter.tryAcquire("k")).isZero();
    assertThat(limiter.tryAcquire("k")).isEqualTo(1);
    limiter.failed("k");
    assertThat(limiter.tryAcquire("k")).isEqualTo(2);
  }

  @Test
  void moreDistinctKeysThanTheLimitKeepAtMostMaxKeysAndTheMostRecentlyUsed() {
    for (int i = 0; i < 5; i++) {
      limiter.failure("busy");
    }
    for (int i = 0; i < FailureLimiter.MAX_KEYS + 1000; i++) {
      limiter.failure("client-" + i);
      if (i % 10_000 == 0) {
        limiter.retryAfterSeconds("busy");
      }
    }
    assertThat(limiter.size()).isLessThanOrEqualTo(FailureLimiter.MAX_KEYS);
    for (int i = 0; i < 4; i++) {
      limiter.failure("client-" + (FailureLimiter.MAX_KEYS + 999));
    }
    assertThat(limiter.retryAfterSeconds("client-" + (FailureLimiter.MAX_KEYS + 999))).as("the newest kept")
        .isEqualTo(1);
    assertThat(limiter.retryAfterSeconds("client-0")).as("the oldest gone").isZero();
    assertThat(limiter.retryAfterSeconds("busy")).as("a key in use all along kept").isEqualTo(1);
  }
}
