package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.fhirbox.db.Database;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FailureLimiterTest {
  private final TestClock clock = new TestClock();
  private final FailureLimiter limiter = new FailureLimiter(clock, 5, Duration.ofMinutes(15), Duration.ofSeconds(60));
  private final FailureLimiter perAddress = new FailureLimiter(clock, 20, Duration.ofMinutes(15),
      Duration.ofSeconds(60));

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
    limiter.success("k");
    assertThat(limiter.retryAfterSeconds("k")).isZero();
    for (int i = 0; i < 4; i++) {
      limiter.failure("k");
    }
    clock.advance(Duration.ofMinutes(16));
    limiter.failure("k");
    assertThat(limiter.retryAfterSeconds("k")).isZero();
  }

  @Test
  void repeatedWrongSecretsAreThrottledThenTheRightOneWorksAgain(@TempDir Path dir) {
    try (Database db = AuthDb.open(dir)) {
      ClientStore clients = new ClientStore(db, new PasswordHasher(), clock);
      ClientAuthenticator auth = new ClientAuthenticator(clients, new ReplayGuard(db, clock), limiter,
          perAddress, () -> AuthDb.BASE, clock);
      ClientCredentials c = clients.create("p1", "system/*.rs", false);
      for (int i = 0; i < 5; i++) {
        assertThatThrownBy(() -> auth.bySecret(c.clientId(), "guess", "10.0.0.9"))
            .isInstanceOfSatisfying(ClientAuthException.class, e -> assertThat(e.throttled()).isFalse());
      }
      // blocked now, even with the right secret, from any address
      assertThatThrownBy(() -> auth.bySecret(c.clientId(), c.clientSecret(), "10.0.0.10"))
          .isInstanceOfSatisfying(ClientAuthException.class, e -> {
            assertThat(e.throttled()).isTrue();
            assertThat(e.retryAfterSeconds()).isEqualTo(1);
          });
      clock.advance(Duration.ofSeconds(1));
      assertThat(auth.bySecret(c.clientId(), c.clientSecret(), "10.0.0.10").clientId()).isEqualTo(c.clientId());
      // the success reset the counter: one more wrong guess does not block
      assertThatThrownBy(() -> auth.bySecret(c.clientId(), "guess", "10.0.0.9"))
          .isInstanceOfSatisfying(ClientAuthException.class, e -> assertThat(e.throttled()).isFalse());
    }
  }

  @Test
  void guessingManyClientIdsFromOneAddressIsThrottled(@TempDir Path dir) {
    try (Database db = AuthDb.open(dir)) {
      ClientAuthenticator auth = new ClientAuthenticator(new ClientStore(db, new PasswordHasher(), clock),
          new ReplayGuard(db, clock), limiter, perAddress, () -> AuthDb.BASE, clock);
      for (int i = 0; i < 20; i++) {
        String id = "client-" + i;
        assertThatThrownBy(() -> auth.bySecret(id, "x", "10.0.0.66")).isInstanceOf(ClientAuthException.class);
      }
      assertThatThrownBy(() -> auth.bySecret("client-99", "x", "10.0.0.66"))
          .isInstanceOfSatisfying(ClientAuthException.class, e -> assertThat(e.throttled()).isTrue());
      // another address is not affected
      assertThatThrownBy(() -> auth.bySecret("client-99", "x", "10.0.0.67"))
          .isInstanceOfSatisfying(ClientAuthException.class, e -> assertThat(e.throttled()).isFalse());
    }
  }
}
