package org.fhirbox.binary;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiFunction;
import org.fhirbox.audit.AuditedRequest;
import org.fhirbox.audit.BinaryListener;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.fhir.Written;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.model.PendingUpload;
import org.fhirbox.model.StoredResource;
import org.fhirbox.signing.S3UploadSigner;
import org.fhirbox.signing.UploadUrlSigner;
import org.fhirbox.signing.UploadUrlSigner.Grant;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.LiveWrites;
import org.hl7.fhir.r4.model.Binary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Presigned direct uploads in server mode: {@code $upload-url} reserves a new Binary id and signs
 * a URL that lets anyone holding it {@code PUT} exactly the declared bytes, once, without
 * credentials. Everything the caller's token allows is checked when the URL is issued (Binary
 * create, the {@code securityContext} within a patient's compartment, deny list, size limit); the
 * deny list, limit and {@code securityContext} existence are checked again when the bytes arrive,
 * and the client named in the URL (and the user, for a URL issued to a person's token) must still
 * be enabled and allowed the Binary scope it was issued for, both before a byte is stored and again
 * before the commit ({@link UploadIssuers}).
 * An upload to S3 is held to the same when it is confirmed: one refused so is forgotten, and its
 * object left to the orphan sweeper.
 *
 * <p>Nothing is stored until the {@code PUT}: the reservation is the signed URL itself, and the id
 * is used once because the {@code PUT} creates {@code Binary/{id}} and a second one finds it
 * taken (409). An unused URL therefore leaves nothing behind, and a {@code PUT} that fails leaves
 * at most a blob the orphan sweeper removes.
 */
public final class DirectUploads {
  /** The longest lifetime a caller may ask for. */
  public static final Duration MAX_EXPIRES_IN = Duration.ofHours(1);
  /** The lifetime when the caller names none. */
  public static final Duration DEFAULT_EXPIRES_IN = Duration.ofMinutes(15);

  /** How often the background check looks at an unconfirmed upload to S3. */
  public static final Duration CHECK_INTERVAL = Duration.ofMinutes(1);
  private static final int CHECK_BATCH = 50;
  /** How long one round of the background check goes on while whole batches are due. */
  private static final Duration CHECK_BUDGET = Duration.ofSeconds(30);
  /** The {@code Retry-After} of a completion that reached a node not in the {@code s3} signing mode. */
  private static final long COMPLETE_ELSEWHERE_RETRY_SECONDS = 5;
  private static final Logger LOG = LoggerFactory.getLogger(DirectUploads.class);

  private final BinaryService binaries;
  private final UploadUrlBinaries uploadUrls;
  private final ResourceStore store;
  private final UploadUrlSigner signer;
  private final Clock clock;

  private final S3UploadSigner s3;
  private final BinaryListener audit;
  private final Duration grace;
  private final Executor background;
  private final BucketConfirmations confirmations;
  private final UploadIssuers issuers;

  /**
   * @param s3 signs S3 presigned PUTs in the {@code s3} signing mode, or null to take the bytes ourselves
   * @param audit told of every Binary version stored through an upload URL
   * @param grace how long after its URL expired an unconfirmed upload to S3 is waited for, and its
   *     confirmation URL taken ({@code FHIRBOX_ORPHAN_GRACE}): the next look after that is its last,
   *     and forgets it unless it confirms it (then the orphan sweeper removes its bytes)
   * @param background runs the background check soon after a confirmation, to read the object for
   *     its SHA-1 off the request thread
   * @param leases where a confirmation records the objects it reads or copies, so that no node's
   *     orphan sweep deletes them before their Binary is committed
   * @param issuers whether the client (and user) a URL names may still store what it was issued for
   */
  public DirectUploads(BinaryService binaries, ResourceStore store, UploadUrlSigner signer, S3UploadSigner s3,
      BinaryListener audit, Duration grace, Executor background, Clock clock, LiveWrites leases,
      UploadIssuers issuers) {
    this.binaries = binaries;
    this.uploadUrls = binaries.uploadUrls();
    this.store = store;
    this.signer = signer;
    this.s3 = s3;
    this.audit = audit;
    this.grace = grace;
    this.background = background;
    this.clock = clock;
    this.issuers = issuers;
    this.confirmations = s3 == null ? null : new BucketConfirmations(binaries, uploadUrls, store, s3, clock,
        this::wake, leases);
  }

  /** What the caller declares in {@code $upload-url}. */
  public record Request(String contentType, Long size, String sha256, String sha1, String filename,
      String securityContext, Long expiresInSeconds, boolean multipart) {}

  /**
   * The reserved Binary, the URL and the headers its {@code PUT} must carry; for an S3 presigned
   * upload, also the URL the client {@code POST}s to once the bytes are in the bucket; for an S3
   * multipart upload, no single URL but one per part.
   */
  public record Issued(String binaryId, String url, String method, Map<String, String> headers, Instant expires,
      String completeUrl, List<Part> parts) {}

  /** One part of an S3 multipart upload: bytes {@code [offset, offset + size)}, PUT to {@code url}. */
  public record Part(int number, long offset, long size, String url) {}

  /** {@code POST Binary/$upload-url}: reserves a Binary id and signs its upload URL. */
  public Issued issue(Principal principal, Request request, String baseUrl) {
    principal.require("Binary", Interaction.CREATE);
    if (request.size() == null) {
      throw FhirException.badRequest("$upload-url needs the size of the content in bytes", "size");
    }
    if (request.size() < 0) {
      throw FhirException.badRequest("size must not be negative", "size");
    }
    if (request.size() > binaries.policy().maxBytes()) {
      throw FhirException.tooLarge("a size of " + request.size() + " bytes exceeds the limit of "
          + binaries.policy().maxBytes() + " bytes");
    }
    String contentType = request.contentType() == null || request.contentType().isBlank()
        ? "application/octet-stream" : request.contentType().trim();
    // the PUT must send it as its Content-Type, and reads serve it as one
    BinaryAttributes.requireContentType(contentType, "contentType", "contentType");
    binaries.policy().check(contentType, request.filename());
    String sha256 = request.sha256() == null ? null : DeclaredContent.sha256Hex(request.sha256());
    String sha1 = request.sha1() == null ? null : DeclaredContent.sha1Hex(request.sha1());
    long expiresIn = request.expiresInSeconds() == null ? DEFAULT_EXPIRES_IN.toSeconds()
        : request.expiresInSeconds();
    if (expiresIn < 1 || expiresIn > MAX_EXPIRES_IN.toSeconds()) {
      throw FhirException.badRequest("expiresIn must be between 1 and " + MAX_EXPIRES_IN.toSeconds() + " seconds",
          "expiresIn");
    }
    String context = binaries.securityContext(principal, null, request.securityContext(), Interaction.CREATE);
    String ctx = context == null || context.isBlank() ? null : context.trim();
    String id = ResourceIds.newId();
    // Refuses a missing securityContext or an over-long type or file name now rather than at the PUT.
    uploadUrls.checkDeclared(principal.project(), contentType, ctx, request.filename());
    Instant expires = clock.instant().plusSeconds(expiresIn);
    // What the URL grants: only the S3 blob and multipart upload differ between the three ways.
    BiFunction<String, String, Grant> grantFor = (blobKey, uploadId) -> new Grant(id, principal.project(),
        request.size(), contentType, sha256, sha1, ctx, request.filename(), null, blobKey, uploadId,
        principal.clientId(), principal.user().orElse(null));
    if (s3 != null) {
      // S3 checks a presigned URL's expiry when a request starts, so a PUT begun just before it ends
      // after it: the confirmation URL lives as long as a read or the background check may confirm.
      Instant confirmable = expires.plus(grace);
      BlobKey key = BlobKey.random();
      if (request.size() > 0 && (request.multipart() || request.size() > S3UploadSigner.MAX_SINGLE_PUT)) {
        S3UploadSigner.PresignedParts parts;
        try {
          parts = s3.presignParts(key, request.size(), contentType, Duration.ofSeconds(expiresIn));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        Grant grant = grantFor.apply(key.value(), parts.uploadId());
        pending(grant, expires);
        return new Issued(id, null, "PUT", Map.of(), expires, signer.sign(baseUrl, grant, confirmable),
            parts.parts().stream().map(p -> new Part(p.number(), p.offset(), p.size(), p.url())).toList());
      }
      // A presigned S3 PUT can be repeated until it expires. With a declared SHA-256 or SHA-1 the
      // signed checksum keeps a repeat from writing other bytes; without one the PUT goes to a
      // staging object, which the confirmation copies to a new blob no URL can reach.
      S3UploadSigner.Presigned put = sha256 != null || sha1 != null
          ? s3.presignPut(key, request.size(), contentType, sha256, sha1, Duration.ofSeconds(expiresIn))
          : s3.presignStagedPut(key, request.size(), contentType, Duration.ofSeconds(expiresIn));
      Grant grant = grantFor.apply(key.value(), null);
      pending(grant, expires);
      return new Issued(id, put.url(), "PUT", put.headers(), expires, signer.sign(baseUrl, grant, confirmable),
          null);
    }
    Grant grant = grantFor.apply(null, null);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", contentType);
    return new Issued(id, signer.sign(baseUrl, grant, expires), "PUT", headers, expires, null, null);
  }

  /**
   * Medplum's {@code GET Binary/{id}/$presigned-url?upload=true}: a URL that stores the next
   * version of an existing Binary (one the caller may update and read), keeping its content type,
   * {@code securityContext} and file name. The size is not known in advance; the URL is used
   * once because it names the version it replaces.
   */
  public Issued issueReplacing(Principal principal, String id, String baseUrl) {
    principal.require("Binary", Interaction.UPDATE);
    // Before anything is read: 404 outside a patient limit, and the answer a read gets unless the
    // caller may read the current version, whose type and file name the URL keeps. The
    // securityContext is the one a raw PUT of this caller would give the new version: the current
    // one, or under a patient limit the patient's when the current version names none.
    String ctx = binaries.securityContext(principal, id, null, Interaction.UPDATE);
    StoredResource current = uploadUrls.currentBinary(principal.project(), id);
    Binary binary = (Binary) binaries.toResource(current);
    String contentType = binary.hasContentType() ? binary.getContentType() : "application/octet-stream";
    Grant grant = new Grant(id, principal.project(), null, contentType, null, null, ctx,
        binaries.filename(principal.project(), id, current.versionId()), current.versionId(), null, null,
        principal.clientId(), principal.user().orElse(null));
    Instant expires = clock.instant().plus(DEFAULT_EXPIRES_IN);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", contentType);
    return new Issued(id, signer.sign(baseUrl, grant, expires), "PUT", headers, expires, null, null);
  }

  /**
   * {@code PUT /storage/upload/{id}}: the signed URL is the credential. The request's
   * {@code Content-Type} must be the signed one; a declared {@code Content-Length} must equal the
   * signed size (checked before a byte is read); the bytes must then have that size and digest.
   */
  public Written receive(String binaryId, Map<String, String> query, String contentType, long contentLength,
      String contentEncoding, InputStream body, AuditedRequest request) {
    Grant grant = signer.verify(binaryId, query).grant();
    if (grant.blobKey() != null) {
      throw FhirException.methodNotAllowed("this URL confirms an upload to S3: POST to it once the bytes are there",
          "POST");
    }
    Interaction interaction = grant.baseVersion() == null ? Interaction.CREATE : Interaction.UPDATE;
    Runnable issuerAllowed = () -> issuers.require(grant.project(), grant.client(), grant.user(), interaction);
    issuerAllowed.run();
    if (grant.baseVersion() == null) {
      uploadUrls.requireUnused(binaryId);
    }
    if (contentType == null || !contentType.trim().equalsIgnoreCase(grant.contentType())) {
      throw FhirException.badRequest("this upload URL needs Content-Type: " + grant.contentType());
    }
    if (contentEncoding != null && !contentEncoding.isBlank()
        && !contentEncoding.trim().equalsIgnoreCase("identity")) {
      throw FhirException.unsupportedMediaType("an upload URL takes the content itself, without Content-Encoding");
    }
    if (contentLength >= 0 && grant.size() != null && contentLength != grant.size()) {
      throw FhirException.badRequest("Content-Length is " + contentLength + " but this upload URL is for exactly "
          + grant.size() + " bytes; nothing was stored");
    }
    BinaryService.Upload upload = new BinaryService.Upload(body, grant.contentType(), null, grant.securityContext(),
        grant.filename());
    DeclaredContent declared = DeclaredContent.of(grant);
    Written written = grant.baseVersion() != null
        ? uploadUrls.updateDeclared(grant.project(), binaryId, upload, declared, grant.baseVersion(), issuerAllowed)
        : uploadUrls.createDeclared(grant.project(), binaryId, upload, declared, issuerAllowed);
    return audited(request, grant, written, "stored by a PUT to a presigned upload URL");
  }

  /**
   * {@code POST /storage/upload/{id}?...&Blob=}: the completion step of an S3 presigned upload.
   * The object must be in the bucket with the declared size and SHA-256, where one was declared
   * (409 while it is not there), then {@code Binary/{id}} is created. Until then the Binary does not exist (404 or
   * 409), so no read ever gets bytes that were not checked. For a single {@code PUT} the store
   * vouches for both (see {@link BucketConfirmations#confirmObject}) and nothing is read; for a
   * multipart upload the parts in the bucket are first completed into the object, once they add
   * up to the declared size (409 while they do not, and the client may still send the missing
   * ones), and the object is read once. 410 once the upload is over without a Binary (refused at
   * an earlier confirmation, its object deleted and its parts' upload id gone).
   */
  public Written complete(String binaryId, Map<String, String> query, AuditedRequest request) {
    Grant grant = signer.verify(binaryId, query).grant();
    if (grant.blobKey() == null) {
      throw FhirException.methodNotAllowed("this upload URL takes the bytes with PUT", "PUT");
    }
    BinaryService.Upload meta = new BinaryService.Upload(InputStream.nullInputStream(), grant.contentType(), null,
        grant.securityContext(), grant.filename());
    DeclaredContent declared = DeclaredContent.of(grant);
    Optional<PendingUpload> pending = store.read(tx -> tx.pendingUploads().find(binaryId));
    if (pending.isEmpty()) {
      // The upload is over: confirmed (and its SHA-1 learnt), or refused and its object deleted.
      Optional<StoredResource> before = uploadUrls.createdAs(grant.project(), binaryId, declared);
      if (before.isPresent()) {
        return new Written(before.get(), binaries.toResource(before.get()), false, null, null);
      }
      throw UploadUrlBinaries.uploadOver(binaryId);
    }
    if (confirmations == null) {
      // Issued by a node in the s3 signing mode that shares this one's database and keys: what is
      // over (above) any node answers from the database, a pending upload only such a node confirms.
      throw FhirException.unavailable("this node does not confirm uploads straight to the bucket (it is not in"
          + " FHIRBOX_SIGNED_URL_MODE=s3); POST to this URL again to reach a node that is, or read Binary/" + binaryId
          + " there, which confirms it too", COMPLETE_ELSEWHERE_RETRY_SECONDS, null);
    }
    FhirException refused = pending.get().confirmed() ? null
        : issuers.refusal(grant.project(), grant.client(), grant.user(), Interaction.CREATE);
    if (refused != null) {
      forget(binaryId); // as a refused confirmation is: its object is left to the orphan sweeper
      throw refused;
    }
    Written written;
    try {
      written = confirmations.confirmObject(grant.project(), binaryId, meta, new BlobKey(grant.blobKey()),
          grant.uploadId(), declared);
    } catch (FhirException e) {
      if (e.status() != 409) {
        throw e;
      }
      // Confirmed before: by the first read or the background check (which do not wait for the
      // client), or by this call, whose answer was lost. The same answer again, not created.
      Optional<StoredResource> before = uploadUrls.createdAs(grant.project(), binaryId, declared);
      if (before.isEmpty()) {
        throw e;
      }
      return new Written(before.get(), binaries.toResource(before.get()), false, null, null);
    }
    if (written == null) {
      throw FhirException.conflict("the parts of Binary/" + binaryId + " in the bucket do not add up to "
          + grant.size() + " bytes yet: PUT every part first");
    }
    return audited(request, grant, written, "confirmed after a presigned upload straight to the bucket");
  }

  private void forget(String binaryId) {
    store.inTransaction(tx -> tx.pendingUploads().delete(binaryId));
  }

  /** Lets the background check read a just confirmed object for its SHA-1 now rather than at its next round. */
  private void wake() {
    try {
      background.execute(() -> {
        try {
          confirmDue();
        } catch (RuntimeException e) {
          LOG.warn("checking uploads to S3 failed", e);
        }
      });
    } catch (RejectedExecutionException e) {
      LOG.debug("not woken (shutting down): the next start's check reads the object", e);
    }
  }

  /** Remembers an upload to S3 until it is confirmed, so that a read or the background check can confirm it. */
  private void pending(Grant g, Instant expires) {
    PendingUpload p = new PendingUpload(g.binaryId(), g.project(), g.client(), g.user(), g.blobKey(), g.uploadId(),
        g.size(), g.sha256Hex(), g.sha1Hex(), g.contentType(), g.filename(), g.securityContext(), expires,
        clock.instant().plus(CHECK_INTERVAL), false);
    store.inTransaction(tx -> {
      tx.pendingUploads().insert(p);
      return null;
    });
  }

  /**
   * A read of {@code Binary/{id}} that found none: when an upload to S3 reserved that id in
   * {@code project} and the client never confirmed it, confirms it now, as the completion call
   * would (the object is read once). True when the Binary exists now; false when no upload is
   * pending; 409 while its bytes are not all in the bucket, so that a reader learns the content is
   * on its way instead of that it does not exist.
   */
  public boolean confirmOnRead(String project, String binaryId, AuditedRequest request) {
    if (s3 == null) {
      return false;
    }
    Optional<PendingUpload> pending = store.read(tx -> tx.pendingUploads().find(binaryId))
        .filter(p -> p.project().equals(project) && !p.confirmed());
    if (pending.isEmpty()) {
      return false;
    }
    Instant now = clock.instant();
    String how = "confirmed on the first read after a presigned upload straight to the bucket";
    boolean confirmed;
    try {
      confirmed = confirm(pending.get(), request, how);
    } catch (FhirException e) {
      if (refusedAtLastLook(pending.get(), now, e)) {
        LOG.info("the upload of Binary/{} was refused on its first read after its URL expired: {}", binaryId,
            e.getMessage());
        return false;
      }
      if (e.status() != 400 && e.status() != 410) {
        throw e;
      }
      // not the declared content (deleted, the upload forgotten), here or at a confirmation that
      // won the race (410): this reader finds no Binary
      LOG.info("the upload of Binary/{} was refused on its first read: {}", binaryId, e.getMessage());
      return false;
    }
    if (!confirmed && isLastLook(pending.get(), now)) {
      forget(binaryId); // not all there after the URL could no longer start a PUT: never will be
      return false;
    }
    if (!confirmed) {
      throw FhirException.conflict("the content of Binary/" + binaryId + " is being uploaded straight to storage and"
          + " is not all there yet; read it again once the upload is done");
    }
    return true;
  }

  /**
   * Whether {@code p}'s URL expired longer than the grace ago: this look is its last, and one that
   * finds the bytes not all there, or refuses them, forgets it. S3 checks a URL's expiry when a
   * request starts, so bytes there now came from a PUT that began in time, and the client that got
   * 200 from the bucket gets its Binary however late the look comes (every node down for hours, a
   * check far behind): until then the orphan sweeper spares the object of an upload not yet
   * confirmed, whatever its age (see {@link OrphanSweeper}).
   */
  private boolean isLastLook(PendingUpload p, Instant now) {
    return now.isAfter(p.expires().plus(grace));
  }

  /**
   * Whether {@code e}, from the last look at {@code p}, refuses the upload for good: any 4xx but
   * the 409 of bytes not all there. Not only content that is not the declared one (its object
   * deleted, the upload forgotten already), but a Binary that can no longer be made of it (its
   * {@code securityContext} deleted, its type now denied): the upload is forgotten, and its object
   * left to the sweeper, rather than looked at every minute for ever. A failure of the store or
   * the database (5xx) leaves it for the next look.
   */
  private boolean refusedAtLastLook(PendingUpload p, Instant now, FhirException e) {
    if (!isLastLook(p, now) || e.status() < 400 || e.status() >= 500 || e.status() == 409) {
      return false;
    }
    forget(p.binaryId());
    return true;
  }

  /**
   * The background check, on every node: confirms the uploads to S3 whose check is due and whose
   * bytes are all in the bucket, forgets those whose URL expired longer than the grace ago after
   * a last look finds them not there or refuses them (the orphan sweeper removes what there is;
   * that look comes however late the check runs, and still confirms bytes that are there), and reads the
   * object of each confirmed one once for its SHA-1. It goes on batch after batch while a whole
   * batch was due, for up to {@link #CHECK_BUDGET}, so that many outstanding URLs (abandoned ones
   * stay due every minute until their grace ends) do not put a real upload's look off by hours.
   * Returns how many it confirmed.
   */
  public int confirmDue() {
    if (s3 == null) {
      return 0;
    }
    long deadline = System.nanoTime() + CHECK_BUDGET.toNanos();
    int confirmed = 0;
    while (true) {
      Instant now = clock.instant();
      List<PendingUpload> due = store.read(tx -> tx.pendingUploads().due(now, CHECK_BATCH));
      for (PendingUpload p : due) {
        if (check(p, now)) {
          confirmed++;
        }
      }
      // each row looked at is due again only a CHECK_INTERVAL later, so the next batch is others
      if (due.size() < CHECK_BATCH || System.nanoTime() > deadline) {
        return confirmed;
      }
    }
  }

  /** One upload's look by the background check; whether it confirmed it. */
  private boolean check(PendingUpload p, Instant now) {
    if (!store.inTransaction(tx -> tx.pendingUploads().take(p.binaryId(), p.nextCheck(), now.plus(CHECK_INTERVAL)))) {
      return false; // another node checks it
    }
    if (p.confirmed()) {
      learnSha1(p);
      return false;
    }
    try {
      if (confirm(p, null, "confirmed by the background check after a presigned upload straight to the bucket")) {
        return true;
      }
      if (isLastLook(p, now)) {
        forget(p.binaryId());
      }
    } catch (FhirException e) {
      if (refusedAtLastLook(p, now, e)) {
        LOG.info("the upload of Binary/{} was refused at its last look, after its URL expired: {}", p.binaryId(),
            e.getMessage());
      } else if (e.status() != 400 && e.status() != 410) {
        LOG.warn("background check of the upload of Binary/{} failed: {}", p.binaryId(), e.toString());
      } else {
        // not the declared content (deleted, the upload forgotten), here or at a confirmation that
        // won the race (410): the check's outcome, as on a first read, not a failure
        LOG.info("the upload of Binary/{} was refused by the background check: {}", p.binaryId(), e.getMessage());
      }
    } catch (RuntimeException e) {
      LOG.warn("background check of the upload of Binary/{} failed: {}", p.binaryId(), e.toString());
    }
    return false;
  }

  /**
   * Confirms an upload the client did not: the Binary is created from the object when it is the
   * declared content (see {@link BucketConfirmations#confirmObject}); false, changing nothing, while the bytes are not
   * all there. Content that is not the declared one is deleted (400) and the upload forgotten; an
   * upload whose client or user is disabled or lost the Binary create scope is forgotten and its
   * object left to the orphan sweeper (410, as for an upload that is over).
   */
  private boolean confirm(PendingUpload p, AuditedRequest request, String how) {
    FhirException refused = issuers.refusal(p.project(), p.clientId(), p.userId(), Interaction.CREATE);
    if (refused != null) {
      forget(p.binaryId());
      throw FhirException.gone(refused.getMessage());
    }
    BinaryService.Upload meta = new BinaryService.Upload(InputStream.nullInputStream(), p.contentType(), null,
        p.securityContext(), p.filename());
    Written written;
    try {
      written = confirmations.confirmObject(p.project(), p.binaryId(), meta, new BlobKey(p.blobKey()), p.uploadId(),
          new DeclaredContent(p.size(), p.sha256Hex(), p.sha1Hex()));
    } catch (FhirException e) {
      if (e.status() != 409) {
        throw e;
      }
      // not in the bucket yet, or confirmed meanwhile by another request or node
      List<BinaryContent> exists = store.read(tx -> tx.binaryContentAnyProject(p.binaryId(), 1));
      if (!exists.isEmpty() && exists.get(0).sha1Hex() != null) {
        forget(p.binaryId());
      } else if (!exists.isEmpty()) {
        // confirmed by a node that stopped before it marked the row: the SHA-1 is still to be learnt
        store.inTransaction(tx -> tx.pendingUploads().markConfirmed(p.binaryId(), clock.instant()));
        wake();
      }
      return !exists.isEmpty();
    }
    if (written == null) {
      return false;
    }
    audit.uploadedByUrl(request, p.project(), p.clientId(), (Binary) binaries.toResource(written.stored()),
        written.created(), how);
    return true;
  }

  /**
   * Reads a confirmed upload's object once and records its SHA-1, then forgets the upload. A
   * failed read leaves it for the next round; an object that is gone, or bytes that are not what
   * the store vouched for, are reported and the SHA-1 left unknown rather than taken from them.
   */
  private void learnSha1(PendingUpload p) {
    try {
      if (!uploadUrls.learnSha1(new BlobKey(p.blobKey()), p.size(), p.sha256Hex())) {
        LOG.error("the object of Binary/{} is no longer the {} bytes with the SHA-256 the store confirmed; its SHA-1"
            + " stays unknown", p.binaryId(), p.size());
      }
    } catch (NoSuchFileException e) {
      LOG.error("the object of Binary/{} is gone from the bucket; its SHA-1 stays unknown", p.binaryId());
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("reading the object of Binary/{} for its SHA-1 failed; tried again in {}", p.binaryId(),
          CHECK_INTERVAL, e);
      return;
    }
    forget(p.binaryId());
  }

  private Written audited(AuditedRequest request, Grant grant, Written written, String how) {
    audit.uploadedByUrl(request, grant.project(), grant.client(), (Binary) binaries.toResource(written.stored()),
        written.created(), how);
    return written;
  }
}
