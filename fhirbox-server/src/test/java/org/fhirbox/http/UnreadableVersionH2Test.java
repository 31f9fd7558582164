package org.fhirbox.http;

import java.util.Map;

class UnreadableVersionH2Test extends UnreadableVersionContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of();
  }
}
