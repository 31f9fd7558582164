package org.fhirbox.http;

import java.util.Map;

class NumberRangeSearchH2Test extends NumberRangeSearchContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of();
  }
}
