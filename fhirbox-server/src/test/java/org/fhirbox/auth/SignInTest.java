package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.fhirbox.auth.SignIn.BadCredentials;
import org.fhirbox.auth.SignIn.SignedIn;
import org.fhirbox.auth.SignIn.Throttled;
import org.fhirbox.db.Database;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SignInTest {
  private static final String PASSWORD = "correct horse battery";
  private static final String HOME = "192.0.2.1";
  private static final String ELSEWHERE = "198.51.100.7";

  @TempDir
  Path dir;
  private Database db;
  private final TestClock clock = new TestClock();
  private UserStore users;
  private SignIn signIn;
  private User ada;

  @BeforeEach
  void setUp() {
    db = AuthDb.open(dir);
    PasswordHasher hasher = new PasswordHasher(new SecureRandom(), 1_000);
    users = new UserStore(db, hasher, new ClientStore(db, hasher, clock), clock);
    signIn = new SignIn(users, AuthThrottle.standard(clock), clock);
    ada = users.create("clinic", "ada@example.org", "Ada", "Practitioner/1", "user/*.rs", false).orElseThrow();
    users.setPassword(ada.id(), PASSWORD);
  }

  @AfterEach
  void tearDown() {
    db.close();
  }

  @Test
  void theRightPasswordSignsTheUserIn() {
    assertThat(signIn.authenticate("clinic", " ADA@example.org ", PASSWORD, HOME))
        .isInstanceOfSatisfying(SignedIn.class, s -> assertThat(s.user().id()).isEqualTo(ada.id()));
    assertThat(signIn.authenticate("other-project", "ada@example.org", PASSWORD, HOME))
        .isInstanceOf(BadCredentials.class);
  }

  @Test
  void aWrongPasswordAnUnknownEmailAndADisabledUserLookAlike() {
    User off = users.create("clinic", "off@example.org", "Off", "Practitioner/2", "user/*.rs", false).orElseThrow();
    users.setPassword(off.id(), PASSWORD);
    users.disable(off.id());
    User unset = users.create("clinic", "unset@example.org", "Unset", "Practitioner/3", "user/*.rs", false)
        .orElseThrow();
    assertThat(signIn.authenticate("clinic", "ada@example.org", "wrong password!", HOME)).isEqualTo(new BadCredentials());
    assertThat(signIn.authenticate("clinic", "nobody@example.org", PASSWORD, HOME)).isEqualTo(new BadCredentials());
    assertThat(signIn.authenticate("clinic", "off@example.org", PASSWORD, HOME)).isEqualTo(new BadCredentials());
    assertThat(signIn.authenticate("clinic", unset.email(), "", HOME)).isEqualTo(new BadCredentials());
    assertThat(signIn.authenticate("clinic", null, null, HOME)).isEqualTo(new BadCredentials());
  }

  @Test
  void aSignInWhosePasswordWasCheckedBeforeAResetIsEndedByIt() {
    AuthorizationRequests requests = new AuthorizationRequests(db, clock);
    PasswordLinks links = new PasswordLinks(db, users, new PasswordHasher(new SecureRandom(), 1_000), clock);
    AuthorizationRequests.Cookie started = requests.start(new AuthorizationRequests.Request("app",
        "https://app.example.org/cb", "s", "user/*.rs", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", null));
    clock.advance(Duration.ofSeconds(1));
    // the password is checked against its hash as it was when the check read it ...
    SignedIn checked = (SignedIn) signIn.authenticate("clinic", "ada@example.org", PASSWORD, HOME);
    assertThat(checked.checkedFrom()).isEqualTo(clock.instant());
    // ... while an admin resets it (the check takes a PBKDF2), before the sign-in is recorded
    clock.advance(Duration.ofMillis(200));
    assertThat(links.reset(ada.id())).isPresent();
    clock.advance(Duration.ofMillis(200));
    AuthorizationRequests.Cookie recorded = requests.signedIn(started.value(), ada.id(), checked.checkedFrom())
        .orElseThrow();
    User now = users.find(ada.id()).orElseThrow();
    assertThat(now.endedSignIn(recorded.pending().authTime().orElseThrow()))
        .as("the reset ends the sign-in it raced: no code, no refresh token").isTrue();
  }

  @Test
  void fiveFailuresForOneAccountFromOneAddressBlockThatPairEvenForTheRightPassword() {
    for (int i = 0; i < 5; i++) {
      assertThat(signIn.authenticate("clinic", "ada@example.org", "guess number " + i, ELSEWHERE))
          .isInstanceOf(BadCredentials.class);
    }
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, ELSEWHERE)).isEqualTo(new Throttled(1, true));
    // the person at their own address is not held back by a guesser elsewhere
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, HOME)).isInstanceOf(SignedIn.class);
    clock.advance(Duration.ofSeconds(1));
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, ELSEWHERE)).isInstanceOf(SignedIn.class);
  }

  @Test
  void anUnknownEmailIsThrottledExactlyAsAKnownOne() {
    for (int i = 0; i < 5; i++) {
      signIn.authenticate("clinic", "ada@example.org", "guess number " + i, ELSEWHERE);
      signIn.authenticate("clinic", "nobody@example.org", "guess number " + i, ELSEWHERE);
    }
    assertThat(signIn.authenticate("clinic", "ada@example.org", "guess", ELSEWHERE)).isEqualTo(new Throttled(1, true));
    assertThat(signIn.authenticate("clinic", "nobody@example.org", "guess", ELSEWHERE)).isEqualTo(new Throttled(1, true));
  }

  @Test
  void twentyFailuresFromOneAddressBlockItForEveryAccount() {
    for (int i = 0; i < 20; i++) {
      assertThat(signIn.authenticate("clinic", "user" + i + "@example.org", "guess", ELSEWHERE))
          .isInstanceOf(BadCredentials.class);
    }
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, ELSEWHERE)).isInstanceOf(Throttled.class);
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, HOME)).isInstanceOf(SignedIn.class);
  }

  @Test
  void theAddressesOfOneIpv6Slash64CountAsOneAddress() {
    // one host holds its /64 whole: a new source address for each guess changes nothing
    for (int i = 0; i < 20; i++) {
      assertThat(signIn.authenticate("clinic", "user" + i + "@example.org", "guess", "2001:db8:7:9::" + (i + 1)))
          .isInstanceOf(BadCredentials.class);
    }
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, "2001:db8:7:9:ffff::42"))
        .isInstanceOf(Throttled.class);
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, "2001:db8:7:a::1"))
        .as("the next /64").isInstanceOf(SignedIn.class);
    for (int i = 0; i < 5; i++) {
      assertThat(signIn.authenticate("clinic", "ada@example.org", "guess " + i, "2001:db8:5:5::" + (i + 1)))
          .isInstanceOf(BadCredentials.class);
    }
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, "2001:db8:5:5:1:2:3:4"))
        .as("the account from that /64").isInstanceOf(Throttled.class);
    // IPv4 addresses count one by one, as before
    for (int i = 0; i < 20; i++) {
      assertThat(signIn.authenticate("clinic", "ipv4-" + i + "@example.org", "guess", "203.0.113." + i))
          .isInstanceOf(BadCredentials.class);
    }
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, "203.0.113.200")).isInstanceOf(SignedIn.class);
  }

  @Test
  void guessesFromManyAddressesBlockTheAccountButNotWhereTheUserSignedInBefore() {
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, HOME)).isInstanceOf(SignedIn.class);
    for (int i = 0; i < 100; i++) {
      signIn.authenticate("clinic", "ada@example.org", "guess", "203.0.113." + i);
    }
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, "203.0.113.200"))
        .isInstanceOf(Throttled.class);
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, HOME)).isInstanceOf(SignedIn.class);
  }

  @Test
  void wrongPasswordsSentAllAtOnceAreHeldToTheLimitOfFiveAsSequentialOnesAre() throws Exception {
    // a password stretched enough that the guesses overlap while they are hashed
    PasswordHasher slow = new PasswordHasher(new SecureRandom(), 100_000);
    new UserStore(db, slow, new ClientStore(db, slow, clock), clock).setPassword(ada.id(), PASSWORD);
    int threads = 16;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<SignIn.Result>> results = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        String guess = "parallel guess " + i;
        results.add(pool.submit(() -> {
          start.await();
          return signIn.authenticate("clinic", "ada@example.org", guess, ELSEWHERE);
        }));
      }
      int checked = 0;
      for (Future<SignIn.Result> r : results) {
        if (!(r.get() instanceof Throttled)) {
          assertThat(r.get()).isInstanceOf(BadCredentials.class);
          checked++;
        }
      }
      assertThat(checked).as("guesses whose password was checked").isBetween(1, 5);
    } finally {
      pool.shutdownNow();
    }
    assertThat(signIn.authenticate("clinic", "ada@example.org", PASSWORD, ELSEWHERE)).isInstanceOf(Throttled.class);
  }
}
