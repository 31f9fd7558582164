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

  public FetchException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public static FetchException refused(String reason) {
    return new FetchException(Kind.REFUSED, reason, null);
  }

  public static FetchException permanent(String message) {
    return new FetchException(Kind.PERMANENT, message, null);
  }

  public static FetchException transientFailure(String message, Throwable cause) {
    return new FetchException(Kind.TRANSIENT, message, cause);
  }

  public Kind kind() {
    return kind;
  }
}
