package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
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
          AuthModule node = new AuthModule(config, db, Clock.systemUTC(), () -> AuthDb.BASE);
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
      AuthModule auth = new AuthModule(config, db, Clock.systemUTC(), () -> AuthDb.BASE);
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
      AuthModule auth = new AuthModule(config, db, Clock.systemUTC(), () -> AuthDb.BASE);
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
      AuthModule one = new AuthModule(first, db, Clock.systemUTC(), () -> AuthDb.BASE);
      one.bootstrap();
      assertThat(one.checkBootstrapSecret()).isTrue();
      AuthModule two = new AuthModule(changed, db, Clock.systemUTC(), () -> AuthDb.BASE);
      assertThat(two.bootstrap()).isEmpty();
      assertThat(two.checkBootstrapSecret()).isFalse();
      assertThat(two.clients().verifySecret("ops", "a-long-bootstrap-secret-0123456789")).isPresent();
      assertThat(two.clients().verifySecret("ops", "another-long-secret-9876543210")).isEmpty();
    }
  }

  @Test
  void firstStartWithoutConfigurationGeneratesExactlyOneAdminClient(@TempDir Path dir) throws Exception {
    FhirboxConfig config = FhirboxConfig.of(Map.of());
    try (Database db = AuthDb.open(dir)) {
      List<Optional<ClientCredentials>> results = startNodesAtOnce(db, config);
      List<ClientCredentials> shown = results.stream().flatMap(Optional::stream).toList();
      assertThat(shown).hasSize(1);
      AuthModule auth = new AuthModule(config, db, Clock.systemUTC(), () -> AuthDb.BASE);
      assertThat(auth.clients().list(null)).singleElement()
          .satisfies(c -> assertThat(c.clientId()).isEqualTo(shown.get(0).clientId()));
      assertThat(auth.clients().verifySecret(shown.get(0).clientId(), shown.get(0).clientSecret())).isPresent();
      // later starts show nothing
      assertThat(auth.bootstrap()).isEmpty();
    }
  }

  @Test
  void nodesStartingTogetherShareOneSigningKey(@TempDir Path dir) throws Exception {
    try (Database db = AuthDb.open(dir)) {
      ExecutorService pool = Executors.newFixedThreadPool(NODES);
      try {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> kids = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
          kids.add(pool.submit(() -> {
            go.await();
            return new SigningKeyStore(db, Clock.systemUTC()).loadOrCreate().getKeyID();
          }));
        }
        go.countDown();
        List<String> seen = new ArrayList<>();
        for (Future<String> f : kids) {
          seen.add(f.get());
        }
        assertThat(seen).hasSize(NODES).containsOnly(seen.get(0));
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
