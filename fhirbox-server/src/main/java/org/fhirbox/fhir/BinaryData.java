package org.fhirbox.fhir;

import org.fhirbox.storage.BlobInfo;

/** Where the base64 {@code data} of a Binary resource goes before the resource is stored. */
public interface BinaryData {
  /** Stores decoded bytes; enforces the Binary policy (size, denied types). */
  BlobInfo store(byte[] data, String contentType);

  /** Enforces the Binary policy (denied types, stored length) on the content type of bytes kept from a previous version. */
  void checkKept(String contentType);

  /**
   * Deletes a blob stored by {@link #store} after {@code failure} of the write that would have
   * named it, unless that write may have been committed all the same (the orphan sweeper then
   * judges the blob).
   */
  void discardAfter(BlobInfo info, RuntimeException failure);

  /**
   * Deletes a blob stored by {@link #store} that the committed write does not name (a conditional
   * create answered with the resource it matched); nothing for null. Never throws: a blob it
   * cannot delete is left to the orphan sweeper.
   */
  void discard(BlobInfo info);
}
