package org.fhirbox.auth;

import java.util.Map;

class PatientScopeH2Test extends PatientScopeContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of();
  }
}
