package org.fhirbox.http;

import java.util.Map;

class TokenModifiersH2Test extends TokenModifiersContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of();
  }
}
