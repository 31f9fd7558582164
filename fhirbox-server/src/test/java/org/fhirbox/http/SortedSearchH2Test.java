package org.fhirbox.http;

import java.util.Map;

class SortedSearchH2Test extends SortedSearchContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of();
  }
}
