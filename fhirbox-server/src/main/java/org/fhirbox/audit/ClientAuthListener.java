package org.fhirbox.audit;

/**
 * Told about clients authenticating for themselves: {@code client_credentials} tokens issued and
 * refused client authentication (token, revocation and introspection endpoints, and {@code Basic}
 * on the FHIR API). Successful {@code Basic} requests are not reported: one per request would
 * flood the trail. Called on the request thread; an implementation must be quick and must not block.
 */
public interface ClientAuthListener {
  /** {@code clientId} of {@code project} got a token for {@code scope} by {@code method} from {@code address}. */
  default void tokenIssued(String address, String clientId, String project, String method, String scope) {
  }

  /**
   * An authentication claiming {@code clientId} (null when none was named) by {@code method} was
   * refused for {@code reason}; {@code project} is the claimed client's, else the server's own.
   */
  default void refused(String address, String clientId, String project, String method, String reason) {
  }
}
