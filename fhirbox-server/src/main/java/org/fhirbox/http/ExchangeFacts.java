package org.fhirbox.http;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
  public boolean sentPartOnly() {
    if (!answeredInPart()) {
      return false;
    }
    // one part that is the whole content (bytes=0-, or ranges merged into all of it) was a whole download
    Matcher m = WHOLE.matcher(String.valueOf(ex.response().getHeader("Content-Range")));
    return !(m.matches() && Long.parseLong(m.group(1)) + 1 == Long.parseLong(m.group(2)));
  }

  /** {@code Content-Range: bytes 0-(n-1)/n}: the last position and the length. */
  private static final Pattern WHOLE = Pattern.compile("bytes 0-(\\d{1,18})/(\\d{1,18})");

  @Override
  public Optional<String> param(String name) {
    return ex.paramAsSent(name);
  }
}
