package org.fhirbox.model;

import java.time.Instant;

/**
 * A presigned direct upload straight to S3 that fhirbox has not confirmed yet: what its URL
 * granted, until the reserved Binary exists.
 *
 * @param clientId the client the URL was issued to
 * @param blobKey the blob whose object the client writes
 * @param uploadId the S3 multipart upload of a part-wise upload; null for one PUT
 * @param expires when the upload URL expires
 * @param nextCheck when the background check looks at it next
 */
public record PendingUpload(
    String binaryId,
    String project,
    String clientId,
    String blobKey,
    String uploadId,
    long size,
    String sha256Hex,
    String contentType,
    String filename,
    String securityContext,
    Instant expires,
    Instant nextCheck) {}
