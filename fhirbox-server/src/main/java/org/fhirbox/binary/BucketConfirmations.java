package org.fhirbox.binary;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.Written;
import org.fhirbox.signing.S3UploadSigner;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.LiveWrites;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The confirmation of a presigned upload straight to S3 ({@link DirectUploads}): what the bucket
 * holds under the upload's key becomes {@code Binary/{id}} once it is the declared content, and is
 * deleted (the upload forgotten) when it is not.
 *
 * <p>A confirmation holds a write lease ({@link LiveWrites}) on the object it looks at, and on the
 * copy it makes, until its Binary is committed: the orphan sweep of every node spares them
 * meanwhile. Without it, a confirmation that reads a large object (the last look at an upload whose
 * URL expired a grace ago, or a slow bucket) could outlast the sweep's two passes, which find the
 * object unreferenced and no longer awaited, and lose the bytes of the Binary it then commits.
 */
final class BucketConfirmations {
  private static final Logger LOG = LoggerFactory.getLogger(BucketConfirmations.class);

  private final BinaryService binaries;
  private final UploadUrlBinaries uploadUrls;
  private final ResourceStore store;
  private final S3UploadSigner s3;
  private final Clock clock;
  /** Lets the background check read a just confirmed object for its SHA-1 soon. */
  private final Runnable wake;
  private final LiveWrites leases;

  BucketConfirmations(BinaryService binaries, UploadUrlBinaries uploadUrls, ResourceStore store, S3UploadSigner s3,
      Clock clock, Runnable wake, LiveWrites leases) {
    this.leases = leases;
    this.binaries = binaries;
    this.uploadUrls = uploadUrls;
    this.store = store;
    this.s3 = s3;
    this.clock = clock;
    this.wake = wake;
  }

  /**
   * Creates {@code Binary/{id}} on the object of {@code key} once it is the declared content, or
   * returns null, changing nothing, while the parts of a multipart upload do not add up yet. 409
   * while a single {@code PUT}'s object is not there, or when the Binary exists already; 400 when
   * the object is not the declared content, which is then deleted and the upload forgotten.
   *
   * <p>A single {@code PUT}'s signature covers {@code Content-Length} and
   * {@code x-amz-checksum-sha256}, so the store refused any other body; {@code HeadObject} in
   * checksum mode shows the size and the SHA-256 it checked, and the Binary is created from those
   * without reading the object (its ETag names the blob, as for any Binary). Its SHA-1
   * ({@code Attachment.hash}) is learnt afterwards by the background check, which reads the object
   * once ({@link DirectUploads#confirmDue}): the upload's row stays, marked confirmed, until then. A multipart
   * object (S3 keeps only a checksum of its parts' checksums) is read here instead. So is a single
   * {@code PUT} with a declared SHA-1, so that the SHA-1 a Binary publishes as {@code hash} is
   * checked before it exists (S3 checks only the one signed checksum, the SHA-256 where both were
   * declared). A single {@code PUT} without a declared digest went to a staging object; the object
   * of one to a store that keeps no checksum (so that it most likely did not check the signed one
   * either), and of one whose only declared digest is a SHA-1 (for which same-size collisions are
   * published), could be changed by a repeat of the {@code PUT}: all are copied to a blob no URL
   * writes before they are read, see {@link #createFromCopy}.
   */
  Written confirmObject(String project, String binaryId, BinaryService.Upload meta, BlobKey key,
      String uploadId, DeclaredContent declared) {
    try (LiveWrites.Registration held = leases.begin(key)) {
      return confirmHeld(project, binaryId, meta, key, uploadId, declared);
    }
  }

