package org.fhirbox.client;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Produces the {@code Authorization} header for requests to the FHIR API. */
sealed interface Authorizer permits Authorizer.Anonymous, Authorizer.Fixed, Authorizer.Tokens {
  /** The header value, or null to send none. */
  String header();

  /** Drops {@code rejected} after a 401; true when a retry may get a different header. */
  default boolean invalidate(String rejected) {
    return false;
  }

  static String basic(String id, String secret) {
    String pair = id + ":" + secret;
    return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
  }

  /** No credentials. */
  final class Anonymous implements Authorizer {
    @Override
    public String header() {
      return null;
    }
  }

  /** Basic credentials or a caller-supplied bearer token: nothing to refresh. */
  final class Fixed implements Authorizer {
    private final String header;

    Fixed(String header) {
      this.header = header;
    }

    @Override
    public String header() {
      return header;
    }

    @Override
    public String toString() {
      return "Fixed[redacted]";
    }
  }

  /** OAuth2 client credentials, through a shared {@link TokenCache}. */
  final class Tokens implements Authorizer {
    private final TokenCache cache;

    Tokens(TokenCache cache) {
      this.cache = cache;
    }

    TokenCache cache() {
      return cache;
    }

    @Override
    public String header() {
      return "Bearer " + cache.token();
    }

    @Override
    public boolean invalidate(String rejected) {
      cache.invalidate(rejected.substring("Bearer ".length()));
      return true;
    }
  }
}
