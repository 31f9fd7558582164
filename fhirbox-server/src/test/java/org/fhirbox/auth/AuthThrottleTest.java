package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.fhirbox.db.Database;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthThrottleTest {
  private final TestClock clock = new TestClock();
  @TempDir Path dir;
  private Database db;
  private ClientAuthenticator auth;
  private ClientCredentials client;

  @BeforeEach
  void setUp() {
    db = AuthDb.open(dir);
    ClientStore clients = new ClientStore(db, new PasswordHasher(), clock);
    auth = new ClientAuthenticator(clients, new ReplayGuard(db, clock), AuthThrottle.standard(clock),
        AuthDb.AUDIENCES, clock, AuthDb.CLAIMED);
    client = clients.create("p1", "system/*.rs", false);
  }

  @AfterEach
  void tearDown() {
    db.close();
  }

  private void guess(String address) {
    assertThatThrownBy(() -> auth.bySecret(client.clientId(), "guess", address))
        .isInstanceOfSatisfying(ClientAuthException.class, e -> assertThat(e.throttled()).isFalse());
  }

  private void assertThrottled(String address, long retryAfter) {
    assertThatThrownBy(() -> auth.bySecret(client.clientId(), client.clientSecret(), address))
        .isInstanceOfSatisfying(ClientAuthException.class, e -> {
          assertThat(e.throttled()).isTrue();
          assertThat(e.retryAfterSeconds()).isEqualTo(retryAfter);
        });
  }

  private void assertAccepted(String address) {
    assertThat(auth.bySecret(client.clientId(), client.clientSecret(), address).clientId())
        .isEqualTo(client.clientId());
  }

  @Test
  void addressesRememberedForSuccessesStayAtTheCapAndTheNewestIsKept() {
    AuthThrottle throttle = AuthThrottle.standard(clock);
    int pairs = AuthThrottle.MAX_KNOWN + 10;
    for (int i = 0; i < pairs; i++) {
      try (AuthThrottle.Attempt a = throttle.begin("client-" + i, "10.1.0.1")) {
        a.succeeded();
      }
    }
    assertThat(throttle.knownCount()).isEqualTo(AuthThrottle.MAX_KNOWN);
    // the pair used longest ago went; the newest success is remembered, not refused for want of room
    assertThat(throttle.isKnown("client-0", "10.1.0.1")).isFalse();
    assertThat(throttle.isKnown("client-" + (pairs - 1), "10.1.0.1")).isTrue();
  }

  @Test
  void wrongSecretsSlowDownTheGuesserButNotTheClientElsewhere() {
    for (int i = 0; i < 5; i++) {
      guess("10.0.0.9");
    }
    // the guessing address waits, even with the right secret
    assertThrottled("10.0.0.9", 1);
    // the client itself, from its own address, is not locked out by a stranger
    assertAccepted("10.0.0.10");
    clock.advance(Duration.ofSeconds(1));
    assertAccepted("10.0.0.9");
    // that success reset the pair: one more wrong guess does not block
    guess("10.0.0.9");
  }

  @Test
  void guessesSpreadOverManyAddressesThrottleTheClientIdExceptWhereItWorkedBefore() {
    assertAccepted("10.0.0.10");
    for (int i = 0; i < 100; i++) {
      guess("192.0.2." + i);
    }
    assertThrottled("198.51.100.7", 1);
    // an address the client authenticated from in the last day is not held back
    assertAccepted("10.0.0.10");
    // and that success does not reset the count for everyone else
    assertThrottled("198.51.100.7", 1);
  }

  @Test
  void anAddressIsKnownForADayOnly() {
    assertAccepted("10.0.0.10");
    clock.advance(Duration.ofHours(25));
    for (int i = 0; i < 100; i++) {
      guess("192.0.2." + i);
    }
    assertThrottled("10.0.0.10", 1);
  }

  @Test
  void guessingManyClientIdsFromOneAddressIsThrottled() {
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

  @Test
  void succeedingWithOnesOwnClientDoesNotResetTheAddressesCountForGuessesAtOthers() {
    AuthThrottle throttle = AuthThrottle.standard(clock);
    // 20 failures from one address, four at each of five clients: under each pair's limit of 5
    for (int target = 0; target < 5; target++) {
      for (int i = 0; i < 4; i++) {
        throttle.failure("target-" + target, "198.51.100.7");
      }
    }
    assertThat(throttle.retryAfterSeconds("target-5", "198.51.100.7")).isPositive();
    throttle.begin("own-client", "198.51.100.7").succeeded();
    assertThat(throttle.retryAfterSeconds("target-5", "198.51.100.7")).as("still held back").isPositive();
    assertThat(throttle.retryAfterSeconds("own-client", "198.51.100.8")).isZero();
  }
}
