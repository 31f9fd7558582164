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
  @ValueSource(strings = {"users/*.read", "practitioner/Patient.rs", "system/Patient", "system/*.x", "system/*.rc",
      "system/*.rr", "system/patient.rs", "system/Observation.rs?category=lab", "openid2",
      "launch/encounter", "patient/*"})
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
      "system/*.cruds          | system/*.r system/Patient.rs       | system/*.r system/Patient.rs",
      "user/*.cruds            | patient/Observation.rs             | patient/Observation.rs",
      "user/*.cruds            | user/Patient.read patient/*.rs     | user/Patient.rs patient/*.rs",
      "user/Patient.rs         | system/Patient.rs                  | ''",
      "patient/*.rs            | user/*.rs                          | ''",
      "user/*.rs openid fhirUser | openid fhirUser offline_access user/*.r | user/*.r fhirUser openid"
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

  @Test
  void smartContextsAndIdentityScopesParseToTheirCanonicalForm() {
    Scopes s = Scopes.parse("launch/patient patient/Observation.read openid user/Patient.rs fhirUser "
        + "offline_access system/Binary.c");
    assertThat(s).hasToString(
        "system/Binary.c user/Patient.rs patient/Observation.rs fhirUser launch/patient offline_access openid");
    assertThat(s.has("offline_access")).isTrue();
    assertThat(s.has("online_access")).isFalse();
    assertThat(s.identityAndLaunch()).containsExactly("fhirUser", "launch/patient", "offline_access", "openid");
  }

  @Test
  void patientGrantsAreLimitedToTheCompartmentUnlessAWiderGrantCoversTheRequest() {
    Scopes s = Scopes.parse("patient/*.rs user/Patient.r");
    assertThat(s.allows("Observation", READ)).isTrue();
    assertThat(s.limitedToPatient("Observation", READ)).isTrue();
    assertThat(s.limitedToPatient("Patient", READ)).isFalse();
    assertThat(s.limitedToPatient("Patient", SEARCH)).isTrue();
    assertThat(s.allows("Observation", UPDATE)).isFalse();
    assertThat(s.limitedToPatient("Observation", UPDATE)).isFalse();
    assertThat(Scopes.parse("system/*.rs").limitedToPatient("Observation", READ)).isFalse();
  }

  @Test
  void identityScopesAloneGrantNoResourceAccess() {
    Scopes s = Scopes.parse("openid fhirUser launch/patient");
    assertThat(s.isEmpty()).isFalse();
    assertThat(s.allows("Patient", READ)).isFalse();
    assertThat(s.types()).isEmpty();
  }
}
