package org.fhirbox.binary;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.fhirbox.audit.AuditedRequest;
import org.fhirbox.audit.BinaryListener;
import org.fhirbox.audit.DownloadListener;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;
import org.fhirbox.fhir.BinaryAccess;
import org.fhirbox.fhir.ResourceRepository;

/**
 * The way to a Binary's stored bytes: for an authenticated caller, checked by
 * {@link BinaryAccess} (project, Binary read scope, {@code securityContext}); for a signed
 * {@code /storage} URL, whose signature was verified, by id and version alone, and for a share link
 * also by the Binary's current state (not deleted, the same {@code securityContext}, which names a
 * resource that still exists). An access that
 * sends content or a signed URL is audited once the response was sent, or once sending it failed
 * part way (a client that closed the connection had bytes all the same: a video player closes its
 * open-ended Range request on every seek). A refusal while answering (412, 416) is no access, nor
 * is content found missing from the blob store (500): no byte of it was sent; nor is a 304,
 * which sent none either.
 */
public final class BinaryReads {
  private final ResourceStore store;
  private final ResourceRepository repository;
  private final BinaryAccess access;
  private final BinaryListener audit;
  private final DownloadListener downloads;
  private final Map<String, BinaryContent> recent = new ConcurrentHashMap<>();

  public BinaryReads(ResourceStore store, ResourceRepository repository, BinaryAccess access, BinaryListener audit,
      DownloadListener downloads) {
    this.store = store;
    this.repository = repository;
    this.access = access;
    this.audit = audit;
    this.downloads = downloads;
  }

  /**
   * Writes a Binary version's FHIR form for content the caller may have; throws when it could not
   * be sent. True when the answer carries a signed URL of the content (its JSON {@code url}).
   */
  public interface Response {
    boolean send(BinaryContent content) throws IOException;
  }

  /**
   * Writes an answer that may carry the content: true when it did, false when it sent none (a 304
   * to a conditional request), which is neither a read nor a download.
   */
  public interface SignedResponse {
    boolean send(BinaryContent content) throws IOException;
  }

  /** Sends the raw content of a Binary version the caller has read, then audits the read. */
  public void sendContent(Principal principal, StoredResource s, AuditedRequest request, SignedResponse response)
      throws IOException {
    BinaryContent c = content(principal, s);
    sendAudited(response, c, () -> audit.read(request, principal, c));
  }

  /**
   * Sends a Binary version as a FHIR resource, then audits it: as a signed URL issued when the
   * answer carried one, else as a read of the resource alone.
   */
  public void sendResource(Principal principal, StoredResource s, AuditedRequest request, Response response)
      throws IOException {
    BinaryContent c = content(principal, s);
    AtomicBoolean issued = new AtomicBoolean();
    SignedResponse sent = content -> {
      issued.set(response.send(content));
      return true;
    };
    sendAudited(sent, c, () -> {
      if (issued.get()) {
        audit.signed(request, principal, c);
      } else {
        audit.resourceRead(request, principal, c);
      }
    });
  }

  /**
   * {@code $presigned-url}: the URL {@code sign} makes for {@code version} of the Binary, or for its
   * current version when null, audited as issued.
   */
  public String presignedUrl(Principal principal, String id, Long version, AuditedRequest request,
      Function<BinaryContent, String> sign) {
    BinaryContent c = content(principal, found(principal, id, version));
    String url = sign.apply(c);
    audit.signed(request, principal, c);
    return url;
  }

  /** Signs a share link of a Binary version: its content, and what the link is bound to. */
  public interface ShareSigner {
    String sign(BinaryContent content, List<Long> contextVersions);
  }

  /**
   * {@link #presignedUrl} for a share link: {@code sign} gets the versions of the resources along
   * the securityContext chain ({@link BinaryAccess#contextVersions}), read in the same transaction
   * as the check that the caller may read the Binary, so the link is bound to what that check saw.
   */
  public String presignedShareUrl(Principal principal, String id, Long version, AuditedRequest request,
      ShareSigner sign) {
    StoredResource s = found(principal, id, version);
    BinaryContent c = stored(principal, s);
    List<Long> contextVersions = access.requireRead(principal, c, tx -> access.contextVersions(tx, c));
    String url = sign.sign(c, contextVersions);
    audit.signed(request, principal, c);
    return url;
  }

  /** {@link BinaryAccess#contextTypes}: the types reading {@code c} asks for through its securityContext. */
  public List<String> contextTypes(BinaryContent c) {
    return c.securityContext() == null ? List.of() : store.read(tx -> access.contextTypes(tx, c));
  }

  /**
   * Sends the content a verified signed URL names, then audits the download.
   *
   * @param shareLink the URL is a share link ({@code StorageUrlSigner.Verified#shareLink}): served
   *     only while no version after the signed one is a deletion and the current version has the
   *     signed version's {@code securityContext}; any other signed URL serves its version until it
   *     expires
   * @param contextVersions the versions of the resources along the securityContext chain a share
   *     link is bound to ({@link BinaryAccess#contextVersions}; one number: the first resource only),
   *     or null (a link made before links were bound to them)
   * @throws FhirException 410 for a share link of a deleted Binary, 403 for one whose Binary's
   *     {@code securityContext} changed or names a resource that no longer exists, or names a chain
   *     with a resource deleted after its version in {@code contextVersions} or a Binary moved since
   */
  public void sendSigned(String id, long version, boolean shareLink, List<Long> contextVersions,
      AuditedRequest request, SignedResponse response) throws IOException {
    BinaryContent c = signedFor(id, version);
    if (shareLink) {
      requireUnchanged(c, contextVersions);
    }
    sendAudited(response, c, () -> downloads.downloaded(request, c));
  }

