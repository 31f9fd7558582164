package org.fhirbox.http;

import java.util.Map;

class MetaSearchH2Test extends MetaSearchContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of();
  }
}
