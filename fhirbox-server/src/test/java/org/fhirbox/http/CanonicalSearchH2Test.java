package org.fhirbox.http;

import java.util.Map;

class CanonicalSearchH2Test extends CanonicalSearchContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of();
  }
}