  /**
   * Refuses a share link whose Binary was deleted since (410, as a FHIR read of it answers; also
   * once an update created it again), whose current version has another {@code securityContext}
   * (403: the link was made for content under the old one), or whose securityContext names a resource that is deleted or gone, also through a
   * Binary it names ({@link BinaryAccess#contextExists}; 403: no one may read the Binary any more), or
   * where a resource along that chain was deleted after the version the link is bound to (403: one
   * created again under its id is another), or a Binary along it has another securityContext than at
   * that version (403: the chain leads elsewhere; {@link BinaryAccess#contextSince}). All in one
   * snapshot of the database. The current version's row is the store's, which a write of the Binary
   * invalidates, never this class's cache of version rows.
   */
  private void requireUnchanged(BinaryContent signed, List<Long> contextVersions) {
    store.readSnapshot(tx -> {
      BinaryContent current = tx.currentBinaryContent(signed.project(), signed.binaryId()).orElse(null);
      if (current == null) {
        boolean deleted = tx.current(signed.project(), "Binary", signed.binaryId(), false)
            .map(StoredResource::deleted).orElse(false);
        throw deleted ? endedByDeletion(signed) : FhirException.notFound("the content of this URL no longer exists");
      }
      // a deletion ends the link for good: an update that creates the Binary again (FHIR R4
      // RESTful API, update as create) may put anyone's content under the id, and must not bring
      // the deleted version back to everyone holding a link to it
      if (tx.deletedAfter(signed.project(), "Binary", signed.binaryId(), signed.versionId())) {
        throw endedByDeletion(signed);
      }
      if (!Objects.equals(current.securityContext(), signed.securityContext())) {
        throw FhirException.forbidden("the securityContext of Binary/" + signed.binaryId()
            + " changed since this share link was made; ask for a new link");
      }
      if (!access.contextExists(tx, current)) {
        throw FhirException.forbidden("the resource named by the securityContext of Binary/" + signed.binaryId()
            + " no longer exists; its share links ended with it");
      }
      BinaryAccess.ContextSince since = contextVersions == null ? BinaryAccess.ContextSince.SAME
          : access.contextSince(tx, current, contextVersions);
      if (since == BinaryAccess.ContextSince.DELETED) {
        throw FhirException.forbidden("the resource named by the securityContext of Binary/" + signed.binaryId()
            + " was deleted since this share link was made; its share links ended with it");
      }
      if (since == BinaryAccess.ContextSince.MOVED) {
        throw FhirException.forbidden("a Binary named along the securityContext of Binary/" + signed.binaryId()
            + " has another securityContext since this share link was made; ask for a new link");
      }
      return null;
    });
  }

  private static FhirException endedByDeletion(BinaryContent signed) {
    return FhirException.gone("Binary/" + signed.binaryId() + " was deleted; its share links ended with it");
  }

  /**
   * Sends {@code c}, then records the access, also when the sending failed part way; not after a
   * refusal or missing content, which the response reports as a {@link FhirException} before sending
   * any, nor after an answer without the content (304).
   */
  private static void sendAudited(SignedResponse response, BinaryContent c, Runnable record) throws IOException {
    boolean noContent = false;
    try {
      noContent = !response.send(c);
    } catch (FhirException e) {
      noContent = true;
      throw e;
    } finally {
      if (!noContent) {
        record.run();
      }
    }
  }

  /** The content of a Binary version the caller has read; 403 when its securityContext forbids it. */
  public BinaryContent content(Principal principal, StoredResource s) {
    BinaryContent c = stored(principal, s);
    access.requireRead(principal, c);
    return c;
  }

  /** The content row of {@code s}, not yet checked against the caller. */
  private BinaryContent stored(Principal principal, StoredResource s) {
    return store.read(tx -> tx.binaryContent(principal.project(), s.id(), s.versionId()))
        .orElseThrow(() -> FhirException.notFound("Binary/" + s.id() + " has no content"));
  }

  /**
   * {@code version} of {@code Binary/{id}} (the current one when null) as a read or vread of it
   * would find it: 404 outside the caller's compartment, 410 for a deletion. Its content is still
   * to be checked ({@link #content}).
   */
  private StoredResource found(Principal principal, String id, Long version) {
    principal.require("Binary", Interaction.READ);
    return store.read(tx -> {
      access.requireVisible(tx, principal, id, version);
      return version == null ? repository.read(tx, principal.project(), "Binary", id)
          : repository.vread(tx, principal.project(), "Binary", id, version);
    });
  }

  /**
   * The content a verified signed URL names, in any project (the signature is the credential).
   * A Binary version's content never changes, so lookups are cached: a video player sends many
   * small Range requests for one URL, and none of them should cost a database round trip. Only
   * those rows are: whether the Binary was deleted or changed since is never cached here.
   */
  public BinaryContent signedFor(String id, long version) {
    String key = id + "/" + version;
    BinaryContent cached = recent.get(key);
    if (cached != null) {
      return cached;
    }
    List<BinaryContent> found = store.read(tx -> tx.binaryContentAnyProject(id, version));
    if (found.size() != 1) {
      throw FhirException.notFound("the content of this URL no longer exists");
    }
    if (recent.size() >= 4096) {
      recent.clear(); // crude bound; entries are cheap to load again
    }
    recent.put(key, found.get(0));
    return found.get(0);
  }
}
