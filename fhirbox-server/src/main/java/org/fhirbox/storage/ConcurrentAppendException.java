package org.fhirbox.storage;

import java.io.IOException;

/** Another request is appending to the same partial blob right now; nothing was written. */
public class ConcurrentAppendException extends IOException {
  public ConcurrentAppendException(BlobKey key) {
    super("partial blob " + key + " is being written by another request");
  }
}
