package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.fhirbox.db.Database;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PasswordHasherTest {
  private final PasswordHasher hasher = new PasswordHasher();

  @Test
  void hashVerifiesTheSameSecretOnly() {
    String secret = hasher.newSecret();
    String hash = hasher.hash(secret);
    assertThat(hasher.verify(secret, hash)).isTrue();
    assertThat(hasher.verify(secret + "x", hash)).isFalse();
    assertThat(hasher.verify("", hash)).isFalse();
  }

  @Test
  void hashIsSaltedAndEncodedWithItsParameters() {
    String a = hasher.hash("same secret");
    String b = hasher.hash("same secret");
    assertThat(a).isNotEqualTo(b).startsWith("pbkdf2-sha256$600000$").doesNotContain("same secret");
    assertThat(a.split("\\$")).hasSize(4);
  }

  @Test
  void generatedSecretHashIsSaltedSha256AndVerifiesTheSameSecretOnly() {
    String secret = hasher.newSecret();
    String a = hasher.hashGenerated(secret);
    String b = hasher.hashGenerated(secret);

    assertThat(a).isNotEqualTo(b).startsWith("sha256$").doesNotContain(secret);
    assertThat(a.split("\\$")).hasSize(3);
    assertThat(hasher.verify(secret, a)).isTrue();
    assertThat(hasher.verify(secret, b)).isTrue();
    assertThat(hasher.verify(secret.substring(1), a)).isFalse();
    assertThat(hasher.verify("", a)).isFalse();
  }

  @Test
  void hashesMadeWithAnEarlierIterationCountStillVerify() {
    PasswordHasher older = new PasswordHasher(new java.security.SecureRandom(), 210_000);
    String stored = older.hash("a secret chosen before the count was raised");

    assertThat(stored).startsWith("pbkdf2-sha256$210000$");
    assertThat(hasher.verify("a secret chosen before the count was raised", stored)).isTrue();
    assertThat(hasher.verify("another secret", stored)).isFalse();
  }

  @Test
  void malformedHashNeverVerifies() {
    assertThat(hasher.verify("x", "plain")).isFalse();
    assertThat(hasher.verify("x", "pbkdf2-sha256$abc$AAAA$AAAA")).isFalse();
    assertThat(hasher.verify("x", "pbkdf2-sha256$1000$!!$AAAA")).isFalse();
    assertThat(hasher.verify("x", null)).isFalse();
    assertThat(hasher.verify("x", "sha256$AAAA")).isFalse();
    assertThat(hasher.verify("x", "sha256$!!$AAAA")).isFalse();
    assertThat(hasher.verify("x", "sha256$AAAA$AAAA$AAAA")).isFalse();
  }

  @Test
  void generatedSecretsAreLongAndDistinct() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      String s = hasher.newSecret();
      assertThat(s).hasSize(43).matches("[A-Za-z0-9_-]+");
      seen.add(s);
    }
    assertThat(seen).hasSize(100);
  }

  @Test
  void repeatedBasicAuthenticationSkipsPbkdf2WithinTheCacheWindow(@TempDir Path dir) {
    try (Database db = AuthDb.open(dir)) {
      ClientStore store = new ClientStore(db, hasher, new TestClock());
      ClientCredentials c = store.createIfAbsent("chosen", "a-secret-a-person-chose-0123", "p1", "system/*.rs", false)
          .orElseThrow();
      long t0 = System.nanoTime();
      assertThat(store.verifySecret(c.clientId(), c.clientSecret())).isPresent();
      long first = System.nanoTime() - t0;
      long t1 = System.nanoTime();
      for (int i = 0; i < 20; i++) {
        assertThat(store.verifySecret(c.clientId(), c.clientSecret())).isPresent();
      }
      long cachedEach = (System.nanoTime() - t1) / 20;
      System.out.printf("PBKDF2-SHA256 600000 iterations: first verify %.1f ms, cached verify %.2f ms%n",
          first / 1e6, cachedEach / 1e6);
      assertThat(cachedEach).isLessThan(first);
      assertThat(store.verifySecret(c.clientId(), "wrong")).isEmpty();
    }
  }
}
