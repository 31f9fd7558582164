package org.fhirbox.model;

import java.time.Instant;
import java.util.Locale;

/**
 * One durable ingestion job: fetch {@code url} into a Binary and repoint the Attachment at
 * position {@code attachmentIndex} (FHIR terser order) of {@code resourceType/resourceId}, or,
 * when an edit moved its url, the Attachment with that url nearest to that position.
 * {@code leaseOwner}, {@code leaseUntil}, {@code lastError} and {@code binaryId} may be null.
 */
public record IngestJob(
    String id,
    String project,
    String resourceType,
    String resourceId,
    long resourceVersion,
    int attachmentIndex,
    String url,
    String contentType,
    State state,
    int attempts,
    Instant nextAttemptAt,
    String leaseOwner,
    Instant leaseUntil,
    String lastError,
    String binaryId,
    Instant created,
    Instant updated) {

  /** Where a job is in its life. DONE, FAILED and SKIPPED are final. */
  public enum State {
    QUEUED, RUNNING, DONE, FAILED, SKIPPED;

    public String code() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** {@code failed} → FAILED; throws IllegalArgumentException for anything else. */
    public static State parse(String code) {
      return valueOf(code.trim().toUpperCase(Locale.ROOT));
    }
  }

  /** A new queued job, due now. */
  public static IngestJob queued(String id, String project, String resourceType, String resourceId,
      long resourceVersion, int attachmentIndex, String url, String contentType, Instant now) {
    return new IngestJob(id, project, resourceType, resourceId, resourceVersion, attachmentIndex, url, contentType,
        State.QUEUED, 0, now, null, null, null, null, now, now);
  }
}
