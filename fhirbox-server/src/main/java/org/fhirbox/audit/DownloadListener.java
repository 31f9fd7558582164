package org.fhirbox.audit;

import org.fhirbox.model.BinaryContent;

/** Told about every {@code /storage} download that passed signature verification (audit). */
public interface DownloadListener {
  void downloaded(AuditedRequest request, BinaryContent content);
}
