package org.fhirbox.binary;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.Written;
import org.fhirbox.model.StoredResource;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.BlobStore;
import org.fhirbox.storage.BlobTooLargeException;
import org.hl7.fhir.r4.model.Binary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Binaries of upload URLs ({@link DirectUploads}): a body whose size and digests were declared
 * beforehand, streamed to us, and an object a client wrote straight to the bucket, confirmed. An
 * upload URL creates its Binary once; the rules shared with raw uploads (deny lists, size limit,
 * securityContext, blob first and row second) are {@link BinaryService}'s.
 */
final class UploadUrlBinaries {
  private static final Logger LOG = LoggerFactory.getLogger(UploadUrlBinaries.class);
  private final BinaryService binaries;
  private final BlobStore blobs;
  private final ResourceStore store;
  private final ResourceRepository repository;

  UploadUrlBinaries(BinaryService binaries, BlobStore blobs, ResourceStore store, ResourceRepository repository) {
    this.binaries = binaries;
    this.blobs = blobs;
    this.store = store;
    this.repository = repository;
  }

  /**
   * Creates {@code Binary/{id}} from a body whose size (and SHA-256 or SHA-1, where declared) the
   * uploader declared beforehand, as a presigned upload does. The body streams into the blob store
   * like a raw upload, under the same deny list and size limit; a body of another size or digest
   * is refused and its blob deleted. Creating an id that already exists is a 409, decided in the
   * writing transaction, so of two racing uploads to one id exactly one commits. {@code beforeCommit}
   * runs once the bytes are stored, before the commit; what it throws deletes them and is answered.
   */
  Written createDeclared(String project, String id, BinaryService.Upload upload, DeclaredContent declared,
      Runnable beforeCommit) {
    ResourceIds.requireValid(id);
    Binary binary = binaries.binaryFor(project, upload);
    requireUnused(id);
    BlobInfo info = storeDeclared(upload, declared);
    return binaries.commitOrDiscard(info, () -> {
      beforeCommit.run();
      return store.inTransaction(tx -> {
        if (!tx.binaryContentAnyProject(id, 1).isEmpty()) {
          throw usedUp(id);
        }
        return repository.create(tx, project, binary, id, info, upload.filename());
      });
    });
  }

  /**
   * Stores a new version of {@code Binary/{id}} on top of version {@code baseVersion}, as
   * Medplum's upload URL does: 409 when the Binary has moved on since (the URL was used, or the
   * Binary changed), decided in the writing transaction. The declared size may be null (any size
   * up to the limit).
   */
  Written updateDeclared(String project, String id, BinaryService.Upload upload, DeclaredContent declared,
      long baseVersion, Runnable beforeCommit) {
    ResourceIds.requireValid(id);
    Binary binary = binaries.binaryFor(project, upload);
    binary.setId(id);
    requireAt(project, id, baseVersion);
    BlobInfo info = storeDeclared(upload, declared);
    return binaries.commitOrDiscard(info, () -> {
      beforeCommit.run();
      return store.inTransaction(tx -> {
        if (tx.current(project, "Binary", id, true).map(c -> c.deleted() || c.versionId() != baseVersion)
            .orElse(true)) {
          throw movedOn(id);
        }
        return repository.update(tx, project, "Binary", id, binary, baseVersion, info, upload.filename());
      });
    });
  }

  /** The current Binary of {@code id} in {@code project} (404 when absent), for an upload URL that replaces it. */
  StoredResource currentBinary(String project, String id) {
    return store.read(tx -> repository.read(tx, project, "Binary", ResourceIds.requireValid(id)));
  }

  /**
   * Creates {@code Binary/{id}} on an object a client wrote straight to the store: it must be
   * there (else 409: nothing to confirm yet), of the declared size (which must be known) and
   * digests (else 400 and the object is deleted); it is read once for its digests. Another
   * confirmation of the same id gets 409 and leaves the object alone: the Binary that won
   * references it.
   */
  Written createFromObject(String project, String id, BinaryService.Upload meta, BlobKey key,
      DeclaredContent declared) {
    long size = declared.size();
    ResourceIds.requireValid(id);
    Binary binary = binaries.binaryFor(project, meta);
    requireUnused(id);
    BlobInfo info;
    try {
      Optional<Long> stored = blobs.size(key);
      if (stored.isEmpty()) {
        throw FhirException.conflict("the content of Binary/" + id + " has not arrived yet: PUT it to the upload "
            + "URL first");
      }
      if (stored.get() != size) {
        binaries.discard(new BlobInfo(key, stored.get(), null, null));
        throw FhirException.badRequest("the uploaded object has " + stored.get() + " bytes, not the declared "
            + size + "; it was deleted");
      }
      info = blobs.digest(key, size);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read the uploaded object", e);
    }
    String mismatch = declared.mismatch(info);
    if (mismatch != null) {
      binaries.discard(info);
      throw FhirException.badRequest("the uploaded object " + mismatch + "; it was deleted");
    }
    return createOnce(project, id, binary, info, meta.filename());
  }

  /**
   * Creates {@code Binary/{id}} on an object a client wrote straight to the store, which the store
   * itself vouched for ({@code info}: the size, and the SHA-256 it checked against the signed
   * checksum of the write), without reading it. Its SHA-1 is null until {@link #learnSha1}.
   * Another confirmation of the same id gets 409.
   */
  Written createFromCheckedObject(String project, String id, BinaryService.Upload meta, BlobInfo info) {
    ResourceIds.requireValid(id);
    Binary binary = binaries.binaryFor(project, meta);
    requireUnused(id);
    return createOnce(project, id, binary, info, meta.filename());
  }

