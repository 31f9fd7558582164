package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.fhirbox.db.Database;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sign-in stores on a real database, one subclass per kind: what HTTP tests cannot reach
 * directly (races, rows written in an order no single request produces).
 */
abstract class SignInStoresContract {
  private Database db;
  private TestClock clock;
  private UserStore users;
  private RefreshTokens refreshTokens;
  private AuthorizationRequests requests;

  @BeforeEach
  void setUp() {
    db = newDatabase();
    clock = new TestClock();
    PasswordHasher hasher = new PasswordHasher(new SecureRandom(), 1_000);
    users = new UserStore(db, hasher, new ClientStore(db, hasher, clock), clock);
    refreshTokens = new RefreshTokens(db, users, clock, Duration.ofDays(30));
    requests = new AuthorizationRequests(db, clock);
  }

  protected abstract Database newDatabase();

  @AfterEach
  void tearDown() {
    db.close();
  }

  @Test
  void s256MatchesTheVectorOfRfc7636AppendixB() {
    assertThat(AuthorizationCodes.s256Matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")).isTrue();
    assertThat(AuthorizationCodes.s256Matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")).isFalse();
    assertThat(AuthorizationCodes.isS256Challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")).isTrue();
    assertThat(AuthorizationCodes.isS256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk=")).isFalse();
  }

  @Test
  void refreshTokensOfASignInBeforeTheUsersSessionsSinceAreVoid() {
    User user = users.create("p", "a@example.org", "A", "Practitioner/a", "user/*.rs", false).orElseThrow();
    Scopes scopes = Scopes.parse("user/*.rs offline_access");
    Instant before = user.sessionsSince().minusSeconds(1);
    String old = refreshTokens.issue("family-old", "app", user, scopes, Optional.empty(), before);
    String current = refreshTokens.issue("family-new", "app", user, scopes, Optional.empty(), user.sessionsSince());

    RefreshTokens.Outcome refused = refreshTokens.rotate(old, "app");
    assertThat(refused).isInstanceOf(RefreshTokens.Outcome.Refused.class);
    assertThat(((RefreshTokens.Outcome.Refused) refused).reason()).contains("sessions were ended");
    assertThat(refreshTokens.active(old)).isEmpty();
    assertThat(refreshTokens.rotate(current, "app")).isInstanceOf(RefreshTokens.Outcome.Rotated.class);
  }

  @Test
  void anAuthorizationCodeOfASignInBeforeTheUsersSessionsSinceIsRefused() {
    User user = users.create("p", "c@example.org", "C", "Practitioner/c", "user/*.rs", false).orElseThrow();
    AuthorizationCodes codes = new AuthorizationCodes(db, users, refreshTokens, clock);
    String verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    String challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    Scopes scopes = Scopes.parse("user/*.rs");
    // signed in a second before the user's sessions were ended (a password reset), redeemed after
    String stale = codes.issue(new AuthorizationCodes.Grant("app", "https://app.example.org/cb", challenge, scopes,
        user.id(), Optional.empty(), Optional.empty(), user.sessionsSince().minusSeconds(1)));
    String fresh = codes.issue(new AuthorizationCodes.Grant("app", "https://app.example.org/cb", challenge, scopes,
        user.id(), Optional.empty(), Optional.empty(), user.sessionsSince()));

    AuthorizationCodes.Outcome refused = codes.redeem(stale, "app", "https://app.example.org/cb", verifier);
    assertThat(refused).isInstanceOfSatisfying(AuthorizationCodes.Outcome.Refused.class,
        r -> assertThat(r.reason()).contains("sessions were ended"));
    assertThat(codes.redeem(fresh, "app", "https://app.example.org/cb", verifier))
        .isInstanceOf(AuthorizationCodes.Outcome.Redeemed.class);
  }

  @Test
  void aReplayedCodeRevokesTheRefreshTokenThatItsFirstExchangeIssuesAfterTheReplay() {
    User user = users.create("p", "e@example.org", "E", "Practitioner/e", "user/*.rs", false).orElseThrow();
    AuthorizationCodes codes = new AuthorizationCodes(db, users, refreshTokens, clock);
    String verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    Scopes scopes = Scopes.parse("user/*.rs offline_access");
    String code = codes.issue(new AuthorizationCodes.Grant("app", "https://app.example.org/cb",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", scopes, user.id(), Optional.empty(), Optional.empty(),
        clock.instant()));

    // the first exchange has redeemed the code but not yet stored its refresh token when the replay comes
    AuthorizationCodes.Outcome first = codes.redeem(code, "app", "https://app.example.org/cb", verifier);
    assertThat(first).isInstanceOf(AuthorizationCodes.Outcome.Redeemed.class);
    assertThat(codes.redeem(code, "app", "https://app.example.org/cb", verifier))
        .isInstanceOfSatisfying(AuthorizationCodes.Outcome.Refused.class,
            r -> assertThat(r.reason()).contains("already used"));
    assertThat(codes.redeem(code, "app", "https://app.example.org/cb", verifier))
        .isInstanceOf(AuthorizationCodes.Outcome.Refused.class);
    AuthorizationCodes.Outcome.Redeemed r = (AuthorizationCodes.Outcome.Redeemed) first;
    String late = refreshTokens.issue(r.family(), "app", r.user(), scopes, Optional.empty(), r.grant().authTime());

    assertThat(refreshTokens.active(late)).isEmpty();
    assertThat(refreshTokens.rotate(late, "app")).isInstanceOfSatisfying(RefreshTokens.Outcome.Refused.class,
        x -> assertThat(x.reason()).contains("revoked"));
    // another sign-in of the same user is untouched
    String other = refreshTokens.issue("family-other", "app", user, scopes, Optional.empty(), clock.instant());
    assertThat(refreshTokens.rotate(other, "app")).isInstanceOf(RefreshTokens.Outcome.Rotated.class);
  }

  @Test
  void whenOneTokenIsExchangedTwiceAtOnceTheWinnersNewTokenDoesNotOutliveTheReuse() throws Exception {
    User user = users.create("p", "d@example.org", "D", "Practitioner/d", "user/*.rs", false).orElseThrow();
    Scopes scopes = Scopes.parse("user/*.rs offline_access");
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      for (int i = 0; i < 100; i++) {
        String token = refreshTokens.issue("family-" + i, "app", user, scopes, Optional.empty(), clock.instant());
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.Callable<RefreshTokens.Outcome> exchange = () -> {
          start.await();
          return refreshTokens.rotate(token, "app");
        };
        var a = pool.submit(exchange);
        var b = pool.submit(exchange);
        start.countDown();
        for (RefreshTokens.Outcome o : java.util.List.of(a.get(), b.get())) {
          if (o instanceof RefreshTokens.Outcome.Rotated r) {
            // the other exchange was a reuse: it revoked the whole sign-in, the new token with it
            assertThat(refreshTokens.active(r.token())).as("round " + i + ": " + a.get() + " " + b.get()).isEmpty();
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void onlyTheHashOfARefreshTokenIsStored() throws Exception {
    User user = users.create("p", "b@example.org", "B", "Practitioner/b", "user/*.rs", false).orElseThrow();
    String token = refreshTokens.issue("f", "app", user, Scopes.parse("offline_access"), Optional.empty(),
        clock.instant());
    try (var c = db.connection(); var rs = c.createStatement().executeQuery("SELECT token_hash FROM refresh_token")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).hasSize(64).isNotEqualTo(token).doesNotContain(token);
    }
  }

  @Test
  void signingInMovesTheRequestToANewCookieAndCsrfToken() {
    AuthorizationRequests.Cookie started = requests.start(new AuthorizationRequests.Request("app",
        "https://app.example.org/cb", "s", "user/*.rs", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", null));
    AuthorizationRequests.Cookie signedIn = requests.signedIn(started.value(), "user-1", clock.instant()).orElseThrow();

    assertThat(signedIn.value()).isNotEqualTo(started.value());
    assertThat(signedIn.pending().csrf()).isNotEqualTo(started.pending().csrf());
    assertThat(signedIn.pending().user()).contains("user-1");
    assertThat(requests.find(started.value())).as("the planted value is worth nothing").isEmpty();
    clock.advance(AuthorizationRequests.TTL);
    assertThat(requests.find(signedIn.value())).as("expired").isEmpty();
  }

  /**
   * A patient chosen in another request while the request is being finished (its change still
   * uncommitted when the finish begins): the finish waits for it and ends the request with that
   * patient, never with the row as it was before.
   */
  @Test
  void aFinishEndsTheRequestWithAPatientChosenWhileItWaited() throws Exception {
    AuthorizationRequests.Cookie cookie = signedInRequest();
    try (Connection chooser = db.connection()) {
      chooser.setAutoCommit(false);
      try (PreparedStatement ps = chooser.prepareStatement(
          "UPDATE authorization_request SET patient = ? WHERE id_hash = ?")) {
        ps.setString(1, "patient-1");
        ps.setString(2, RandomTokens.hash(cookie.value()));
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
      CompletableFuture<Optional<AuthorizationRequests.Pending>> finish =
          CompletableFuture.supplyAsync(() -> requests.finish(cookie.value()));
      awaitBlockedBy(chooser, finish);
      chooser.commit();

      Optional<AuthorizationRequests.Pending> ended = finish.get(30, TimeUnit.SECONDS);
      assertThat(ended).as("the finish got the request").isPresent();
      assertThat(ended.get().patient()).contains("patient-1");
    }
    assertThat(requests.find(cookie.value())).as("ended").isEmpty();
    assertThat(requests.finish(cookie.value())).as("a second finish").isEmpty();
  }

  /** A finish that waits for another one ending the same request gets nothing, without an error. */
  @Test
  void aFinishWaitingForAnotherThatEndsTheRequestGetsNothing() throws Exception {
    AuthorizationRequests.Cookie cookie = signedInRequest();
    try (Connection other = db.connection()) {
      other.setAutoCommit(false);
      try (PreparedStatement ps = other.prepareStatement("DELETE FROM authorization_request WHERE id_hash = ?")) {
        ps.setString(1, RandomTokens.hash(cookie.value()));
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
      CompletableFuture<Optional<AuthorizationRequests.Pending>> finish =
          CompletableFuture.supplyAsync(() -> requests.finish(cookie.value()));
      awaitBlockedBy(other, finish);
      other.commit();

      assertThat(finish.get(30, TimeUnit.SECONDS)).isEmpty();
    }
  }

  private AuthorizationRequests.Cookie signedInRequest() {
    AuthorizationRequests.Cookie started = requests.start(new AuthorizationRequests.Request("app",
        "https://app.example.org/cb", "s", "user/*.rs", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", null));
    return requests.signedIn(started.value(), "user-1", clock.instant()).orElseThrow();
  }

  /** Waits until a session waits for a lock {@code holder}'s session holds (or {@code work} ended without one). */
  private void awaitBlockedBy(Connection holder, CompletableFuture<?> work) throws Exception {
    boolean postgres = db.vendor() == Database.Vendor.POSTGRESQL;
    int session;
    try (Statement s = holder.createStatement();
        ResultSet rs = s.executeQuery(postgres ? "SELECT pg_backend_pid()" : "SELECT SESSION_ID()")) {
      rs.next();
      session = rs.getInt(1);
    }
    String blocked = postgres ? "SELECT count(*) FROM pg_stat_activity WHERE ? = ANY (pg_blocking_pids(pid))"
        : "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS WHERE BLOCKER_ID = ?";
    Poll.until("a session waiting for the lock", () -> {
      if (work.isDone()) {
        return true; // it did not wait: its result tells
      }
      try (Connection c = db.connection(); PreparedStatement ps = c.prepareStatement(blocked)) {
        ps.setInt(1, session);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getLong(1) > 0;
        }
      }
    });
  }
}
