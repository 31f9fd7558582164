package org.fhirbox.auth;

import java.util.Map;

class ForeignReferenceH2Test extends ForeignReferenceContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of();
  }
}
