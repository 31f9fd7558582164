package org.fhirbox.http;

import java.util.Optional;
import org.fhirbox.audit.AuditedRequest;

/** An {@link Exchange} as the audit trail sees it; every fact is read on demand. */
record ExchangeFacts(Exchange ex) implements AuditedRequest {
  @Override
  public String method() {
    return ex.method();
  }

  @Override
  public String path() {
    return ex.request().getRequestURI();
  }

  @Override
  public String address() {
    return ex.request().getRemoteAddr();
  }

  @Override
  public String header(String name) {
    return ex.header(name);
  }

  @Override
  public boolean answeredInPart() {
    return ex.response().getStatus() == 206;
  }

  @Override
  public Optional<String> param(String name) {
    return ex.paramAsSent(name);
  }
}