  /** {@link #confirmObject} under the write lease of {@code key}. */
  private Written confirmHeld(String project, String binaryId, BinaryService.Upload meta, BlobKey key,
      String uploadId, DeclaredContent declared) {
    long size = declared.size();
    String sha256Hex = declared.sha256Hex();
    try {
      if (uploadId != null) {
        uploadUrls.requireUnused(binaryId);
        if (!s3.completeParts(key, uploadId, size)) {
          return null;
        }
        return readAndCreate(project, binaryId, meta, key, declared);
      }
      // Only a SHA-256 the store checked binds a repeat of the PUT to the same bytes. Without a
      // declared digest the PUT went to a staging object; a SHA-1 alone admits other bytes of the
      // same size and SHA-1 (published collisions exist), which the store would take.
      if (sha256Hex == null) {
        return createFromCopy(project, binaryId, meta, key, declared, declared.sha1Hex() == null);
      }
      Optional<S3UploadSigner.StoredObject> stored = s3.stored(key);
      if (stored.isEmpty()) {
        throw notArrived(binaryId);
      }
      if (!stored.get().unsignedHeaders().isEmpty()) {
        refuse(binaryId, key, stored.get().size());
        throw unsignedHeaders(stored.get().unsignedHeaders());
      }
      // a store that keeps no checksum most likely ignored the signed one
      if (stored.get().sha256Hex() == null) {
        return createFromCopy(project, binaryId, meta, key, declared, false);
      }
      if (declared.sha1Hex() != null) {
        return readAndCreate(project, binaryId, meta, key, declared);
      }
      if (stored.get().size() != size || !stored.get().sha256Hex().equalsIgnoreCase(sha256Hex)) {
        refuse(binaryId, key, stored.get().size());
        throw FhirException.badRequest("the uploaded object has " + stored.get().size() + " bytes and another "
            + "SHA-256 than the declared " + size + " bytes; it was deleted");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Written written = uploadUrls.createFromCheckedObject(project, binaryId, meta, new BlobInfo(key, size,
        sha256Hex.toLowerCase(Locale.ROOT), null));
    store.inTransaction(tx -> tx.pendingUploads().markConfirmed(binaryId, clock.instant()));
    wake.run();
    return written;
  }

  /**
   * A single {@code PUT} whose object a repeat of the {@code PUT} could still change, until its URL
   * expires: one without a declared digest, which went to the staging object of {@code key}
   * ({@code staging}; see {@link S3UploadSigner#presignStagedPut}), or one to the blob's own
   * object on a store that did not check the signed checksum or with a SHA-1 alone signed. Its
   * size is checked ({@code HeadObject}; 409 while it is not there, 400 and deleted when it is another size), it
   * is copied inside the bucket to a new blob that no URL can write, only while it is still the
   * object whose size was checked, and that blob is read once for its digests
   * ({@link #readAndCreate}, 400 when they are not the declared ones). A repeat of the
   * {@code PUT} after this only writes an object that no Binary reads, which the
   * {@link OrphanSweeper} removes. Each confirmation copies to a blob of its own, so two racing
   * ones never write the bytes the other one has read: the one that creates the Binary wins, the
   * other deletes its copy (409).
   */
  private Written createFromCopy(String project, String binaryId, BinaryService.Upload meta, BlobKey source,
      DeclaredContent declared, boolean staging) throws IOException {
    uploadUrls.requireUnused(binaryId);
    BlobKey copy = BlobKey.random();
    try (LiveWrites.Registration held = leases.begin(copy)) {
      return copyAndCreate(project, binaryId, meta, source, declared, staging, copy);
    }
  }

  /** {@link #createFromCopy} to {@code copy}, under its write lease. */
  private Written copyAndCreate(String project, String binaryId, BinaryService.Upload meta, BlobKey source,
      DeclaredContent declared, boolean staging, BlobKey copy) throws IOException {
    long size = declared.size();
    for (int attempt = 0; ; attempt++) {
      Optional<S3UploadSigner.StagedObject> found = staging ? s3.staged(source)
          : s3.stored(source).map(o -> new S3UploadSigner.StagedObject(o.size(), o.eTag(), o.unsignedHeaders()));
      if (found.isEmpty()) {
        throw notArrived(binaryId);
      }
      if (found.get().size() != size) {
        deleteSource(source, staging, found.get().size());
        forget(binaryId);
        throw FhirException.badRequest("the uploaded object has " + found.get().size() + " bytes, not the declared "
            + size + "; it was deleted");
      }
      if (!found.get().unsignedHeaders().isEmpty()) {
        deleteSource(source, staging, size);
        forget(binaryId);
        throw unsignedHeaders(found.get().unsignedHeaders());
      }
      // copied with the declared type alone, should a PUT add headers between the look and the copy
      if (staging ? s3.copyStaged(source, found.get().eTag(), copy, meta.contentType())
          : s3.copyObject(source, found.get().eTag(), copy, meta.contentType())) {
        break;
      }
      if (attempt == 2) {
        throw FhirException.conflict("the content of Binary/" + binaryId + " was being written again while it was "
            + "confirmed; confirm it again");
      }
    }
    Written written;
    try {
      written = readAndCreate(project, binaryId, meta, copy, declared);
    } catch (FhirException e) {
      if (e.status() == 409 || e.status() == 410) {
        // another confirmation created the Binary, or refused the upload: nothing names the copy
        binaries.discard(new BlobInfo(copy, size, null, null));
      } else if (e.status() == 400) {
        deleteSourceQuietly(binaryId, source, staging, size); // the copy was not the content, nor is this
      }
      throw e;
    }
    deleteSourceQuietly(binaryId, source, staging, size);
    return written;
  }

  /**
   * 400 for an object whose {@code PUT} stored response headers its signature did not cover
   * ({@link S3UploadSigner.StoredObject#unsignedHeaders}): the bucket would send them with every
   * read of the Binary, a file name the deny list never judged or a coding that turns the body
   * into other bytes than the ones the Binary describes.
   */
  private static FhirException unsignedHeaders(List<String> names) {
    return FhirException.badRequest("the uploaded object was stored with " + String.join(", ", names)
        + ", which the upload URL does not sign and the bucket would send with every read; it was deleted. Ask"
        + " $upload-url again and PUT with only the headers it names");
  }

  private static FhirException notArrived(String binaryId) {
    return FhirException.conflict("the content of Binary/" + binaryId + " has not arrived yet: PUT it to the upload "
        + "URL first");
  }

  private void deleteSource(BlobKey source, boolean staging, long size) throws IOException {
    if (staging) {
      s3.deleteStaged(source);
    } else {
      binaries.discard(new BlobInfo(source, size, null, null));
    }
  }

  private void deleteSourceQuietly(String binaryId, BlobKey source, boolean staging, long size) {
    try {
      deleteSource(source, staging, size);
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not delete the uploaded object of Binary/{} after copying it; the orphan sweeper will",
          binaryId, e);
    }
  }

  /** The object read once for its digests, then the Binary created when they are the declared ones. */
  private Written readAndCreate(String project, String binaryId, BinaryService.Upload meta, BlobKey key,
      DeclaredContent declared) {
    Written written;
    try {
      written = uploadUrls.createFromObject(project, binaryId, meta, key, declared);
    } catch (FhirException e) {
      if (e.status() == 400) {
        forget(binaryId); // the object was not the content; gone
      }
      throw e;
    }
    forget(binaryId);
    return written;
  }

  /**
   * Forgets the upload, then deletes the object of {@code key}; 409, changing nothing, once a
   * Binary of the upload exists. The row is deleted, and the Binary looked for, in one transaction,
   * and a confirmation commits its Binary only under the row's lock
   * ({@link UploadUrlBinaries#createFromObject}): either that commit came first and this sees its
   * Binary, or it finds the row gone and creates nothing. So a repeat of the {@code PUT} (with
   * headers the URL does not sign) while another confirmation commits never deletes the bytes of
   * the Binary it commits.
   */
  private void refuse(String binaryId, BlobKey key, long size) {
    store.inTransaction(tx -> {
      tx.pendingUploads().delete(binaryId);
      if (!tx.binaryContentAnyProject(binaryId, 1).isEmpty()) {
        throw FhirException.conflict("Binary/" + binaryId + " was already uploaded; an upload URL can be used once");
      }
      return null;
    });
    binaries.discard(new BlobInfo(key, size, null, null));
  }

  private void forget(String binaryId) {
    store.inTransaction(tx -> tx.pendingUploads().delete(binaryId));
  }
}
