package org.fhirbox.binary;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.zip.ZipException;
import org.fhirbox.audit.AuditedRequest;
import org.fhirbox.audit.BinaryListener;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.db.CommitOutcomeUnknown;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.PatientCompartment;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.WritePreconditions;
import org.fhirbox.fhir.Written;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.model.StoredResource;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobStore;
import org.fhirbox.storage.BlobTooLargeException;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binary writes from raw bodies (FHIR R4 binary.html#rest): the body streams into the blob
 * store first, then one transaction writes the Binary version that points at it. If the
 * transaction fails the blob is deleted; if the process dies in between, the orphan sweeper
 * finds an unreferenced blob. Never a Binary without its bytes. Each write a caller asked for is
 * told to the audit listener once it committed.
 *
 * <p>New bytes over an existing Binary need read access to its current version, and keep its
 * {@code securityContext} when the write names none. A caller whose Binary writes are limited to
 * its launch patient ({@code patient/} scopes) may update only a Binary in that patient's
 * compartment (else 404), and stores Binaries whose {@code securityContext} is in it: the
 * patient, when the upload names none ({@link BinaryWriteAccess#securityContext}).
 */
public final class BinaryService {
  private static final Logger LOG = LoggerFactory.getLogger(BinaryService.class);
  private final BlobStore blobs;
  private final ResourceStore store;
  private final ResourceRepository repository;
  private final BinaryPolicy policy;
  private final BinaryListener audit;
  private final BinaryWriteAccess writeAccess;

  public BinaryService(BlobStore blobs, ResourceStore store, ResourceRepository repository, BinaryPolicy policy,
      BinaryListener audit, PatientCompartment compartment) {
    this.blobs = blobs;
    this.store = store;
    this.repository = repository;
    this.policy = policy;
    this.audit = audit;
    this.writeAccess = new BinaryWriteAccess(store, compartment);
  }

  /** The Binaries of upload URLs, created under these rules. */
  UploadUrlBinaries uploadUrls() {
    return new UploadUrlBinaries(this, blobs, store, repository);
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
    Upload checked = withSecurityContext(upload,
        securityContext(principal, null, upload.securityContext(), Interaction.CREATE));
    return recorded(principal, request, create(principal.project(), checked));
  }

  /** {@code PUT /Binary/{id}} with raw content, for a caller who may update Binaries; audited. */
  public Written update(Principal principal, String id, Upload upload, Supplier<WritePreconditions> preconditions,
      AuditedRequest request) {
    principal.require("Binary", Interaction.UPDATE);
    WritePreconditions expected = preconditions.get();
    Upload checked = withSecurityContext(upload,
        securityContext(principal, id, upload.securityContext(), Interaction.UPDATE));
    return recorded(principal, request, update(principal.project(), id, checked, expected,
        tx -> writeAccess.atCommit(tx, principal, id, upload.securityContext())));
  }

  /**
   * The securityContext a caller's Binary write stores ({@link BinaryWriteAccess#securityContext}),
   * checked before a byte of the body is stored.
   *
   * @param id the Binary to update, or null for a create
   */
  public String securityContext(Principal principal, String id, String requested, Interaction interaction) {
    return writeAccess.securityContext(principal, id, requested, interaction);
  }

  private static Upload withSecurityContext(Upload u, String securityContext) {
    return new Upload(u.body(), u.contentType(), u.contentEncoding(), securityContext, u.filename());
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

  /** Audits the Binary entries a committed batch or transaction Bundle wrote or deleted. */
  public Bundle recorded(Principal principal, AuditedRequest request, Bundle bundle, Bundle response) {
    for (int i = 0; i < response.getEntry().size(); i++) {
      Bundle.BundleEntryComponent e = response.getEntry().get(i);
      Bundle.BundleEntryRequestComponent asked = i < bundle.getEntry().size() ? bundle.getEntry().get(i).getRequest()
          : null;
      // written entries carry a Location; a GET entry has none, and a POST answered 200 is a
      // conditional create that found its match and wrote nothing
      boolean matched = asked != null && asked.getMethod() == Bundle.HTTPVerb.POST
          && !e.getResponse().getStatus().startsWith("201");
      if (e.getResource() instanceof Binary binary && e.getResponse().hasLocation() && !matched) {
        audit.written(request, principal, binary, e.getResponse().getStatus().startsWith("201"));
      } else if (asked != null && asked.getMethod() == Bundle.HTTPVerb.DELETE && asked.hasUrl()
          && asked.getUrl().matches("(.*/)?Binary/[A-Za-z0-9.-]+") && e.getResponse().getStatus().startsWith("200")
          && e.getResponse().hasEtag()) { // no ETag: the Binary never existed, and nothing was deleted
        // relative (Binary/{id}) or absolute ({base}/Binary/{id}); the ETag W/"n" is the deletion's version
        deleted(principal, request, asked.getUrl().substring(asked.getUrl().lastIndexOf('/') + 1),
            Long.parseLong(e.getResponse().getEtag().replaceAll("[^0-9]", "")));
      }
    }
    return response;
  }

  /** Audits a committed delete of {@code Binary/{id}}, whose deletion is version {@code versionId}. */
  public void deleted(Principal principal, AuditedRequest request, String id, long versionId) {
    audit.deleted(request, principal, id, versionId);
  }

  public Written create(String project, Upload upload) {
    return create(project, upload, (tx, written) -> { });
  }

  /** {@link #create}, in one transaction with {@code alongside}, which may veto the Binary by throwing. */
  public Written create(String project, Upload upload, BiConsumer<ResourceStore.Tx, Written> alongside) {
    Binary binary = binaryFor(project, upload);
    BlobInfo info = storeBlob(upload);
    return commitOrDiscard(info, () -> store.inTransaction(tx -> {
      Written w = repository.create(tx, project, binary, info, upload.filename());
      alongside.accept(tx, w);
      return w;
    }));
  }

  public Written update(String project, String id, Upload upload, WritePreconditions preconditions) {
    return update(project, id, upload, preconditions, null);
  }

  /** An update whose securityContext {@code context} gives in the committing transaction. */
  private Written update(String project, String id, Upload upload, WritePreconditions preconditions,
      Function<ResourceStore.Tx, String> context) {
    ResourceIds.requireValid(id);
    Binary binary = binaryFor(project, upload);
    binary.setId(id);
    if (!preconditions.none()) {
      // judged before the body is read too (no 100 Continue for a 412); the writing transaction decides
      preconditions.requireForUpdate(store.read(tx -> tx.current(project, "Binary", id, false)), "Binary", id);
    }
    BlobInfo info = storeBlob(upload);
    return commitOrDiscard(info, () -> store.inTransaction(tx -> {
      if (context != null) {
        String ctx = context.apply(tx);
        binary.setSecurityContext(ctx == null ? null : new Reference(ctx));
      }
      return repository.update(tx, project, "Binary", id, binary, preconditions, info, upload.filename());
    }));
  }

  /** A stored version as a resource. */
  public Resource toResource(StoredResource s) {
    return repository.toResource(s);
  }

  /** The file name kept with a Binary version, or null. */
  public String filename(String project, String id, long version) {
    return store.read(tx -> tx.binaryContent(project, id, version)).map(BinaryContent::filename).orElse(null);
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
   * a new Binary, or a new version of {@code binaryId} (412 when that is absent or deleted by
   * then), in one transaction with {@code alongside}, which sees what was written and may veto it
   * by throwing. Audited. A securityContext deleted since the caller checked it leaves the Binary
   * unreadable, as a delete after the commit would. For a new version, {@code securityContext} is
   * what the upload named, null to keep the current version's, resolved in the committing
   * transaction ({@link BinaryWriteAccess#atCommit}).
   */
  public Written commitStored(Principal principal, String binaryId, String contentType, String securityContext,
      String filename, BlobInfo info, BiConsumer<ResourceStore.Tx, Written> alongside, AuditedRequest request) {
    Binary binary = new Binary();
    binary.setContentType(contentType);
    String project = principal.project();
    Written written = store.inTransaction(tx -> {
      String ctx = binaryId == null ? securityContext
          : writeAccess.atCommit(tx, principal, binaryId, securityContext);
      binary.setSecurityContext(ctx == null ? null : new Reference(ctx));
      Written w;
      if (binaryId == null) {
        w = repository.create(tx, project, binary, info, filename);
      } else {
        binary.setId(binaryId);
        w = repository.update(tx, project, "Binary", binaryId, binary, ResourceRepository.IF_MATCH_ANY, info,
            filename);
      }
      alongside.accept(tx, w);
      return w;
    });
    return recorded(principal, request, written);
  }

  /** The checks of a content type before its bytes are stored, or kept by a new version. */
  public void checkKept(String contentType) {
    requireStorable(contentType, "Binary.contentType", "Binary.contentType", null);
    policy.check(contentType, null);
  }

  /** Stores bytes that arrived inside a FHIR Binary resource (already in memory, size-limited). */
  public BlobInfo storeDecoded(byte[] data, String contentType) {
    checkKept(contentType);
    try {
      return blobs.put(new java.io.ByteArrayInputStream(data), policy.maxBytes());
    } catch (BlobTooLargeException e) {
      throw FhirException.tooLarge("Binary content exceeds the limit of " + policy.maxBytes() + " bytes");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs the DB write; deletes the freshly stored blob if it fails, unless its commit may have
   * stood ({@link CommitOutcomeUnknown}): the blob then stays, and the orphan sweeper removes it
   * if no row names it.
   */
  public <T> T commitOrDiscard(BlobInfo info, java.util.function.Supplier<T> write) {
    try {
      return write.get();
    } catch (RuntimeException e) {
      discardUnlessCommitted(info, e);
      throw e;
    }
  }

  /** {@link #discard} after {@code failure} of the write that would name {@code info}, unless it may have committed. */
  public void discardUnlessCommitted(BlobInfo info, RuntimeException failure) {
    if (info != null && failure instanceof CommitOutcomeUnknown) {
      LOG.warn("kept blob {}: the commit that names it may have stood; the orphan sweeper removes it if not",
          info.key());
      return;
    }
    discard(info);
  }

  /**
   * Deletes an unused blob, best effort: it never throws, since it runs after a commit (whose
   * answer stands) or beside the failure being reported; what it leaves, the sweeper deletes.
   */
  public void discard(BlobInfo info) {
    if (info == null) {
      return;
    }
    try {
      blobs.delete(info.key());
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not delete unused blob {}; the sweeper will retry", info.key(), e);
    }
  }

  Binary binaryFor(String project, Upload upload) {
    String contentType = upload.contentType() == null || upload.contentType().isBlank()
        ? "application/octet-stream" : upload.contentType().trim();
    requireStorable(contentType, "the Content-Type", null, upload.filename());
    policy.check(contentType, upload.filename());
    Binary b = new Binary();
    b.setContentType(contentType);
    if (upload.securityContext() != null && !upload.securityContext().isBlank()) {
      String ref = requireForm(upload.securityContext());
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

  /** 400 unless {@code securityContext} looks like {@code Patient/123}; trimmed. */
  static String requireForm(String securityContext) {
    String ref = securityContext.trim();
    if (!ref.matches("[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\\-.]{1,64}")) {
      throw FhirException.badRequest("a securityContext (X-Security-Context) must be a reference like Patient/123, got '"
          + (ref.length() > 80 ? ref.substring(0, 80) : ref) + "'");
    }
    return ref;
  }

  /**
   * Checked before a byte is stored: a refusal after the body would leave a blob for nothing.
   * {@code subject} names the content type in the diagnostic, {@code expression} (or null) in the issue.
   */
  private static void requireStorable(String contentType, String subject, String expression, String filename) {
    BinaryAttributes.requireContentType(contentType, subject, expression);
    BinaryAttributes.requireFilename(filename);
  }

  /**
   * The body stopped before its end (client gone, upstream cut): a 400 for an HTTP client, a
   * transient failure for an ingestion job, which retries.
   */
  static FhirException bodyInterrupted(IOException cause) {
    return new FhirException(IssueKind.INCOMPLETE,
        "the upload was interrupted before the whole body arrived; nothing was stored", cause);
  }

  private BlobInfo storeBlob(Upload upload) {
    try (InputStream decoded = ContentCodings.decode(ClientBody.marked(upload.body()), upload.contentEncoding())) {
      return blobs.put(decoded, policy.maxBytes());
    } catch (BlobTooLargeException e) {
      throw FhirException.tooLarge("Binary content exceeds the limit of " + policy.maxBytes() + " bytes");
    } catch (ExpansionGuard.TooExpanded e) {
      throw FhirException.tooLarge("refused: " + e.getMessage() + "; send content this repetitive without "
          + "Content-Encoding");
    } catch (ZipException | java.io.EOFException e) {
      // an EOF of the decoder, not the client's (those are ClientBody.ReadFailure): the stream lacks its end
      throw ContentCodings.invalid(upload.contentEncoding(), e);
    } catch (ClientBody.ReadFailure e) {
      LOG.debug("upload body could not be read", e);
      throw bodyInterrupted(e);
    } catch (IOException e) {
      throw new UncheckedIOException("could not store the upload", e);
    }
  }
}
