package org.fhirbox.fhir;

import org.fhirbox.storage.BlobInfo;

/** Where the base64 {@code data} of a Binary resource goes before the resource is stored. */
public interface BinaryData {
  /** Stores decoded bytes; enforces the Binary policy (size, denied types). */
  BlobInfo store(byte[] data, String contentType);

  /** Deletes a blob stored by {@link #store} whose resource was never committed. */
  void discard(BlobInfo info);
}
