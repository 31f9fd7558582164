package org.fhirbox.auth;

/**
 * Client authentication failed ({@code invalid_client}) or is throttled ({@link #retryAfterSeconds()}
 * &gt; 0). The message is safe to show: it never contains a secret or an assertion.
 */
public final class ClientAuthException extends RuntimeException {
  private final long retryAfterSeconds;

  ClientAuthException(String message, long retryAfterSeconds) {
    super(message, null, false, false);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public boolean throttled() {
    return retryAfterSeconds > 0;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
