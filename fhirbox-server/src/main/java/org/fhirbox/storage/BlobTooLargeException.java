package org.fhirbox.storage;

import java.io.IOException;

/** The content exceeded the configured size limit; nothing was stored. */
public class BlobTooLargeException extends IOException {
  private final long limit;

  public BlobTooLargeException(long limit) {
    super("content exceeds the limit of " + limit + " bytes");
    this.limit = limit;
  }

  public long limit() {
    return limit;
  }
}
