package org.fhirbox.binary;

/**
 * A fetch of an external URL that did not produce content. {@link Kind} decides what a job does
 * next: retry a TRANSIENT failure (5xx, timeout, reset, a resolver that failed or did not answer),
 * give up on a PERMANENT one (4xx, too large, content refused, a host name that does not exist) or
 * a REFUSED one (the URL policy or address guard said no).
 */
public class FetchException extends Exception {
  /** Why the fetch failed, as far as retrying is concerned. */
  public enum Kind { TRANSIENT, PERMANENT, REFUSED }

  /**
   * What a caller that answers at once ({@code $import}) needs to know beyond the {@link Kind}:
   * content over the limit (413), a host that does not resolve to an address that is fetched
   * (one 400 that does not tell which), the DNS resolver that failed (502), did not answer in
   * time (504) or has as many lookups in flight as a fetch client runs (503), or the upstream
   * that did not answer in time (504: a timeout ran out, or its content came below the minimum rate).
   */
  public enum Detail {
    NONE, TOO_LARGE, HOST_ADDRESS, RESOLVER_FAILED, RESOLVER_TIMED_OUT, RESOLVER_BUSY, UPSTREAM_TIMED_OUT
  }

  private final Kind kind;
  private final Detail detail;
  private final java.time.Duration retryAfter;

  public FetchException(Kind kind, String message, Throwable cause) {
    this(kind, message, cause, Detail.NONE);
  }

  private FetchException(Kind kind, String message, Throwable cause, Detail detail) {
    this(kind, message, cause, detail, null);
  }

  private FetchException(Kind kind, String message, Throwable cause, Detail detail, java.time.Duration retryAfter) {
    super(message, cause);
    this.kind = kind;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  public Detail detail() {
    return detail;
  }

  /**
   * Whether the failure tells what the server's resolver made of a host name: it does not exist,
   * or resolves only to addresses that are not fetched (loopback, private, ...). The message says
   * which; a caller's answer must not ({@code $import}), or it would map the server's internal DNS.
   */
  public boolean aboutHostAddress() {
    return detail == Detail.HOST_ADDRESS;
  }

  /** The host resolves only to addresses the guard refuses. */
  public static FetchException addressRefused(String reason) {
    return new FetchException(Kind.REFUSED, reason, null, Detail.HOST_ADDRESS);
  }

  /**
   * The resolver answered that the host has no address (NXDOMAIN, or a name without one):
   * permanent, as a 4xx is; the resolver failing to answer is {@link #resolverFailed}.
   */
  public static FetchException unresolved(String message, Throwable cause) {
    return new FetchException(Kind.PERMANENT, message, cause, Detail.HOST_ADDRESS);
  }

  /** The resolver failed to answer for the host (SERVFAIL, unreachable): transient, whether it exists unknown. */
  public static FetchException resolverFailed(String message, Throwable cause) {
    return new FetchException(Kind.TRANSIENT, message, cause, Detail.RESOLVER_FAILED);
  }

  /** The resolver did not answer within the connect timeout: transient. */
  public static FetchException resolverTimedOut(String message, Throwable cause) {
    return new FetchException(Kind.TRANSIENT, message, cause, Detail.RESOLVER_TIMED_OUT);
  }

  /**
   * The upstream did not answer in time: no connection, response head or content within its
   * timeout, the whole fetch past the total timeout, or content below the minimum rate. Transient.
   */
  public static FetchException upstreamTimedOut(String message, Throwable cause) {
    return new FetchException(Kind.TRANSIENT, message, cause, Detail.UPSTREAM_TIMED_OUT);
  }

  /** Whether the upstream or the DNS resolver did not answer in time: a gateway's timeout (504). */
  public boolean timedOut() {
    return detail == Detail.UPSTREAM_TIMED_OUT || detail == Detail.RESOLVER_TIMED_OUT;
  }

  /** The same failure, kind, message and detail, with {@code cause} as its cause. */
  FetchException causedBy(Throwable cause) {
    return new FetchException(kind, getMessage(), cause, detail);
  }

  /** The fetcher has as many lookups in flight as it runs at once, so this one was not started: transient. */
  public static FetchException resolverBusy(String message) {
    return new FetchException(Kind.TRANSIENT, message, null, Detail.RESOLVER_BUSY);
  }

  /** Whether the content was over the Binary size limit. */
  public boolean tooLarge() {
    return detail == Detail.TOO_LARGE;
  }

  public static FetchException refused(String reason) {
    return new FetchException(Kind.REFUSED, reason, null);
  }

  public static FetchException permanent(String message) {
    return new FetchException(Kind.PERMANENT, message, null);
  }

  /** The upstream declared more content than a Binary may have: permanent, and 413 for {@code $import}. */
  public static FetchException tooLarge(String message) {
    return new FetchException(Kind.PERMANENT, message, null, Detail.TOO_LARGE);
  }

  public static FetchException transientFailure(String message, Throwable cause) {
    return new FetchException(Kind.TRANSIENT, message, cause);
  }

  /** A transient failure whose upstream asked not to be asked again before {@code retryAfter} (null: no time). */
  public static FetchException upstreamBusy(String message, java.time.Duration retryAfter) {
    return new FetchException(Kind.TRANSIENT, message, null, Detail.NONE, retryAfter);
  }

  /** How long the upstream asked to wait before the next attempt ({@code Retry-After}), if it said. */
  public java.util.Optional<java.time.Duration> retryAfter() {
    return java.util.Optional.ofNullable(retryAfter);
  }

  public Kind kind() {
    return kind;
  }
}
