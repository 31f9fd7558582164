package org.fhirbox.binary;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.fhirbox.audit.AuditedRequest;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.Written;
import org.fhirbox.model.ResumableUpload;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobStore;
import org.fhirbox.storage.PartialBlob;
import org.fhirbox.storage.ResumableBlobs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The completion of a resumable upload whose bytes are all stored: under the upload's lease, its
 * blob is completed, its digests settled (read once more when the running ones do not cover it)
 * and its Binary committed with the upload's row in one transaction. The lease is renewed while
 * that runs, so that a long completion is not taken over by a HEAD, which would read the blob
 * again; a HEAD meanwhile gets 423 with {@code Retry-After} (see {@link #committing}).
 */
final class UploadCompletions {
  private static final Logger LOG = LoggerFactory.getLogger(UploadCompletions.class);
  /** What a HEAD asking during a completion is told to wait before it asks again. */
  static final long RETRY_AFTER_SECONDS = 1;

  private final ResourceStore store;
  private final BlobStore blobStore;
  private final ResumableBlobs blobs;
  private final BinaryService binaries;
  private final UploadIssuers issuers;
  private final Clock clock;
  private final Duration expiry;
  private final RunningDigests running;
  private final UploadLeases leases;

  UploadCompletions(ResourceStore store, BlobStore blobStore, BinaryService binaries, UploadIssuers issuers,
      Duration expiry, Clock clock, RunningDigests running, UploadLeases leases) {
    this.store = store;
    this.blobStore = blobStore;
    this.blobs = blobStore.resumable();
    this.binaries = binaries;
    this.issuers = issuers;
    this.expiry = expiry;
    this.clock = clock;
    this.running = running;
    this.leases = leases;
  }

  /**
   * 423 (Locked) with {@code Retry-After} for a request that finds {@code u} complete while another
   * request commits its Binary: answering with the offset alone would tell a tus client the upload
   * is done without naming its Binary, and a 409 would make tus-js-client (and Uppy) forget the
   * upload and send the whole file again, as for any 4xx answer to its HEAD but 423.
   */
  static FhirException committing(ResumableUpload u) {
    return FhirException.locked("every byte of upload " + u.id() + " is stored and another request is committing"
        + " its Binary right now; ask again shortly", RETRY_AFTER_SECONDS);
  }

  /**
   * Commits the Binary of an upload whose bytes are all stored. {@code digests} cover them all,
   * or are null and the blob is read once more. 423 (retryable) when another request is committing it;
   * 404 when it was terminated before this request took its lease.
   */
  ResumableUpload finish(Principal principal, ResumableUpload u, RunningDigests.Entry digests,
      AuditedRequest request) {
    String owner = leases.newOwner();
    leases.pause(UploadPauses.Point.COMPLETING, u.id());
    long claimed = System.nanoTime();
    if (!leases.take(u.id(), u.offset(), owner)) {
      Optional<ResumableUpload> row = store.read(tx -> tx.uploads().find(u.id()));
      if (row.isEmpty()) {
        // terminated (DELETE) after the last piece was stored: the termination, which found the
        // upload held by nobody, deleted its bytes; nothing is left to retry
        throw FhirException.notFound("upload " + u.id() + " was terminated before its Binary was committed; no"
            + " Binary was made of it by this request");
      }
      // another request (a HEAD) is committing it right now: its outcome, waited for as a HEAD
      // waits for a piece, so that this answer names the Binary too
      ResumableUpload now = leases.settled(row.get());
      if (!now.finished()) {
        throw committing(now);
      }
      return now;
    }
    try (UploadLeases.Renewal renewal = leases.renewing(u.id(), owner, claimed)) {
      leases.pause(UploadPauses.Point.LEASED, u.id());
      // the request that completes the upload may carry another token of the same client and
      // user than the one that created it (another launch): its compartment must allow it too, and
      // under a patient limit an upload that names no securityContext gets the launch patient, as
      // a raw POST by that token would. An upload that named no securityContext over an existing
      // Binary keeps the one the Binary has now, not the one it had when the upload began, which
      // may have changed in the hours between
      String requested = u.securityContextKept() ? null : u.securityContext();
      String ctx = binaries.securityContext(principal, u.binaryId(), requested,
          u.binaryId() == null ? Interaction.CREATE : Interaction.UPDATE);
      if (u.binaryId() != null) {
        requireBinary(principal, u);
      }
      recheck(u, ctx);
      blobs.complete(u.blob());
      String sha1 = digests != null && digests.offset() == u.offset() ? settled(u, digests) : null;
      BlobInfo info = sha1 != null ? new BlobInfo(u.blob().key(), u.offset(), null, sha1) : reread(u.blob());
      Instant at = clock.instant();
      Written committed;
      try {
        committed = binaries.commitStored(principal, u.binaryId(), u.contentType(),
            u.binaryId() == null ? ctx : requested, u.filename(), info,
            (tx, written) -> {
              if (!tx.uploads().finish(u.id(), owner, written.stored().id(), written.stored().versionId(), at,
                  at.plus(expiry))) {
                throw FhirException.conflict("another request took this upload over while it was committed");
              }
            }, request);
      } catch (FhirException e) {
        // the commit found the Binary deleted (or gone) in its own transaction
        throw u.binaryId() != null && e.status() == 412 ? binaryGone(u) : e;
      }
      running.remove(u.id());
      leases.pause(UploadPauses.Point.COMMITTED, u.id());
      // the row as the commit left it, not read again: a DELETE or the expiry sweep may remove a
      // finished upload's row from now on, and this answer names the Binary as a finished upload's does
      return u.finishedAs(committed.stored().id(), committed.stored().versionId(), at, at.plus(expiry));
    } catch (IOException e) {
      leases.releaseQuietly(u.id(), owner);
      throw new UncheckedIOException("could not complete the upload's blob", e);
    } catch (RuntimeException e) {
      leases.releaseQuietly(u.id(), owner);
      if (e instanceof FhirException f && f.status() == 409) {
        if (store.read(tx -> tx.uploads().find(u.id())).isEmpty()) {
          throw terminated(u, f);
        }
        // A completion whose lease was lost (its renewals failed) was taken over by a HEAD, which
        // commits the same bytes: its outcome answers this piece too, which was stored.
        ResumableUpload now = settledNow(u);
        if (now.finished()) {
          running.remove(u.id());
          return now;
        }
        if (now.leased()) {
          throw committing(now);
        }
      }
      throw e;
    }
  }

  /**
   * What the upload's creation checked, against the policy as it is now (a restart may have
   * changed it): the deny lists, the securityContext and the size limit; and that the client
   * (and user) that began it is still enabled and still allowed the Binary scope, which the token
   * of a request begun before it was disabled or lost that scope no longer vouches for (see
   * {@link UploadIssuers}). The upload keeps its row and bytes until it expires, as after any
   * other refused commit.
   */
  private void recheck(ResumableUpload u, String securityContext) {
    issuers.require(u.project(), u.clientId(), u.userId(),
        u.binaryId() == null ? Interaction.CREATE : Interaction.UPDATE);
    binaries.check(u.project(), u.contentType(), securityContext, u.filename());
    long max = binaries.policy().maxBytes();
    if (u.offset() > max) {
      throw FhirException.tooLarge("the upload holds " + u.offset() + " bytes, more than the limit of " + max
          + " bytes; no Binary was made of it");
    }
  }

  /**
   * 404 unless the Binary {@code u} makes a new version of still exists: one deleted while the
   * upload ran stays deleted. The upload keeps its row and bytes until it expires and the sweeper
   * removes them, as after any other refused commit.
   */
  private void requireBinary(Principal principal, ResumableUpload u) {
    try {
      binaries.requireExisting(principal.project(), u.binaryId());
    } catch (FhirException e) {
      throw e.status() == 404 ? binaryGone(u) : e;
    }
  }

  private static FhirException binaryGone(ResumableUpload u) {
    return FhirException.notFound("Binary/" + u.binaryId() + " was deleted while upload " + u.id() + " ran; its bytes"
        + " do not become a new version of it");
  }

  /**
   * 404 for a completion whose upload was terminated ({@code DELETE}) while it committed: the
   * commit found the row gone, so no Binary was made, and the blob it completed is freed here, as
   * a piece that finds its upload terminated frees what it stored. A blob that a Binary names
   * stays ({@code failure} is then answered): the upload finished through another request that
   * took its lease over, and its row was removed after.
   */
  private FhirException terminated(ResumableUpload u, FhirException failure) {
    try {
      if (store.read(tx -> tx.isBlobReferenced(u.blob().key()))) {
        return failure;
      }
      blobs.discard(u.blob());
      blobStore.delete(u.blob().key());
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not delete the completed blob {} of terminated upload {}; the orphan sweep deletes it later",
          u.blob().key(), u.id(), e);
    }
    return FhirException.notFound("upload " + u.id() + " was terminated while its Binary was committed; no Binary was"
        + " made of it and its bytes are deleted");
  }

  /** The upload as another request committing it leaves it (waited for as a HEAD waits for a piece). */
  private ResumableUpload settledNow(ResumableUpload u) {
    return leases.settled(store.read(tx -> tx.uploads().find(u.id())).orElse(u));
  }

  /** The running SHA-1 in hex, or null when a piece did not reach it. */
  private static String settled(ResumableUpload u, RunningDigests.Entry digests) throws InterruptedIOException {
    try {
      return digests.sha1Hex();
    } catch (InterruptedIOException e) {
      throw e;
    } catch (IOException e) {
      LOG.warn("upload {}: its running digests are unusable, so its bytes are read once more", u.id(), e);
      return null;
    }
  }

  /** SHA-256 and SHA-1 of the completed blob, read once more. */
  private BlobInfo reread(PartialBlob blob) throws IOException {
    long start = System.nanoTime();
    BlobInfo info = blobStore.digest(blob.key(), blob.length());
    if (info.size() != blob.length()) {
      throw new IOException("blob " + blob.key() + " holds " + info.size() + " bytes, not " + blob.length());
    }
    LOG.debug("read {} bytes of blob {} again for its digests in {} ms", blob.length(), blob.key(),
        (System.nanoTime() - start) / 1_000_000);
    return info;
  }
}
