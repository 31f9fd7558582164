package org.fhirbox.storage;

import java.io.IOException;

/** A blob that holds fewer bytes than a read asks for: cut short outside the store, its content lost in part. */
public final class ShortBlobException extends IOException {
  private final long held;

  public ShortBlobException(BlobKey key, long held, long asked) {
    super("blob " + key + " has " + held + " bytes, not the " + asked + " asked for");
    this.held = held;
  }

  /** How many bytes the blob holds. */
  public long held() {
    return held;
  }
}