  /**
   * Under the lock of the upload's row, which a refusing confirmation deletes before the object:
   * 409 when another confirmation created the Binary, 410 when one refused the upload meanwhile
   * (no Binary exists, and none can be made of this upload now).
   */
  private Written createOnce(String project, String id, Binary binary, BlobInfo info, String filename) {
    return store.inTransaction(tx -> {
      boolean pending = tx.pendingUploads().lock(id);
      if (!tx.binaryContentAnyProject(id, 1).isEmpty()) {
        throw usedUp(id);
      }
      if (!pending) {
        throw uploadOver(id);
      }
      return repository.create(tx, project, binary, id, info, filename);
    });
  }

  /** 410 for an upload to S3 that is over without a Binary: refused at a confirmation, or given up. */
  static FhirException uploadOver(String id) {
    return FhirException.gone("the upload of Binary/" + id + " is over: its content was refused at an"
        + " earlier confirmation (not the declared content, or stored with headers the URL does not sign) and"
        + " deleted, or it was given up; no PUT to its URLs can make it a Binary now: ask $upload-url for a new"
        + " upload");
  }

  /**
   * Reads the blob of {@code key} once and records its SHA-1 on every Binary version stored in it
   * that has none yet. False, recording nothing, when the bytes are not {@code size} bytes with
   * SHA-256 {@code sha256Hex}: the store vouched for them, so that would mean it lost or changed
   * them, and a SHA-1 of other bytes must not be published as the content's.
   */
  boolean learnSha1(BlobKey key, long size, String sha256Hex) throws IOException {
    BlobInfo info;
    try {
      info = blobs.digest(key, size);
    } catch (BlobTooLargeException e) {
      return false;
    }
    if (info.size() != size || !info.sha256Hex().equalsIgnoreCase(sha256Hex)) {
      return false;
    }
    store.inTransaction(tx -> tx.fillSha1(key, info.sha1Hex()));
    return true;
  }

  private void requireAt(String project, String id, long baseVersion) {
    if (store.read(tx -> tx.current(project, "Binary", id, false)).map(c -> c.deleted()
        || c.versionId() != baseVersion).orElse(true)) {
      throw movedOn(id);
    }
  }

  private static FhirException movedOn(String id) {
    return FhirException.conflict("Binary/" + id + " changed since this upload URL was issued, or the URL was "
        + "already used; an upload URL can be used once");
  }

  /**
   * Streams a declared body into a new blob: at most {@code size} bytes (or the limit), then
   * exactly {@code size} and the declared digests, else the blob is deleted and the upload refused.
   * The store computes the SHA-1; a declared SHA-256 is computed here, over the body on its way.
   */
  private BlobInfo storeDeclared(BinaryService.Upload upload, DeclaredContent declared) {
    Long size = declared.size();
    long limit = binaries.policy().maxBytes();
    long max = size == null ? limit : size;
    if (max > limit) {
      throw FhirException.tooLarge("Binary content exceeds the limit of " + limit + " bytes");
    }
    BlobInfo info;
    MessageDigest sha256 = declared.sha256Hex() == null ? null : ResumableUploads.digest("SHA-256");
    try {
      InputStream body = ClientBody.marked(upload.body());
      // With a declared size, one byte more is enough to know it is wrong.
      info = blobs.put(sha256 == null ? body : new DigestInputStream(body, sha256), max);
      if (sha256 != null) {
        info = info.withSha256(HexFormat.of().formatHex(sha256.digest()));
      }
    } catch (BlobTooLargeException e) {
      throw size == null
          ? FhirException.tooLarge("Binary content exceeds the limit of " + limit + " bytes")
          : FhirException.badRequest("the body is longer than the declared size of " + size
              + " bytes; nothing was stored");
    } catch (ClientBody.ReadFailure e) {
      LOG.debug("upload body could not be read", e);
      throw BinaryService.bodyInterrupted(e);
    } catch (IOException e) {
      throw new UncheckedIOException("could not store the upload", e);
    }
    String mismatch = declared.mismatch(info);
    if (mismatch != null) {
      binaries.discard(info);
      throw FhirException.badRequest("the body " + mismatch + "; nothing was stored");
    }
    return info;
  }

  /**
   * Refuses, before anything is stored, what {@link #createDeclared} would refuse about the
   * Binary itself: a denied type or file name, an over-long one, a securityContext that is not there.
   */
  void checkDeclared(String project, String contentType, String securityContext, String filename) {
    binaries.binaryFor(project, new BinaryService.Upload(InputStream.nullInputStream(), contentType, null,
        securityContext, filename));
  }

  /** 409 when {@code Binary/{id}} already exists in any project: its upload URL was used. */
  void requireUnused(String id) {
    if (!store.read(tx -> tx.binaryContentAnyProject(id, 1)).isEmpty()) {
      throw usedUp(id);
    }
  }

  /** Version 1 of {@code Binary/{id}} in {@code project} when its content is {@code declared}: an upload URL's. */
  Optional<StoredResource> createdAs(String project, String id, DeclaredContent declared) {
    return store.read(tx -> tx.binaryContentAnyProject(id, 1).stream().findFirst()
        .filter(c -> c.project().equals(project)
            && declared.mismatch(new BlobInfo(c.blobKey(), c.size(), c.sha256Hex(), c.sha1Hex())) == null)
        .flatMap(c -> tx.version(project, "Binary", id, 1)));
  }

  private static FhirException usedUp(String id) {
    return FhirException.conflict("Binary/" + id + " was already uploaded; an upload URL can be used once");
  }
}
