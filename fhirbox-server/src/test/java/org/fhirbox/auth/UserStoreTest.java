package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.SecureRandom;
import org.fhirbox.db.Database;
import org.fhirbox.testing.TestClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UserStoreTest {
  @TempDir
  Path dir;
  private Database db;
  private UserStore users;

  @BeforeEach
  void setUp() {
    db = AuthDb.open(dir);
    PasswordHasher hasher = new PasswordHasher(new SecureRandom(), 1_000);
    TestClock clock = new TestClock();
    users = new UserStore(db, hasher, new ClientStore(db, hasher, clock), clock);
  }

  @AfterEach
  void tearDown() {
    db.close();
  }

  @Test
  void userSignsInWithThePasswordSetForThemAndNothingElse() {
    User u = users.create("clinic-a", " Ada@Example.org ", "Ada Lovelace", "Practitioner/p1", "user/*.cruds", false)
        .orElseThrow();
    assertThat(u.email()).isEqualTo("ada@example.org");
    assertThat(u.hasPassword()).isFalse();
    assertThat(users.verifyPassword("clinic-a", "ada@example.org", "")).isEmpty();
    assertThat(users.setPassword(u.id(), "correct horse battery")).isTrue();
    assertThat(users.verifyPassword("clinic-a", "ADA@example.org", "correct horse battery")).map(User::id)
        .contains(u.id());
    assertThat(users.verifyPassword("clinic-a", "ada@example.org", "correct horse batterY")).isEmpty();
    assertThat(users.verifyPassword("clinic-b", "ada@example.org", "correct horse battery")).isEmpty();
    assertThat(users.find(u.id()).orElseThrow().hasPassword()).isTrue();
  }

  @Test
  void emailIsUniqueInAProjectOnly() {
    assertThat(users.create("a", "x@example.org", "X", "Patient/1", "patient/*.rs", false)).isPresent();
    assertThat(users.create("a", "X@Example.org", "X2", "Patient/2", "patient/*.rs", false)).isEmpty();
    assertThat(users.create("b", "x@example.org", "X", "Patient/1", "patient/*.rs", false)).isPresent();
    assertThat(users.list("a")).hasSize(1);
    assertThat(users.list(null)).hasSize(2);
  }

  @Test
  void disabledUserCannotSignIn() {
    User u = users.create("a", "d@example.org", "D", "Practitioner/9", "user/*.rs", true).orElseThrow();
    assertThat(u.admin()).isTrue();
    users.setPassword(u.id(), "twelve chars!");
    assertThat(users.disable(u.id())).isTrue();
    assertThat(users.verifyPassword("a", "d@example.org", "twelve chars!")).isEmpty();
    assertThat(users.find(u.id()).orElseThrow().disabled()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 11, 257})
  void passwordsOutsideTwelveTo256CharactersAreRefused(int length) {
    User u = users.create("a", "p@example.org", "P", "Practitioner/1", "user/*.rs", false).orElseThrow();
    assertThatThrownBy(() -> users.setPassword(u.id(), "x".repeat(length)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("12 to 256");
  }

  @Test
  void malformedFieldsAreRefusedWithTheirName() {
    assertThatThrownBy(() -> users.create("a", "not-an-email", "N", "Practitioner/1", "user/*.rs", false))
        .hasMessageContaining("email");
    assertThatThrownBy(() -> users.create("a", "n@example.org", "N", "Organization/1", "user/*.rs", false))
        .hasMessageContaining("fhirUser");
    assertThatThrownBy(() -> users.create("a", "n@example.org", "N", "Patient/1", "bogus", false))
        .hasMessageContaining("scope");
  }
}
