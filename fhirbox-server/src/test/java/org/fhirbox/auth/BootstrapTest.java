package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.db.Database;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class BootstrapTest {
  private static final int NODES = 6;

  private static List<Optional<ClientCredentials>> startNodesAtOnce(Database db, FhirboxConfig config)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(NODES);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Optional<ClientCredentials>>> futures = new ArrayList<>();
      for (int i = 0; i < NODES; i++) {
        futures.add(pool.submit(() -> {
          go.await();
          AuthModule node = new AuthModule(config, db, Clock.systemUTC(), () -> AuthDb.BASE, AuthDb.CLAIMED);
          Optional<ClientCredentials> shown = node.bootstrap();
          node.checkBootstrapSecret(); // as a server does once it serves: waits for the background creation
          return shown;
        }));
      }
      go.countDown();
      List<Optional<ClientCredentials>> out = new ArrayList<>();
      for (Future<Optional<ClientCredentials>> f : futures) {
        out.add(f.get());
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void configuredBootstrapClientIsCreatedOnceByConcurrentNodes(@TempDir Path dir) throws Exception {
    FhirboxConfig config = FhirboxConfig.of(Map.of("FHIRBOX_BOOTSTRAP_CLIENT_ID", "ops",
        "FHIRBOX_BOOTSTRAP_CLIENT_SECRET", "a-long-bootstrap-secret-0123456789"));
    try (Database db = AuthDb.open(dir)) {
      startNodesAtOnce(db, config);
      AuthModule auth = new AuthModule(config, db, Clock.systemUTC(), () -> AuthDb.BASE, AuthDb.CLAIMED);
      assertThat(auth.clients().list(null)).singleElement().satisfies(c -> {
        assertThat(c.clientId()).isEqualTo("ops");
        assertThat(c.project()).isEqualTo("default");
        assertThat(c.admin()).isTrue();
        assertThat(c.allowedScopes()).hasToString("system/*.cruds admin");
      });
      assertThat(auth.clients().verifySecret("ops", "a-long-bootstrap-secret-0123456789")).isPresent();
    }
  }

  @Test
  void theBootstrapClientAuthenticatesAsSoonAsBootstrapReturns(@TempDir Path dir) throws Exception {
    FhirboxConfig config = FhirboxConfig.of(Map.of("FHIRBOX_BOOTSTRAP_CLIENT_ID", "ops",
        "FHIRBOX_BOOTSTRAP_CLIENT_SECRET", "a-long-bootstrap-secret-0123456789"));
    try (Database db = AuthDb.open(dir)) {
      AuthModule auth = new AuthModule(config, db, Clock.systemUTC(), () -> AuthDb.BASE, AuthDb.CLAIMED);
      assertThat(auth.bootstrap()).isEmpty();
      // the secret is still being stretched on another thread: look-ups of that id wait for it
      assertThat(auth.clients().verifySecret("ops", "a-long-bootstrap-secret-0123456789")).isPresent();
      assertThat(auth.clients().find("ops")).isPresent();
      assertThat(auth.checkBootstrapSecret()).isTrue();
    }
  }

  @Test
  void aConfiguredSecretThatDiffersFromTheExistingClientsIsReportedNotApplied(@TempDir Path dir) throws Exception {
    FhirboxConfig first = FhirboxConfig.of(Map.of("FHIRBOX_BOOTSTRAP_CLIENT_ID", "ops",
        "FHIRBOX_BOOTSTRAP_CLIENT_SECRET", "a-long-bootstrap-secret-0123456789"));
    FhirboxConfig changed = FhirboxConfig.of(Map.of("FHIRBOX_BOOTSTRAP_CLIENT_ID", "ops",
        "FHIRBOX_BOOTSTRAP_CLIENT_SECRET", "another-long-secret-9876543210"));
    try (Database db = AuthDb.open(dir)) {
      AuthModule one = new AuthModule(first, db, Clock.systemUTC(), () -> AuthDb.BASE, AuthDb.CLAIMED);
      one.bootstrap();
      assertThat(one.checkBootstrapSecret()).isTrue();
      AuthModule two = new AuthModule(changed, db, Clock.systemUTC(), () -> AuthDb.BASE, AuthDb.CLAIMED);
      assertThat(two.bootstrap()).isEmpty();
      assertThat(two.checkBootstrapSecret()).isFalse();
      assertThat(two.clients().verifySecret("ops", "a-long-bootstrap-secret-0123456789")).isPresent();
      assertThat(two.clients().verifySecret("ops", "another-long-secret-9876543210")).isEmpty();
    }
  }

  /**
   * A restart does not stretch the configured secret to compare it with the stored hash; its
   * first use does, and a refusal of it says once that it is not applied.
   */
  @Test
  void aChangedConfiguredSecretIsReportedAtItsFirstUseNotAtStart(@TempDir Path dir) throws Exception {
    FhirboxConfig first = FhirboxConfig.of(Map.of("FHIRBOX_BOOTSTRAP_CLIENT_ID", "ops",
        "FHIRBOX_BOOTSTRAP_CLIENT_SECRET", "a-long-bootstrap-secret-0123456789"));
    FhirboxConfig changed = FhirboxConfig.of(Map.of("FHIRBOX_BOOTSTRAP_CLIENT_ID", "ops",
        "FHIRBOX_BOOTSTRAP_CLIENT_SECRET", "another-long-secret-9876543210"));
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    root.addAppender(log);
    try (Database db = AuthDb.open(dir)) {
      AuthModule one = new AuthModule(first, db, Clock.systemUTC(), () -> AuthDb.BASE, AuthDb.CLAIMED);
      one.bootstrap();
      assertThat(one.checkBootstrapSecret()).isTrue();
      AuthModule two = new AuthModule(changed, db, Clock.systemUTC(), () -> AuthDb.BASE, AuthDb.CLAIMED);

      assertThat(two.bootstrap()).isEmpty();
      assertThat(notApplied(log)).isEmpty();

      assertThat(two.clients().verifySecret("ops", "another-long-secret-9876543210")).isEmpty();
      assertThat(two.clients().verifySecret("ops", "another-long-secret-9876543210")).isEmpty();
      assertThat(two.clients().verifySecret("ops", "a-long-bootstrap-secret-0123456789")).isPresent();
      assertThat(notApplied(log)).singleElement().asString()
          .contains("ops already exists with another secret")
          .doesNotContain("another-long-secret", "a-long-bootstrap-secret");
    } finally {
      root.detachAppender(log);
    }
  }

  private static List<String> notApplied(ListAppender<ILoggingEvent> log) {
    return log.list.stream().map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.contains("FHIRBOX_BOOTSTRAP_CLIENT_SECRET is not applied")).toList();
  }

  @Test
  void firstStartWithoutConfigurationGeneratesExactlyOneAdminClient(@TempDir Path dir) throws Exception {
    FhirboxConfig config = FhirboxConfig.of(Map.of());
    try (Database db = AuthDb.open(dir)) {
      List<Optional<ClientCredentials>> results = startNodesAtOnce(db, config);
      List<ClientCredentials> shown = results.stream().flatMap(Optional::stream).toList();
      assertThat(shown).hasSize(1);
      AuthModule auth = new AuthModule(config, db, Clock.systemUTC(), () -> AuthDb.BASE, AuthDb.CLAIMED);
      assertThat(auth.clients().list(null)).singleElement()
          .satisfies(c -> assertThat(c.clientId()).isEqualTo(shown.get(0).clientId()));
      assertThat(auth.clients().verifySecret(shown.get(0).clientId(), shown.get(0).clientSecret())).isPresent();
      // later starts show nothing
      assertThat(auth.bootstrap()).isEmpty();
    }
  }

  private static final String USER_PASSWORD = "bootstrap user password 0123";

  private static FhirboxConfig userConfig(String password) {
    return FhirboxConfig.of(Map.of("FHIRBOX_BOOTSTRAP_USER_EMAIL", "Boss@Example.org",
        "FHIRBOX_BOOTSTRAP_USER_PASSWORD", password));
  }

  /** A node's auth module whose password stretching is cheap, so that six can start on two cores. */
  private static AuthModule node(FhirboxConfig config, Database db) {
    return new AuthModule(config, db, Clock.systemUTC(), () -> AuthDb.BASE,
        new PasswordHasher(new SecureRandom(), 1_000), AuthDb.CLAIMED);
  }

  @Test
  void configuredBootstrapUserIsCreatedOnceByConcurrentNodesAndItsPasswordIsNeverLogged(@TempDir Path dir)
      throws Exception {
    FhirboxConfig config = userConfig(USER_PASSWORD);
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    root.addAppender(log);
    try (Database db = AuthDb.open(dir)) {
      ExecutorService pool = Executors.newFixedThreadPool(NODES);
      List<Optional<User>> created = new ArrayList<>();
      try {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Optional<User>>> futures = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
          futures.add(pool.submit(() -> {
            go.await();
            return node(config, db).bootstrapUser().join();
          }));
        }
        go.countDown();
        for (Future<Optional<User>> f : futures) {
          created.add(f.get());
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(created.stream().flatMap(Optional::stream)).hasSize(1);
      AuthModule auth = node(config, db);
      assertThat(auth.users().list(null)).singleElement().satisfies(u -> {
        assertThat(u.project()).isEqualTo("default");
        assertThat(u.email()).isEqualTo("boss@example.org");
        assertThat(u.admin()).isTrue();
        assertThat(u.fhirUser()).isEqualTo("Practitioner/bootstrap-admin");
        assertThat(u.allowedScopes()).hasToString("user/*.cruds admin");
        assertThat(u.hasPassword()).isTrue();
      });
      assertThat(auth.signIn().authenticate("default", "boss@example.org", USER_PASSWORD, "192.0.2.1"))
          .isInstanceOf(SignIn.SignedIn.class);
      // restarts find it and change nothing
      assertThat(auth.bootstrapUser().join()).isEmpty();
    } finally {
      root.detachAppender(log);
    }
    assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
        .anySatisfy(m -> assertThat(m).contains("created bootstrap admin user"))
        .noneSatisfy(m -> assertThat(m).contains(USER_PASSWORD));
  }

  @Test
  void theBootstrapUserSignsInAsSoonAsBootstrapUserReturns(@TempDir Path dir) throws Exception {
    try (Database db = AuthDb.open(dir)) {
      AuthModule auth = new AuthModule(userConfig(USER_PASSWORD), db, Clock.systemUTC(), () -> AuthDb.BASE, AuthDb.CLAIMED);
      auth.bootstrapUser();
      // the password is still being stretched (600,000 iterations) on another thread: the sign-in waits for it
      assertThat(auth.signIn().authenticate("default", "boss@example.org", USER_PASSWORD, "192.0.2.1"))
          .isInstanceOf(SignIn.SignedIn.class);
    }
  }

  @Test
  void aChangedBootstrapPasswordIsNotAppliedToTheExistingUser(@TempDir Path dir) throws Exception {
    try (Database db = AuthDb.open(dir)) {
      node(userConfig(USER_PASSWORD), db).bootstrapUser().join();
      AuthModule restarted = node(userConfig("another password 456"), db);
      assertThat(restarted.bootstrapUser().join()).isEmpty();
      assertThat(restarted.signIn().authenticate("default", "boss@example.org", "another password 456", "192.0.2.1"))
          .isInstanceOf(SignIn.BadCredentials.class);
      assertThat(restarted.signIn().authenticate("default", "boss@example.org", USER_PASSWORD, "192.0.2.1"))
          .isInstanceOf(SignIn.SignedIn.class);
    }
  }

  @Test
  void aHalfOrMalformedBootstrapUserConfigurationStopsTheStart(@TempDir Path dir) throws Exception {
    try (Database db = AuthDb.open(dir)) {
      assertThatThrownBy(() -> node(FhirboxConfig.of(Map.of("FHIRBOX_BOOTSTRAP_USER_EMAIL", "a@example.org")), db)
          .bootstrapUser()).hasMessageContaining("set both FHIRBOX_BOOTSTRAP_USER_EMAIL and");
      assertThatThrownBy(() -> node(userConfig("too-short"), db).bootstrapUser())
          .hasMessageContaining("FHIRBOX_BOOTSTRAP_USER_PASSWORD").hasMessageContaining("12 to 256")
          .message().doesNotContain("too-short");
      assertThatThrownBy(() -> node(FhirboxConfig.of(Map.of("FHIRBOX_BOOTSTRAP_USER_EMAIL", "not an email",
          "FHIRBOX_BOOTSTRAP_USER_PASSWORD", USER_PASSWORD)), db).bootstrapUser()).hasMessageContaining("email");
      assertThat(node(FhirboxConfig.of(Map.of()), db).bootstrapUser().join()).isEmpty();
      assertThat(node(FhirboxConfig.of(Map.of()), db).users().list(null)).isEmpty();
    }
  }

  @Test
  void nodesStartingTogetherShareOneSigningKeyOfEachKind(@TempDir Path dir) throws Exception {
    try (Database db = AuthDb.open(dir)) {
      ExecutorService pool = Executors.newFixedThreadPool(NODES);
      try {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> kids = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
          kids.add(pool.submit(() -> {
            go.await();
            SigningKeyStore store = new SigningKeyStore(db, Clock.systemUTC());
            // each node makes its own RSA key (a few hundred ms) and races to store it: one wins
            return store.loadOrCreateRsa().getKeyID() + " " + store.loadOrCreate().getKeyID();
          }));
        }
        go.countDown();
        List<String> seen = new ArrayList<>();
        for (Future<String> f : kids) {
          seen.add(f.get());
        }
        assertThat(seen).hasSize(NODES).containsOnly(seen.get(0));
        String[] rsaAndEc = seen.get(0).split(" ");
        assertThat(rsaAndEc[0]).isNotEqualTo(rsaAndEc[1]);
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
