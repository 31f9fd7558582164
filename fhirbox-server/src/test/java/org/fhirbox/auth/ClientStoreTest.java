package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import java.nio.file.Path;
import java.util.List;
import org.fhirbox.db.Database;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClientStoreTest {
  @TempDir
  Path dir;
  private Database db;
  private ClientStore store;

  @BeforeEach
  void setUp() {
    db = AuthDb.open(dir);
    store = new ClientStore(db, new PasswordHasher(), new TestClock());
  }

  @AfterEach
  void tearDown() {
    db.close();
  }

  @Test
  void createdClientAuthenticatesWithTheSecretReturnedOnce() {
    ClientCredentials c = store.create("clinic-a", "system/Patient.rs admin", false);
    assertThat(c.scope()).isEqualTo("system/Patient.rs admin");
    assertThat(c.toString()).doesNotContain(c.clientSecret());
    OAuthClient found = store.find(c.clientId()).orElseThrow();
    assertThat(found.project()).isEqualTo("clinic-a");
    assertThat(found.admin()).isTrue();
    assertThat(found.disabled()).isFalse();
    assertThat(store.verifySecret(c.clientId(), c.clientSecret())).isPresent();
    assertThat(store.verifySecret(c.clientId(), "guess")).isEmpty();
    assertThat(store.verifySecret("nobody", c.clientSecret())).isEmpty();
  }

  @Test
  void aNewScopeGrantsAdminExactlyWhenItNamesAdmin() {
    ClientCredentials c = store.create("clinic-a", "system/*.cruds", true);
    assertThat(store.find(c.clientId()).orElseThrow().allowedScopes().isAdmin()).isTrue();

    assertThat(store.setScope(c.clientId(), "system/*.rs")).isTrue();
    OAuthClient demoted = store.find(c.clientId()).orElseThrow();
    assertThat(demoted.admin()).isFalse();
    assertThat(demoted.allowedScopes().isAdmin()).isFalse();
    assertThat(demoted.allowedScopes().toString()).doesNotContain("admin");

    assertThat(store.setScope(c.clientId(), "system/*.rs admin")).isTrue();
    assertThat(store.find(c.clientId()).orElseThrow().admin()).isTrue();
  }

  @Test
  void listIsPerProjectOrAll() {
    store.create("a", "system/*.rs", false);
    store.create("a", "system/*.rs", false);
    store.create("b", "system/*.rs", false);
    assertThat(store.list("a")).hasSize(2).allMatch(c -> c.project().equals("a"));
    assertThat(store.list("b")).hasSize(1);
    assertThat(store.list(null)).hasSize(3);
    assertThat(store.count()).isEqualTo(3);
  }

  @Test
  void disabledClientNoLongerAuthenticates() {
    ClientCredentials c = store.create("a", "system/*.rs", false);
    assertThat(store.verifySecret(c.clientId(), c.clientSecret())).isPresent();
    assertThat(store.disable(c.clientId())).isTrue();
    assertThat(store.verifySecret(c.clientId(), c.clientSecret())).isEmpty();
    assertThat(store.disable("unknown")).isFalse();
  }

  @Test
  void rotatedSecretReplacesTheOldOneAtOnce() {
    ClientCredentials c = store.create("a", "system/*.rs", false);
    assertThat(store.verifySecret(c.clientId(), c.clientSecret())).isPresent();
    ClientCredentials rotated = store.rotateSecret(c.clientId()).orElseThrow();
    assertThat(rotated.clientSecret()).isNotEqualTo(c.clientSecret());
    assertThat(store.verifySecret(c.clientId(), c.clientSecret())).isEmpty();
    assertThat(store.verifySecret(c.clientId(), rotated.clientSecret())).isPresent();
    assertThat(store.rotateSecret("unknown")).isEmpty();
  }

  @Test
  void createIfAbsentKeepsTheFirstClient() {
    assertThat(store.createIfAbsent("boot", "first-secret-0123456789", "default", "system/*.cruds", true)).isPresent();
    assertThat(store.createIfAbsent("boot", "second-secret-0123456789", "default", "system/*.cruds", true)).isEmpty();
    assertThat(store.verifySecret("boot", "first-secret-0123456789")).isPresent();
  }

  @Test
  void generatedSecretsAreStoredAsSaltedSha256AndChosenOnesStretched() throws Exception {
    ClientCredentials created = store.create("a", "system/*.rs", false);
    ClientCredentials generatedAdmin = store.createWithNewSecretIfAbsent("admin", "default", "system/*.cruds", true)
        .orElseThrow();
    store.createIfAbsent("ops", "a-secret-a-person-chose-0123", "default", "system/*.cruds", true);
    ClientCredentials rotated = store.rotateSecret(created.clientId()).orElseThrow();

    assertThat(storedHash(rotated.clientId())).startsWith("sha256$");
    assertThat(storedHash("admin")).startsWith("sha256$");
    assertThat(storedHash("ops")).startsWith("pbkdf2-sha256$600000$");
    assertThat(store.verifySecret("admin", generatedAdmin.clientSecret())).isPresent();
    assertThat(store.verifySecret("ops", "a-secret-a-person-chose-0123")).isPresent();
    assertThat(store.createWithNewSecretIfAbsent("admin", "default", "system/*.cruds", true)).isEmpty();
  }

  private String storedHash(String clientId) throws java.sql.SQLException {
    try (java.sql.Connection c = db.connection();
        java.sql.PreparedStatement ps = c.prepareStatement("SELECT secret_hash FROM oauth_client WHERE client_id = ?")) {
      ps.setString(1, clientId);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    }
  }

  @Test
  void jwksAcceptsPublicKeysOnly() throws Exception {
    ClientCredentials c = store.create("a", "system/*.rs", false);
    ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    assertThatThrownBy(() -> store.registerJwks(c.clientId(), new JWKSet(key)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(store.registerJwks(c.clientId(), new JWKSet(key.toPublicJWK()))).isTrue();
    assertThat(store.find(c.clientId()).orElseThrow().hasJwks()).isTrue();
    assertThat(store.jwks(c.clientId()).orElseThrow().getKeyByKeyId("k1")).isNotNull();
  }

  @Test
  void badProjectNamesAndScopesAreRejected() {
    assertThatThrownBy(() -> store.create("../x", "system/*.rs", false)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.create("a", "group/*.rs", false)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void publicClientHasNoSecretAndKeepsItsRedirectUrisExactly() {
    ClientCredentials c = store.create("clinic-a", "patient/*.rs openid fhirUser launch/patient", false,
        ClientProfile.of(true, false, List.of("https://app.example.org/cb?x=1", "http://localhost:3000/cb",
            "org.example.app:/cb")));
    assertThat(c.clientSecret()).isNull();
    OAuthClient found = store.find(c.clientId()).orElseThrow();
    assertThat(found.publicClient()).isTrue();
    assertThat(found.firstParty()).isFalse();
    assertThat(found.redirectUris()).containsExactly("https://app.example.org/cb?x=1", "http://localhost:3000/cb",
        "org.example.app:/cb");
    assertThat(found.hasRedirectUri("https://app.example.org/cb?x=1")).isTrue();
    assertThat(found.hasRedirectUri("https://app.example.org/cb")).isFalse();
    assertThat(found.hasRedirectUri("https://APP.example.org/cb?x=1")).isFalse();
    assertThat(found.hasRedirectUri("http://localhost:3001/cb")).as("a host name keeps its port").isFalse();
    assertThat(store.verifySecret(c.clientId(), "")).isEmpty();
    assertThat(store.verifySecret(c.clientId(), "null")).isEmpty();
    assertThatThrownBy(() -> store.rotateSecret(c.clientId())).isInstanceOf(IllegalArgumentException.class);
    assertThat(store.setRedirectUris(c.clientId(), List.of("https://other.example.org/cb"))).isTrue();
    assertThat(store.find(c.clientId()).orElseThrow().redirectUris()).containsExactly("https://other.example.org/cb");
    assertThatThrownBy(() -> store.setRedirectUris(c.clientId(), List.of()))
        .hasMessageContaining("at least one redirect URI");
  }

  @Test
  void aLoopbackIpRedirectUriMatchesOnAnyPort() {
    ClientCredentials c = store.create("clinic-a", "user/*.rs", false,
        ClientProfile.of(true, false, List.of("http://[::1]:8080/cb?app=1", "http://127.0.0.1/done")));
    OAuthClient found = store.find(c.clientId()).orElseThrow();
    assertThat(found.hasRedirectUri("http://[::1]:61000/cb?app=1")).isTrue();
    assertThat(found.hasRedirectUri("http://[::1]/cb?app=1")).isTrue();
    assertThat(found.hasRedirectUri("http://127.0.0.1:5000/done")).isTrue();
    assertThat(found.hasRedirectUri("http://[::1]:61000/cb?app=2")).isFalse();
    assertThat(found.hasRedirectUri("http://[::1]:61000/cb")).isFalse();
    assertThat(found.hasRedirectUri("http://127.0.0.1:5000/done/")).isFalse();
    assertThat(found.hasRedirectUri("http://127.0.0.1:5000x/done")).isFalse();
    assertThat(found.hasRedirectUri("http://127.0.0.1:5000@evil.example.org/done")).isFalse();
    assertThat(found.hasRedirectUri(null)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"http://app.example.org/cb", "https://app.example.org/cb#frag", "/relative/cb",
      "javascript:alert(1)", "data:text/html,x", "https://user@app.example.org/cb", "not a uri"})
  void unsafeRedirectUrisAreRefused(String uri) {
    assertThatThrownBy(() -> ClientProfile.of(true, false, List.of(uri))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void idTokensAreRs256UnlessTheClientAsksForEs256() {
    OAuthClient plain = store.find(store.create("clinic-a", "openid", false,
        ClientProfile.of(true, false, List.of("https://app.example.org/cb"))).clientId()).orElseThrow();
    OAuthClient es = store.find(store.create("clinic-a", "openid", false,
        ClientProfile.of(true, false, List.of("https://app.example.org/cb"), "ES256")).clientId()).orElseThrow();
    assertThat(plain.idTokenAlg()).isEqualTo("RS256");
    assertThat(es.idTokenAlg()).isEqualTo("ES256");
    for (String refused : new String[] {"HS256", "none", "es256", ""}) {
      assertThatThrownBy(() -> ClientProfile.of(true, false, List.of("https://app.example.org/cb"), refused))
          .as(refused).hasMessageContaining("RS256 or ES256");
    }
  }

  @Test
  void aPublicClientNeedsARedirectUri() {
    assertThatThrownBy(() -> ClientProfile.of(true, false, List.of()))
        .hasMessageContaining("needs at least one redirect URI");
    assertThat(ClientProfile.of(false, true, List.of()).firstParty()).isTrue();
  }
}
