package org.fhirbox.audit;

import org.fhirbox.auth.Principal;
import org.fhirbox.model.BinaryContent;
import org.hl7.fhir.r4.model.Binary;

/**
 * Told about Binary accesses after they succeeded (audit). Runs on the request thread after the
 * writing transaction committed, so an implementation must be quick and must not block.
 */
public interface BinaryListener {
  /** The raw content was sent ({@code GET|HEAD Binary/{id}[/_history/{v}]} with a non-FHIR Accept). */
  default void read(AuditedRequest request, Principal principal, BinaryContent content) {
  }

  /**
   * A signed URL was issued: by {@code $presigned-url}, or as the {@code url} of a Binary JSON read.
   * Also told of a {@code HEAD} of those, which sends no URL.
   */
  default void signed(AuditedRequest request, Principal principal, BinaryContent content) {
  }

  /**
   * A Binary version's FHIR form was sent without a signed URL: as XML, as a subset that leaves
   * {@code url} out, or with {@code FHIRBOX_BINARY_URL_FIELD=false}; also told of a {@code HEAD},
   * which sends neither.
   */
  default void resourceRead(AuditedRequest request, Principal principal, BinaryContent content) {
  }

  /** A Binary version was created or updated (raw, JSON, or in a batch/transaction Bundle). */
  default void written(AuditedRequest request, Principal principal, Binary binary, boolean created) {
  }

  /** {@code Binary/{id}} was deleted: {@code versionId} is the version that marks it deleted. */
  default void deleted(AuditedRequest request, Principal principal, String binaryId, long versionId) {
  }

  /**
   * A Binary version was stored through a presigned upload URL, whose request carries no
   * credentials: {@code issuedTo} is the client that asked for the URL (null for a URL issued before
   * URLs named it), {@code how} says which step stored it (the {@code PUT} to fhirbox, or the
   * confirmation of bytes a client put straight into the bucket). {@code request} is null when a
   * background job confirmed the upload.
   */
  default void uploadedByUrl(AuditedRequest request, String project, String issuedTo, Binary binary, boolean created,
      String how) {
  }

  /**
   * An ingestion job ({@code jobId}) fetched an external URL into {@code binary}: no request and
   * no client; the server acted on its own.
   */
  default void ingested(String project, Binary binary, String jobId) {
  }

  /**
   * An ingestion job ({@code jobId}) deleted the Binary it had created, {@code versionId} being
   * the version that marks it deleted: the Attachment changed, so nothing referenced it.
   */
  default void ingestionDiscarded(String project, String binaryId, long versionId, String jobId) {
  }
}
