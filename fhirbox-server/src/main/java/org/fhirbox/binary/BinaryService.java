package org.fhirbox.binary;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;
import org.fhirbox.audit.AuditedRequest;
import org.fhirbox.audit.BinaryListener;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.Written;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobStore;
import org.fhirbox.storage.BlobTooLargeException;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binary writes from raw bodies (FHIR R4 binary.html#rest): the body streams into the blob
 * store first, then one transaction writes the Binary version that points at it. If the
 * transaction fails the blob is deleted; if the process dies in between, the orphan sweeper
 * finds an unreferenced blob. Never a Binary without its bytes. Each write a caller asked for is
 * told to the audit listener once it committed.
 */
public final class BinaryService {
  private static final Logger LOG = LoggerFactory.getLogger(BinaryService.class);
  private final BlobStore blobs;
  private final ResourceStore store;
  private final ResourceRepository repository;
  private final BinaryPolicy policy;
  private final BinaryListener audit;

  public BinaryService(BlobStore blobs, ResourceStore store, ResourceRepository repository, BinaryPolicy policy,
      BinaryListener audit) {
    this.blobs = blobs;
    this.store = store;
    this.repository = repository;
    this.policy = policy;
    this.audit = audit;
  }

  public BinaryPolicy policy() {
    return policy;
  }

  /** A raw upload, as sent by {@code POST /Binary} or {@code PUT /Binary/{id}}. */
  public record Upload(InputStream body, String contentType, String contentEncoding, String securityContext,
      String filename) {}

  /** {@code POST /Binary} with raw content, for a caller who may create Binaries; audited. */
  public Written create(Principal principal, Upload upload, AuditedRequest request) {
    principal.require("Binary", Interaction.CREATE);
    return recorded(principal, request, create(principal.project(), upload));
  }

  /** {@code PUT /Binary/{id}} with raw content, for a caller who may update Binaries; audited. */
  public Written update(Principal principal, String id, Upload upload, Supplier<Long> ifMatch,
      AuditedRequest request) {
    principal.require("Binary", Interaction.UPDATE);
    Long expected = ifMatch.get();
    return recorded(principal, request, update(principal.project(), id, upload, expected));
  }

  /**
   * Audits a committed write when it wrote a Binary: a raw upload, an import, or a Binary sent as
   * FHIR JSON/XML. The FHIR services sit below auditing, so their caller hands their outcome here.
   */
  public Written recorded(Principal principal, AuditedRequest request, Written written) {
    if (written.resource() instanceof Binary b) {
      audit.written(request, principal, b, written.created());
    }
    return written;
  }

  /** Audits the Binary entries a committed batch or transaction Bundle wrote. */
  public Bundle recorded(Principal principal, AuditedRequest request, Bundle response) {
    for (Bundle.BundleEntryComponent e : response.getEntry()) {
      // written entries carry a Location; a GET entry has none
      if (e.getResource() instanceof Binary binary && e.getResponse().hasLocation()) {
        audit.written(request, principal, binary, e.getResponse().getStatus().startsWith("201"));
      }
    }
    return response;
  }

  public Written create(String project, Upload upload) {
    Binary binary = binaryFor(project, upload);
    BlobInfo info = storeBlob(upload);
    return commitOrDiscard(info, () -> store.inTransaction(tx ->
        repository.create(tx, project, binary, info, upload.filename())));
  }

  public Written update(String project, String id, Upload upload, Long ifMatch) {
    ResourceIds.requireValid(id);
    Binary binary = binaryFor(project, upload);
    binary.setId(id);
    BlobInfo info = storeBlob(upload);
    return commitOrDiscard(info, () -> store.inTransaction(tx ->
        repository.update(tx, project, "Binary", id, binary, ifMatch, info, upload.filename())));
  }

  /**
   * Checks, before a byte is stored, what a Binary with these attributes would be: content type
   * and file name (length, deny lists) and that {@code securityContext} names a resource of the
   * project. 400 when refused. A resumable upload is checked once, at its creation.
   */
  public void check(String project, String contentType, String securityContext, String filename) {
    binaryFor(project, new Upload(null, contentType, null, securityContext, filename));
  }

  /** 404 unless {@code id} is a Binary of the project that exists and is not deleted. */
  public void requireExisting(String project, String id) {
    ResourceIds.requireValid(id);
    boolean exists = store.read(tx -> tx.current(project, "Binary", id, false)).map(r -> !r.deleted())
        .orElse(false);
    if (!exists) {
      throw FhirException.notFound("Binary/" + id + " does not exist");
    }
  }

  /**
   * Commits content already in the blob store (a finished resumable upload) as a raw upload's is:
   * a new Binary, or a new version of {@code binaryId} when it is not null, in one transaction
   * with {@code alongside}, which sees what was written and may veto it by throwing. Audited. The
   * attributes were checked when the upload began (see {@link #check}); a securityContext deleted
   * since then leaves the Binary unreadable, as a delete after the commit would.
   */
  public Written commitStored(Principal principal, String binaryId, String contentType, String securityContext,
      String filename, BlobInfo info, BiConsumer<ResourceStore.Tx, Written> alongside, AuditedRequest request) {
    Binary binary = new Binary();
    binary.setContentType(contentType);
    if (securityContext != null) {
      binary.setSecurityContext(new Reference(securityContext));
    }
    String project = principal.project();
    Written written = store.inTransaction(tx -> {
      Written w;
      if (binaryId == null) {
        w = repository.create(tx, project, binary, info, filename);
      } else {
        binary.setId(binaryId);
        w = repository.update(tx, project, "Binary", binaryId, binary, null, info, filename);
      }
      alongside.accept(tx, w);
      return w;
    });
    return recorded(principal, request, written);
  }

  /** Stores bytes that arrived inside a FHIR Binary resource (already in memory, size-limited). */
  public BlobInfo storeDecoded(byte[] data, String contentType) {
    requireStorable(contentType, null);
    policy.check(contentType, null);
    try {
      return blobs.put(new java.io.ByteArrayInputStream(data), policy.maxBytes());
    } catch (BlobTooLargeException e) {
      throw FhirException.tooLarge("Binary content exceeds the limit of " + policy.maxBytes() + " bytes");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs the DB write; deletes the freshly stored blob if it fails. */
  public <T> T commitOrDiscard(BlobInfo info, java.util.function.Supplier<T> write) {
    try {
      return write.get();
    } catch (RuntimeException e) {
      discard(info);
      throw e;
    }
  }

  public void discard(BlobInfo info) {
    if (info == null) {
      return;
    }
    try {
      blobs.delete(info.key());
    } catch (IOException e) {
      LOG.warn("could not delete unused blob {}; the sweeper will retry", info.key(), e);
    }
  }

  private Binary binaryFor(String project, Upload upload) {
    String contentType = upload.contentType() == null || upload.contentType().isBlank()
        ? "application/octet-stream" : upload.contentType().trim();
    requireStorable(contentType, upload.filename());
    policy.check(contentType, upload.filename());
    Binary b = new Binary();
    b.setContentType(contentType);
    if (upload.securityContext() != null && !upload.securityContext().isBlank()) {
      String ref = upload.securityContext().trim();
      if (!ref.matches("[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\\-.]{1,64}")) {
        throw FhirException.badRequest("the security context (X-Security-Context, or securityContext in"
            + " Upload-Metadata) must be a reference like Patient/123, got '"
            + (ref.length() > 80 ? ref.substring(0, 80) : ref) + "'");
      }
      // Checked before the body is stored, so a refused upload writes nothing. A context
      // deleted between here and the commit leaves the Binary unreadable, as a later delete would.
      store.read(tx -> {
        repository.requireSecurityContextExists(tx, project, ref);
        return null;
      });
      b.setSecurityContext(new Reference(ref));
    }
    return b;
  }

  /** What the database keeps of a Binary's content type and file name (VARCHAR(255), V1 migration). */
  static final int MAX_STORED_CHARS = 255;

  /** Checked before a byte is stored: a refusal after the body would leave a blob for nothing. */
  private static void requireStorable(String contentType, String filename) {
    if (contentType != null && contentType.length() > MAX_STORED_CHARS) {
      throw FhirException.badRequest("the Content-Type has " + contentType.length() + " characters; at most "
          + MAX_STORED_CHARS + " are stored");
    }
    if (filename != null && filename.length() > MAX_STORED_CHARS) {
      throw FhirException.badRequest("the file name (_filename, or filename in Upload-Metadata) has "
          + filename.length() + " characters; at most " + MAX_STORED_CHARS + " are stored");
    }
  }

  /**
   * The body stopped before its end (client gone, upstream cut): a 400 for an HTTP client, a
   * transient failure for an ingestion job, which retries.
   */
  static FhirException bodyInterrupted(IOException cause) {
    return new FhirException(IssueKind.INCOMPLETE,
        "the upload was interrupted before the whole body arrived; nothing was stored", cause);
  }

  /** An upload body that failed while reading: the client went away or sent a broken body. */
  static final class ClientReadException extends IOException {
    ClientReadException(IOException cause) {
      super(cause.getMessage(), cause);
    }
  }

  /** Marks failures of the client's body so they are not mistaken for storage failures. */
  private static InputStream markingReadFailures(InputStream in) {
    return new java.io.FilterInputStream(in) {
      @Override
      public int read() throws IOException {
        try {
          return super.read();
        } catch (IOException e) {
          throw new ClientReadException(e);
        }
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        try {
          return super.read(b, off, len);
        } catch (IOException e) {
          throw new ClientReadException(e);
        }
      }
    };
  }

  private BlobInfo storeBlob(Upload upload) {
    try (InputStream decoded = decode(markingReadFailures(upload.body()), upload.contentEncoding())) {
      return blobs.put(decoded, policy.maxBytes());
    } catch (BlobTooLargeException e) {
      throw FhirException.tooLarge("Binary content exceeds the limit of " + policy.maxBytes() + " bytes");
    } catch (ExpansionGuard.TooExpanded e) {
      throw FhirException.tooLarge("refused: " + e.getMessage() + "; send content this repetitive without "
          + "Content-Encoding");
    } catch (ZipException e) {
      throw FhirException.badRequest("the body is not valid " + upload.contentEncoding() + " data: " + e.getMessage());
    } catch (java.io.EOFException e) {
      // the decoder's, not the client's (those are ClientReadException): the stream lacks its end
      throw FhirException.badRequest("the body is not valid " + upload.contentEncoding()
          + " data: the compressed stream is cut off before its end");
    } catch (ClientReadException e) {
      LOG.debug("upload body could not be read", e);
      throw bodyInterrupted(e);
    } catch (IOException e) {
      throw new UncheckedIOException("could not store the upload", e);
    }
  }

  private static InputStream decode(InputStream in, String encoding) throws IOException {
    if (encoding == null || encoding.isBlank() || encoding.equalsIgnoreCase("identity")) {
      return in;
    }
    ExpansionGuard guard = new ExpansionGuard();
    return switch (encoding.trim().toLowerCase(Locale.ROOT)) {
      case "gzip", "x-gzip" -> guard.decoded(new GZIPInputStream(guard.encoded(in), 64 * 1024));
      case "deflate" -> guard.decoded(new InflaterInputStream(guard.encoded(in)));
      default -> throw FhirException.unsupportedMediaType("Content-Encoding '" + encoding
          + "' is not supported (use gzip or deflate)");
    };
  }
}
