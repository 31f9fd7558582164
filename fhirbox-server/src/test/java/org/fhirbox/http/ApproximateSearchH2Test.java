package org.fhirbox.http;

import java.util.Map;

class ApproximateSearchH2Test extends ApproximateSearchContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of();
  }
}
