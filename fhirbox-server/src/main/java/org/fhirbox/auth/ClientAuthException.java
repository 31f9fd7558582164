package org.fhirbox.auth;

/**
 * Client authentication failed ({@code invalid_client}) or is throttled ({@link #retryAfterSeconds()}
 * &gt; 0). The message is safe to show: it never contains a secret or an assertion. The rest is
 * for the security audit trail, never for the caller: {@link #reason()} says more than the
 * message does (an unknown or disabled client), and must not be shown to it.
 */
public final class ClientAuthException extends RuntimeException {
  private final long retryAfterSeconds;
  private final String clientId;
  private final String project;
  private final String reason;
  private final boolean toRecord;

  ClientAuthException(String message, long retryAfterSeconds, String clientId, String project, String reason,
      boolean toRecord) {
    super(message, null, false, false);
    this.retryAfterSeconds = retryAfterSeconds;
    this.clientId = clientId;
    this.project = project;
    this.reason = reason;
    this.toRecord = toRecord;
  }

  public boolean throttled() {
    return retryAfterSeconds > 0;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /**
   * The client id the caller claimed, or null when it named none: as sent when it is a client's,
   * else as {@link ClaimedText#clientId} keeps it (it may be a secret sent in the wrong place).
   */
  public String clientId() {
    return clientId;
  }

  /**
   * The project whose audit trail the refusal joins: the claimed client's (a disabled one's too)
   * when it exists, else {@link AuthModule#SERVER_PROJECT}, where the bootstrap admin client lives.
   */
  public String project() {
    return project;
  }

  /** Why it was refused, for the audit trail only (it tells an unknown client from a wrong secret). */
  public String reason() {
    return reason;
  }

  /**
   * Whether to record this refusal: always for a failed check; for a throttled one only when it
   * is the first refused by its limit within a minute (a throttled attempt costs the caller
   * nothing, so recording each would let anyone flood the audit trail).
   */
  public boolean toRecord() {
    return toRecord;
  }
}
