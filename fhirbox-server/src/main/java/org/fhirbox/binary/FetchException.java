package org.fhirbox.binary;

/**
 * A fetch of an external URL that did not produce content. {@link Kind} decides what a job does
 * next: retry a TRANSIENT failure (5xx, timeout, reset), give up on a PERMANENT one (4xx, too
 * large, content refused) or a REFUSED one (the URL policy or address guard said no).
 */
public class FetchException extends Exception {
  /** Why the fetch failed, as far as retrying is concerned. */
  public enum Kind { TRANSIENT, PERMANENT, REFUSED }

  private final Kind kind;
  private final boolean tooLarge;
  private final boolean hostAddress;

  public FetchException(Kind kind, String message, Throwable cause) {
    this(kind, message, cause, false, false);
  }

  private FetchException(Kind kind, String message, Throwable cause, boolean tooLarge, boolean hostAddress) {
    super(message, cause);
    this.kind = kind;
    this.tooLarge = tooLarge;
    this.hostAddress = hostAddress;
  }

  /**
   * Whether the failure tells what the server's resolver made of a host name: it does not resolve,
   * or only to addresses that are not fetched (loopback, private, ...). The message says which;
   * a caller's answer must not ({@code $import}), or it would map the server's internal DNS.
   */
  public boolean aboutHostAddress() {
    return hostAddress;
  }

  /** The host resolves only to addresses the guard refuses. */
  public static FetchException addressRefused(String reason) {
    return new FetchException(Kind.REFUSED, reason, null, false, true);
  }

  /** The host does not resolve (now): transient, as a resolver may be down for a while. */
  public static FetchException unresolved(String message, Throwable cause) {
    return new FetchException(Kind.TRANSIENT, message, cause, false, true);
  }

  /** Whether the content was over the Binary size limit. */
  public boolean tooLarge() {
    return tooLarge;
  }

  public static FetchException refused(String reason) {
    return new FetchException(Kind.REFUSED, reason, null);
  }

  public static FetchException permanent(String message) {
    return new FetchException(Kind.PERMANENT, message, null);
  }

  /** The upstream declared more content than a Binary may have: permanent, and 413 for {@code $import}. */
  public static FetchException tooLarge(String message) {
    return new FetchException(Kind.PERMANENT, message, null, true, false);
  }

  public static FetchException transientFailure(String message, Throwable cause) {
    return new FetchException(Kind.TRANSIENT, message, cause);
  }

  public Kind kind() {
    return kind;
  }
}
