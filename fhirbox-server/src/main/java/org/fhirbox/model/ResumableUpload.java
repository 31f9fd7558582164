package org.fhirbox.model;

import java.time.Instant;
import org.fhirbox.storage.PartialBlob;

/**
 * One resumable (tus) upload as the database keeps it: who owns it, what the Binary will be,
 * how far it got ({@code blob}, whose length is the upload's offset), who is writing to it now
 * ({@code leaseOwner}, while {@code leased}), and once finished the Binary version it became.
 *
 * @param binaryId the Binary a finished upload makes a new version of; null for a new Binary
 * @param length the whole length; null while the client defers it
 * @param securityContext the securityContext resolved when the upload was created
 * @param securityContextKept whether the upload named none over an existing Binary, whose
 *     securityContext then is the one the Binary has when the upload completes
 * @param metadata {@code Upload-Metadata} as sent, repeated on {@code HEAD}; null when none
 * @param leased whether a request held the upload's lease when the row was read, judged by the
 *     database's clock (the same for every node), not by this node's
 */
public record ResumableUpload(
    String id,
    String project,
    String clientId,
    String userId,
    String binaryId,
    String contentType,
    String filename,
    String securityContext,
    boolean securityContextKept,
    String metadata,
    Long length,
    PartialBlob blob,
    String leaseOwner,
    boolean leased,
    String resultId,
    Long resultVersion,
    Instant created,
    Instant updated,
    Instant expires) {

  /** Bytes stored so far: the tus {@code Upload-Offset}. */
  public long offset() {
    return blob.length();
  }

  /** Whether the Binary version was committed. */
  public boolean finished() {
    return resultId != null;
  }

  /** This upload holding {@code blob} of {@code length} (null: deferred), free, expiring at {@code expires}. */
  public ResumableUpload withProgress(PartialBlob blob, Long length, Instant expires) {
    return new ResumableUpload(id, project, clientId, userId, binaryId, contentType, filename, securityContext,
        securityContextKept, metadata, length, blob, null, false, resultId, resultVersion, created, updated, expires);
  }

  /** This upload finished as version {@code resultVersion} of Binary {@code resultId} at {@code at}, free. */
  public ResumableUpload finishedAs(String resultId, long resultVersion, Instant at, Instant expires) {
    return new ResumableUpload(id, project, clientId, userId, binaryId, contentType, filename, securityContext,
        securityContextKept, metadata, length, blob, null, false, resultId, resultVersion, created, at, expires);
  }

  /** Whether every byte arrived (the Binary may still have to be committed). */
  public boolean complete() {
    return length != null && blob.length() == length;
  }
}
