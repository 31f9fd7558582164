package org.fhirbox.http;

import java.util.Map;

class TransactionSearchH2Test extends TransactionSearchContract {
  @Override
  protected Map<String, String> settings() {
    return Map.of();
  }
}
