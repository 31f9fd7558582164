package org.fhirbox.fhir;

import org.fhirbox.storage.BlobInfo;
import org.hl7.fhir.r4.model.Binary;

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

  /**
   * {@code b}'s contentType as the body wrote it, the one to check: HAPI's {@code getContentType()}
   * trims a code, while the stored resource keeps it as written ({@code "text/plain\n"});
   * {@code application/octet-stream} when there is none.
   */
  static String contentType(Binary b) {
    return b.hasContentType() ? b.getContentTypeElement().getValueAsString() : "application/octet-stream";
  }
}
