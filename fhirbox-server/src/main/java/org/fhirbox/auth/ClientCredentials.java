package org.fhirbox.auth;

/** A client's credentials as issued once, at creation or rotation. {@link #toString()} hides the secret. */
public record ClientCredentials(String project, String clientId, String clientSecret, String scope) {
  @Override
  public String toString() {
    return "ClientCredentials[project=" + project + ", clientId=" + clientId + ", clientSecret=***, scope=" + scope + "]";
  }
}
