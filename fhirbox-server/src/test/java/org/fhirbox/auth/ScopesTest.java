package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.fhirbox.auth.AccessPolicy.Interaction.CREATE;
import static org.fhirbox.auth.AccessPolicy.Interaction.DELETE;
import static org.fhirbox.auth.AccessPolicy.Interaction.READ;
import static org.fhirbox.auth.AccessPolicy.Interaction.SEARCH;
import static org.fhirbox.auth.AccessPolicy.Interaction.UPDATE;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ScopesTest {
  @Test
  void wildcardCrudsAllowsEverythingButAdmin() {
    Scopes s = Scopes.parse("system/*.cruds");
    for (AccessPolicy.Interaction i : AccessPolicy.Interaction.values()) {
      assertThat(s.allows("Patient", i)).isTrue();
      assertThat(s.allows("*", i)).isTrue();
    }
    assertThat(s.isAdmin()).isFalse();
  }

  @Test
  void typedScopeAllowsOnlyItsTypeAndLetters() {
    Scopes s = Scopes.parse("system/Patient.rs system/Binary.c");
    assertThat(s.allows("Patient", READ)).isTrue();
    assertThat(s.allows("Patient", SEARCH)).isTrue();
    assertThat(s.allows("Patient", CREATE)).isFalse();
    assertThat(s.allows("Binary", CREATE)).isTrue();
    assertThat(s.allows("Binary", READ)).isFalse();
    assertThat(s.allows("Observation", READ)).isFalse();
  }

  @Test
  void systemWideReadNeedsAWildcardReadScope() {
    assertThat(Scopes.parse("system/Patient.rs").allows("*", READ)).isFalse();
    assertThat(Scopes.parse("system/*.s").allows("*", READ)).isFalse();
    assertThat(Scopes.parse("system/*.r").allows("*", READ)).isTrue();
  }

  @ParameterizedTest
  @CsvSource({
      "system/*.read, system/*.rs",
      "system/*.write, system/*.cud",
      "system/*.*, system/*.cruds",
      "system/Patient.read system/Patient.write, system/Patient.cruds",
      "admin system/Binary.c, system/Binary.c admin",
      "system/Patient.rs system/*.r, system/*.r system/Patient.rs"
  })
  void v1FormsMapToCanonicalV2(String in, String canonical) {
    assertThat(Scopes.parse(in)).hasToString(canonical);
  }

  @ParameterizedTest
  @ValueSource(strings = {"user/*.read", "patient/Patient.rs", "system/Patient", "system/*.x", "system/*.rc",
      "system/*.rr", "system/patient.rs", "system/Observation.rs?category=lab", "openid"})
  void unsupportedOrMalformedScopesAreRejected(String scope) {
    assertThatThrownBy(() -> Scopes.parse(scope)).isInstanceOf(IllegalArgumentException.class);
    assertThat(Scopes.tryParse(scope)).isEmpty();
  }

  @Test
  void adminScopeMakesAnAdmin() {
    assertThat(Scopes.parse("admin").isAdmin()).isTrue();
    assertThat(Scopes.parse("system/*.rs").withAdmin(true).isAdmin()).isTrue();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // allowed               | requested                          | granted
      "system/*.cruds          | system/Patient.r                   | system/Patient.r",
      "system/*.cruds          | ''                                 | system/*.cruds",
      "system/*.cruds admin    | ''                                 | system/*.cruds admin",
      "system/*.cruds          | admin                              | ''",
      "system/*.cruds admin    | system/*.read admin                | system/*.rs admin",
      "system/Patient.rs       | system/*.cruds                     | system/Patient.rs",
      "system/Patient.rs       | system/Patient.cruds               | system/Patient.rs",
      "system/Patient.rs       | system/Observation.rs              | ''",
      "system/*.rs             | system/*.write                     | ''",
      "system/*.rs system/Binary.c | system/*.cruds                 | system/*.rs system/Binary.c",
      "system/*.cruds          | system/*.rs system/Patient.r       | system/*.rs",
      "system/*.cruds          | system/*.r system/Patient.rs       | system/*.r system/Patient.rs"
  })
  void requestedScopesAreNarrowedToTheAllowedOnes(String allowed, String requested, String granted) {
    assertThat(Scopes.parse(allowed).narrow(Scopes.parse(requested))).hasToString(granted);
  }

  @Test
  void narrowedScopesAllowNoMoreThanBothSides() {
    Scopes granted = Scopes.parse("system/Patient.rs system/Binary.cr").narrow(Scopes.parse("system/*.rud"));
    assertThat(granted.allows("Patient", READ)).isTrue();
    assertThat(granted.allows("Patient", SEARCH)).isFalse();
    assertThat(granted.allows("Binary", UPDATE)).isFalse();
    assertThat(granted.allows("Binary", DELETE)).isFalse();
    assertThat(granted.allows("Binary", READ)).isTrue();
  }
}
