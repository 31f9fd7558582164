package org.fhirbox.model;

import java.time.Instant;

/**
 * A presigned direct upload straight to S3 that fhirbox has not finished with: what its URL
 * granted, until the reserved Binary exists and its object was read once for its SHA-1.
 *
 * @param clientId the client the URL was issued to
 * @param userId the user whose token asked for the URL; null for a client acting for itself (and
 *     for an upload recorded before the user was)
 * @param blobKey the blob whose object the client writes
 * @param uploadId the S3 multipart upload of a part-wise upload; null for one PUT
 * @param sha256Hex the declared SHA-256; null when none was declared (a single PUT then goes to
 *     the blob's staging object, unless a SHA-1 was declared)
 * @param sha1Hex the declared SHA-1, or null; when declared, the confirmation reads the object to
 *     check it before the Binary exists
 * @param expires when the upload URL expires
 * @param nextCheck when the background check looks at it next
 * @param confirmed true once the Binary exists and only its SHA-1 is still to be learnt by
 *     reading the object (the size and SHA-256 were vouched for by the store)
 */
public record PendingUpload(
    String binaryId,
    String project,
    String clientId,
    String userId,
    String blobKey,
    String uploadId,
    long size,
    String sha256Hex,
    String sha1Hex,
    String contentType,
    String filename,
    String securityContext,
    Instant expires,
    Instant nextCheck,
    boolean confirmed) {}
