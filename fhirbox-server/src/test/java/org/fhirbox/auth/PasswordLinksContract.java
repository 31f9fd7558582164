package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.fhirbox.auth.PasswordLinks.Closed;
import org.fhirbox.auth.PasswordLinks.Open;
import org.fhirbox.auth.PasswordLinks.Outcome;
import org.fhirbox.auth.PasswordLinks.PasswordSet;
import org.fhirbox.auth.PasswordLinks.Reason;
import org.fhirbox.db.Database;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link PasswordLinks} (and the user rows it changes) on a real database of each kind the server runs on. */
abstract class PasswordLinksContract {
  private static final String PASSWORD = "correct horse battery";

  private Database db;
  private final TestClock clock = new TestClock();
  private UserStore users;
  private PasswordLinks links;
  private User ada;

  /** A fresh, migrated database; the contract closes it after each test. */
  protected abstract Database newDatabase();

  @BeforeEach
  void setUp() {
    db = newDatabase();
    PasswordHasher hasher = new PasswordHasher(new SecureRandom(), 1_000);
    users = new UserStore(db, hasher, new ClientStore(db, hasher, clock), clock);
    links = new PasswordLinks(db, users, hasher, clock);
    ada = users.create("clinic", "ada@example.org", "Ada", "Practitioner/1", "user/*.rs", false).orElseThrow();
  }

  @AfterEach
  void tearDown() {
    db.close();
  }

  @Test
  void aLinkSetsThePasswordOnceAndOnlyItsHashIsStored() throws Exception {
    PasswordLinks.Link link = links.issue(ada.id()).orElseThrow();
    assertThat(link.token()).hasSize(43);
    assertThat(link.toString()).doesNotContain(link.token());
    assertThat(link.expires()).isEqualTo(clock.instant().plus(Duration.ofHours(24)));
    assertThat(links.check(link.token())).isEqualTo(new Open(ada, link.expires()));

    Outcome set = links.setPassword(link.token(), PASSWORD);
    assertThat(set).isInstanceOfSatisfying(PasswordSet.class, s -> assertThat(s.user().hasPassword()).isTrue());
    assertThat(users.verifyPassword("clinic", "ada@example.org", PASSWORD)).isPresent();
    assertThat(links.setPassword(link.token(), "another password!")).isEqualTo(new Closed(Reason.USED));
    assertThat(users.verifyPassword("clinic", "ada@example.org", PASSWORD)).isPresent();
    assertThat(storedText()).doesNotContain(link.token());
  }

  @Test
  void aLinkExpiresAfter24Hours() {
    PasswordLinks.Link link = links.issue(ada.id()).orElseThrow();
    clock.advance(Duration.ofHours(24).minusMillis(1));
    assertThat(links.check(link.token())).isInstanceOf(Open.class);
    clock.advance(Duration.ofMillis(1));
    assertThat(links.check(link.token())).isEqualTo(new Closed(Reason.EXPIRED));
    assertThat(links.setPassword(link.token(), PASSWORD)).isEqualTo(new Closed(Reason.EXPIRED));
    assertThat(users.find(ada.id()).orElseThrow().hasPassword()).isFalse();
  }

  @Test
  void aPasswordOutsideTheRulesLeavesTheLinkOpen() {
    PasswordLinks.Link link = links.issue(ada.id()).orElseThrow();
    assertThatThrownBy(() -> links.setPassword(link.token(), "short")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("12 to 256");
    assertThatThrownBy(() -> links.setPassword(link.token(), "x".repeat(257)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(links.check(link.token())).isInstanceOf(Open.class);
    assertThat(links.setPassword(link.token(), "x".repeat(256))).isInstanceOf(PasswordSet.class);
  }

  @Test
  void aDisabledUsersLinkSetsNoPassword() {
    PasswordLinks.Link link = links.issue(ada.id()).orElseThrow();
    users.disable(ada.id());
    assertThat(links.check(link.token())).isEqualTo(new Closed(Reason.DISABLED));
    assertThat(links.setPassword(link.token(), PASSWORD)).isEqualTo(new Closed(Reason.DISABLED));
    assertThat(users.find(ada.id()).orElseThrow().hasPassword()).isFalse();
  }

  @Test
  void aNewLinkVoidsTheOlderOnes() {
    PasswordLinks.Link first = links.issue(ada.id()).orElseThrow();
    PasswordLinks.Link second = links.issue(ada.id()).orElseThrow();
    assertThat(links.check(first.token())).isEqualTo(new Closed(Reason.REPLACED));
    assertThat(links.setPassword(first.token(), PASSWORD)).isEqualTo(new Closed(Reason.REPLACED));
    assertThat(links.setPassword(second.token(), PASSWORD)).isInstanceOf(PasswordSet.class);
  }

  @Test
  void resetForgetsThePasswordEndsSessionsAndIssuesANewLink() {
    links.setPassword(links.issue(ada.id()).orElseThrow().token(), PASSWORD);
    PasswordLinks.Link pending = links.issue(ada.id()).orElseThrow();
    clock.advance(Duration.ofMinutes(5));

    PasswordLinks.Link fresh = links.reset(ada.id()).orElseThrow();

    User after = users.find(ada.id()).orElseThrow();
    assertThat(after.hasPassword()).isFalse();
    assertThat(after.sessionsSince()).isEqualTo(clock.instant());
    assertThat(users.verifyPassword("clinic", "ada@example.org", PASSWORD)).isEmpty();
    assertThat(links.check(pending.token())).isEqualTo(new Closed(Reason.REPLACED));
    assertThat(links.setPassword(fresh.token(), "a new password!")).isInstanceOf(PasswordSet.class);
    assertThat(users.verifyPassword("clinic", "ada@example.org", "a new password!")).isPresent();
  }

  @Test
  void unknownUsersAndTokensAreNotFound() {
    assertThat(links.issue("no-such-user")).isEmpty();
    assertThat(links.reset("no-such-user")).isEmpty();
    assertThat(links.check(null)).isEqualTo(new Closed(Reason.UNKNOWN));
    assertThat(links.check("x".repeat(43))).isEqualTo(new Closed(Reason.UNKNOWN));
    assertThat(links.check("not a token")).isEqualTo(new Closed(Reason.UNKNOWN));
  }

  @Test
  void ofTwoConcurrentUsesOfOneLinkExactlyOneSetsItsPassword() throws Exception {
    PasswordLinks.Link link = links.issue(ada.id()).orElseThrow();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Outcome>> tries = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        String password = "password number " + i;
        tries.add(pool.submit(() -> {
          go.await();
          return links.setPassword(link.token(), password);
        }));
      }
      go.countDown();
      List<Outcome> outcomes = new ArrayList<>();
      for (Future<Outcome> f : tries) {
        outcomes.add(f.get());
      }
      assertThat(outcomes).filteredOn(o -> o instanceof PasswordSet).hasSize(1);
      assertThat(outcomes).filteredOn(o -> o instanceof Closed).containsOnly(new Closed(Reason.USED));
    } finally {
      pool.shutdownNow();
    }
  }

  /** Every text value stored in the link table. */
  private String storedText() throws Exception {
    StringBuilder all = new StringBuilder();
    try (Connection c = db.connection(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT token_hash, user_id FROM password_link")) {
      while (rs.next()) {
        all.append(rs.getString(1)).append(' ').append(rs.getString(2)).append('\n');
      }
    }
    assertThat(all).isNotEmpty();
    return all.toString();
  }
}
