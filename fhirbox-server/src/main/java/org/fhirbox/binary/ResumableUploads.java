package org.fhirbox.binary;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.fhirbox.audit.AuditedRequest;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.db.CommitOutcomeUnknown;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.ResumableUpload;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.BlobStore;
import org.fhirbox.storage.BlobTooLargeException;
import org.fhirbox.storage.ConcurrentAppendException;
import org.fhirbox.storage.PartialBlob;
import org.fhirbox.storage.ResumableBlobs;
import org.fhirbox.storage.TrailingDigests;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resumable uploads (tus 1.0.0): an upload is created with what the Binary will be, receives its
 * bytes in any number of pieces from any node, and once the last byte is stored becomes a Binary
 * (or a new version of one) committed as a raw {@code POST /Binary} is, with the same checks,
 * digests, size limit and audit event.
 *
 * <p>Durability: the database row holds the offset and the blob store's state of the partial
 * blob ({@link ResumableBlobs}); a piece is acknowledged only once both are stored, so any node
 * resumes any upload, after any crash, where the last acknowledgement left it.
 *
 * <p>Races: a request writes only while it holds the upload's lease ({@link UploadLeases}); of two
 * racing requests one writes and the other gets 409, or 423 while the first one still holds it.
 *
 * <p>Digests: the SHA-1 ({@code Attachment.hash}) is computed while the bytes arrive and kept
 * between pieces by the node that received them ({@link RunningDigests}); when the pieces came to
 * several nodes, or across a restart, the stored bytes are read back (a file) or the complete
 * blob is read once more (S3, which then gives the SHA-256 too).
 *
 * <p>Ownership: an upload belongs to its project, client and (for a person's token) user; anyone
 * else gets 404, as for a resource of another project. Every request needs the scopes a raw
 * upload needs: create on Binary, or update for a new version of an existing one.
 */
public final class ResumableUploads {
  private static final Logger LOG = LoggerFactory.getLogger(ResumableUploads.class);
  private static final int RUNNING_DIGESTS = 4096;
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Random bytes of an upload id, written as twice as many hex digits. */
  private static final int ID_BYTES = 16;

  private final ResourceStore store;
  private final ResumableBlobs blobs;
  private final BinaryService binaries;
  private final Clock clock;
  private final Duration expiry;
  private final OpenUploadCaps caps;
  private final RunningDigests running = new RunningDigests(RUNNING_DIGESTS);
  private final UploadLeases leases;
  private final UploadRemovals removals;
  private final UploadCompletions completions;
  private final ExpiredUploads sweep;
  private volatile UploadPauses pauses = UploadPauses.NONE;

  /**
   * @param maxOpen the most unfinished, unexpired uploads one client (and user, for a person's
   *     token) of a project may have at once ({@code FHIRBOX_UPLOAD_MAX_OPEN})
   * @param maxOpenPerProject the most a project's clients may have together, 0 for no cap
   *     ({@code FHIRBOX_UPLOAD_MAX_OPEN_PER_PROJECT})
   * @param issuers whether the client (and user) that began an upload may still commit its Binary
   */
  public ResumableUploads(ResourceStore store, BlobStore blobStore, BinaryService binaries, Duration expiry,
      Duration lease, int maxOpen, int maxOpenPerProject, UploadIssuers issuers, Clock clock) {
    this.store = store;
    this.caps = new OpenUploadCaps(maxOpen, maxOpenPerProject, expiry);
    this.blobs = blobStore.resumable();
    this.binaries = binaries;
    this.expiry = expiry;
    this.clock = clock;
    this.leases = new UploadLeases(store, lease);
    this.removals = new UploadRemovals(store, blobs, leases);
    this.completions = new UploadCompletions(store, blobStore, binaries, issuers, expiry, clock, running,
        leases);
    this.sweep = new ExpiredUploads(store, leases, removals, running, clock);
  }

  /**
   * What a new upload will become.
   *
   * @param length the whole length in bytes, or null when the client defers it
   * @param metadata {@code Upload-Metadata} as sent (echoed on {@code HEAD}), or null
   * @param binaryId an existing Binary the upload becomes a new version of, or null for a new Binary
   */
  public record Creation(Long length, String metadata, String contentType, String filename, String securityContext,
      String binaryId) {}

  /** A piece's {@code Upload-Checksum}: a JDK digest algorithm and the digest the client computed. */
  public record Checksum(String algorithm, byte[] expected) {}

  /** The largest upload (tus {@code Tus-Max-Size}). */
  public long maxBytes() {
    return binaries.policy().maxBytes();
  }

  /** Creates an upload after the checks a raw upload gets before its first byte. */
  public ResumableUpload create(Principal principal, Creation c) {
    principal.require("Binary", c.binaryId() == null ? Interaction.CREATE : Interaction.UPDATE);
    if (c.length() != null && c.length() > maxBytes()) {
      throw FhirException.tooLarge("Upload-Length " + c.length() + " exceeds the limit of " + maxBytes() + " bytes");
    }
    String contentType = c.contentType() == null || c.contentType().isBlank() ? "application/octet-stream"
        : c.contentType().trim();
    String requested = c.securityContext() == null || c.securityContext().isBlank() ? null
        : c.securityContext().trim();
    Interaction interaction = c.binaryId() == null ? Interaction.CREATE : Interaction.UPDATE;
    // as for a raw upload: a token whose Binary writes are limited to its launch patient writes
    // only into that patient's compartment, and no context means the patient
    String context = binaries.securityContext(principal, c.binaryId(), requested, interaction);
    binaries.check(principal.project(), contentType, context, c.filename());
    if (c.binaryId() != null) {
      binaries.requireExisting(principal.project(), c.binaryId());
    }
    caps.require(store, principal, clock.instant());
    PartialBlob blob;
    try {
      blob = blobs.begin();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the upload's storage", e);
    }
    Instant now = clock.instant();
    ResumableUpload u = new ResumableUpload(randomHex(ID_BYTES), principal.project(), principal.clientId(),
        principal.user().orElse(null), c.binaryId(), contentType, c.filename(), context,
        c.binaryId() != null && requested == null, c.metadata(), c.length(),
        blob, null, false, null, null, now, now, now.plus(expiry));
    try {
      store.inTransaction(tx -> {
        // counted again under the lock of this owner's (or project's) creations: of creations at
        // the same moment, each one counts what the ones before it stored
        caps.reserve(tx, principal, now);
        pauses.at(UploadPauses.Point.CREATING, u.id());
        tx.uploads().insert(u);
        return null;
      });
    } catch (FhirException e) {
      discard(u);
      throw e;
    }
    return u;
  }

  /** Frees what a creation refused after its storage began holds; a failure leaves it to the orphan sweep. */
  private void discard(ResumableUpload u) {
    try {
      blobs.discard(u.blob());
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not delete the storage of refused upload {}", u.id(), e);
    }
  }

  /**
   * The upload as it stands ({@code HEAD}). One whose bytes are all stored but whose Binary was
   * not committed (its node crashed in between) is committed now; while another request commits
   * it, 423 with {@code Retry-After}.
   */
  public ResumableUpload status(Principal principal, String id, AuditedRequest request) {
    // the expiry once the piece being written (if any) is stored: that piece moves it on
    ResumableUpload u = requireUnexpired(leases.settled(ownedEvenExpired(principal, id)));
    if (u.complete() && !u.finished()) {
      if (u.leased()) {
        throw UploadCompletions.committing(u);
      }
      return completions.finish(principal, u, running.take(id), request);
    }
    return u;
  }

  /**
   * Appends a piece ({@code PATCH}) at {@code offset}, which must be the upload's offset (else
   * 409). When the piece completes the upload, the Binary is committed before this returns. A
   * body cut off by the client keeps what arrived (tus: store as much as possible), unless it
   * came with a checksum, which then cannot be verified.
   *
   * @param length {@code Upload-Length} sent with the piece (a deferred length), or null
   * @param declaredBytes the body's Content-Length, or -1
   * @return the upload after the piece
   */
  public ResumableUpload append(Principal principal, String id, long offset, Long length, long declaredBytes,
      InputStream body, Checksum checksum, AuditedRequest request) {
    ResumableUpload u = owned(principal, id);
    if (offset != u.offset()) {
      throw FhirException.conflict("Upload-Offset " + offset + " is not the upload's offset " + u.offset()
          + "; ask HEAD for it and continue from there");
    }
    if (u.finished()) {
      return repeated(u, length, declaredBytes, body);
    }
    Room room = room(u, offset, length, declaredBytes);
    String owner = leases.newOwner();
    RunningDigests.Entry kept = running.take(id);
    // Catching up may read stored bytes back, which no request changes: before the lease, so that
    // the lease is not held without bytes arriving; but not while another request holds it (a
    // client's retry), which would read them only to be refused.
    boolean busy = u.leased();
    RunningDigests.Entry digests = busy ? null : caughtUp(u, kept);
    UploadLeases.Held lease;
    try {
      lease = leases.claim(u, owner);
    } catch (FhirException e) {
      ResumableUpload finished = e.status() == 409 ? finishedAt(id, offset) : null;
      if (finished != null) {
        // the request it waited for committed the Binary at this offset: an empty retry of the
        // last piece is answered as for a finished upload (204 naming the Binary), not as a race
        return repeated(finished, length, declaredBytes, body);
      }
      keep(id, busy ? kept : digests);
      throw e;
    } catch (RuntimeException e) {
      keep(id, busy ? kept : digests);
      throw e;
    }
    u = lease.upload();
    try {
      // again on the row as this request holds it: a racing request may have declared the length
      // since the read above, and once declared it cannot change (tus creation-defer-length)
      room = room(u, offset, length, declaredBytes);
    } catch (FhirException e) {
      leases.releaseQuietly(id, owner);
      keep(id, busy ? kept : digests);
      throw e;
    }
    Long total = room.total();
    if (busy) {
      digests = caughtUp(u, kept);
    }
    boolean held = true;
    try {
      MessageDigest chunk = checksum == null ? null : digest(checksum.algorithm());
      ReceivedBody received = new ReceivedBody(body);
      PartialBlob next = appendKeepingLease(lease, owner, received, room.limit(), total,
          chunk == null ? List.of() : List.of(chunk), digests == null ? null : digests.digests());
      if (checksum != null && (received.cut() != null
          || !MessageDigest.isEqual(chunk.digest(), checksum.expected()))) {
        forget(next, u.blob());
        digests = null;
        if (received.cut() != null) {
          throw BinaryService.bodyInterrupted(received.cut());
        }
        throw new FhirException(IssueKind.CHECKSUM_MISMATCH, "the piece does not match its Upload-Checksum ("
            + checksum.algorithm() + "); it was discarded and the offset stays " + offset);
      }
      Instant expires = advance(u, owner, next, total);
      held = false;
      ResumableUpload after = u.withProgress(next, total, expires);
      RunningDigests.Entry now = digests == null ? null : digests.at(next.length());
      digests = null;
      if (received.cut() != null) {
        keep(id, now);
        LOG.debug("upload {} cut off at {} bytes; they are kept", id, next.length());
        // tus: what arrived is stored; the client asks HEAD for the offset to go on from
        throw new FhirException(IssueKind.INCOMPLETE, "the piece was interrupted before its whole body arrived;"
            + " what arrived is stored, and the upload's offset is now " + next.length(), received.cut());
      }
      if (after.complete()) {
        return completions.finish(principal, after, now, request);
      }
      keep(id, now);
      return after;
    } finally {
      if (held) {
        leases.releaseQuietly(id, owner);
      }
    }
  }

  /** Deletes an upload ({@code DELETE}, tus termination) and what it stored; a finished upload's Binary stays. */
  public void terminate(Principal principal, String id) {
    ownedEvenExpired(principal, id);
    running.remove(id);
    removals.terminate(id);
  }

  /**
   * Removes uploads whose expiry passed, however many (see {@link ExpiredUploads}); returns the
   * number of unfinished uploads removed.
   */
  public int sweepExpired() {
    return sweep.sweep();
  }

  /** How many expired uploads one statement of the sweep takes (tests; see {@link ExpiredUploads}). */
  void sweepBatch(int size) {
    sweep.batch(size);
  }

  /** Holds requests at the points {@code pauses} chooses (tests make races happen with it). */
  void pauseAt(UploadPauses pauses) {
    this.pauses = pauses;
    leases.pauseAt(pauses);
  }

  /** Whether an unfinished upload writes the blob {@code key} (the orphan sweep leaves it alone). */
  public boolean isResuming(BlobKey key) {
    return store.read(tx -> tx.uploads().isResuming(key));
  }

  /**
   * Frees every lease; only where one process uses the database (embedded H2), at its start:
   * what the previous process held, it held when it died.
   */
  public void releaseLeasesOfAnEarlierProcess() {
    int released = store.inTransaction(tx -> tx.uploads().releaseAll());
    if (released > 0) {
      LOG.info("released {} upload leases held when the server stopped", released);
    }
  }

  /** The upload if {@code principal} owns it and it has not expired: 404 or 410 otherwise. */
  private ResumableUpload owned(Principal principal, String id) {
    return requireUnexpired(ownedEvenExpired(principal, id));
  }

  /**
   * 410 when {@code u} expired: unfinished, past its expiry, and no request writing to it (a piece
   * that runs past the expiry moves it on when it is stored).
   */
  private ResumableUpload requireUnexpired(ResumableUpload u) {
    Instant now = clock.instant();
    boolean written = u.leased();
    if (!u.finished() && !u.expires().isAfter(now) && !written) {
      throw FhirException.gone("the upload expired at " + u.expires() + "; start a new one");
    }
    return u;
  }

  private ResumableUpload ownedEvenExpired(Principal principal, String id) {
    ResumableUpload u = store.read(tx -> tx.uploads().find(id))
        .filter(x -> x.project().equals(principal.project()) && x.clientId().equals(principal.clientId())
            && Objects.equals(x.userId(), principal.user().orElse(null)))
        .orElseThrow(() -> FhirException.notFound("no upload " + id));
    principal.require("Binary", u.binaryId() == null ? Interaction.CREATE : Interaction.UPDATE);
    return u;
  }

  /**
   * A piece at the final offset of finished upload {@code u}: an empty one (declared so, or a
   * chunked body that ends before its first byte) repeats the last request, whose answer was lost;
   * one with bytes is 409 (before the room check, which would call it 413), nothing read beyond
   * its first byte.
   */
  private ResumableUpload repeated(ResumableUpload u, Long length, long declaredBytes, InputStream body) {
    settleLength(u, length);
    boolean empty = declaredBytes == 0;
    if (declaredBytes < 0) {
      try {
        empty = body.read() < 0;
      } catch (IOException e) {
        throw BinaryService.bodyInterrupted(e);
      }
    }
    if (!empty) {
      throw FhirException.conflict("upload " + u.id() + " is finished at " + u.offset() + " bytes and became Binary/"
          + u.resultId() + "/_history/" + u.resultVersion() + "; it takes no more bytes");
    }
    return u;
  }

  /** Upload {@code id} as it is now if it is finished at {@code offset}; else null. */
  private ResumableUpload finishedAt(String id, long offset) {
    return store.read(tx -> tx.uploads().find(id)).filter(u -> u.finished() && u.offset() == offset).orElse(null);
  }

  /** The upload's whole length after a piece (null: still deferred), and the most it may then hold. */
  private record Room(Long total, long limit) {}

  /**
   * The room a piece at {@code offset} declaring {@code length} (or null) and {@code declaredBytes}
   * (or -1) has in {@code u}; 400 or 413 when it has none.
   */
  private Room room(ResumableUpload u, long offset, Long length, long declaredBytes) {
    Long total = settleLength(u, length);
    long limit = Math.min(maxBytes(), total == null ? Long.MAX_VALUE : total);
    if (declaredBytes >= 0 && declaredBytes > limit - offset) {
      throw tooLarge(u, total, offset + declaredBytes);
    }
    return new Room(total, limit);
  }

  /** Puts running digests back for the next piece, if there are any. */
  private void keep(String id, RunningDigests.Entry digests) {
    if (digests != null) {
      running.put(id, digests);
    }
  }

  /** The length after a piece that may declare it (tus creation-defer-length); 400 when it contradicts. */
  private Long settleLength(ResumableUpload u, Long declared) {
    if (declared == null) {
      return u.length();
    }
    if (u.length() != null && !u.length().equals(declared)) {
      throw FhirException.badRequest("Upload-Length " + declared + " differs from the upload's length " + u.length()
          + ", which cannot change");
    }
    if (declared < u.offset()) {
      throw FhirException.badRequest("Upload-Length " + declared + " is less than the " + u.offset()
          + " bytes already stored");
    }
    if (declared > maxBytes()) {
      throw FhirException.tooLarge("Upload-Length " + declared + " exceeds the limit of " + maxBytes() + " bytes");
    }
    return declared;
  }

  private FhirException tooLarge(ResumableUpload u, Long total, long wouldBe) {
    return total != null && total <= maxBytes()
        ? FhirException.tooLarge("the upload would hold " + wouldBe + " bytes, more than its Upload-Length " + total
            + "; nothing of this piece was stored")
        : FhirException.tooLarge("the upload would hold " + wouldBe + " bytes, more than the limit of " + maxBytes()
            + " bytes; nothing of this piece was stored");
  }

  private PartialBlob appendKeepingLease(UploadLeases.Held held, String owner, InputStream body, long limit,
      Long total, List<MessageDigest> chunk, TrailingDigests running) {
    ResumableUpload u = held.upload();
    try {
      UploadLeases.LeaseKeeper keeper = leases.keeper(body, held, owner);
      return blobs.append(u.blob(), keeper, limit, total == null ? -1 : total, chunk, running, keeper);
    } catch (BlobTooLargeException e) {
      throw tooLarge(u, total, limit + 1);
    } catch (ConcurrentAppendException | UploadLeases.LeaseLost e) {
      if (e instanceof UploadLeases.LeaseLost) {
        freeIfTerminated(u, () -> blobs.discard(u.blob()));
      }
      throw FhirException.conflict("another request is writing to this upload; nothing of this piece was stored");
    } catch (IOException e) {
      throw new UncheckedIOException("could not store the piece", e);
    }
  }

  /**
   * Persists {@code next} under the lease, or frees what it holds and says why not; the new expiry.
   * Only progress moves the expiry on (tus expiration: a server may renew it on activity): bytes
   * stored, or the deferred length declared. An empty piece keeps it, so that a client cannot hold
   * an upload, and what it stored, for ever with one empty request a day.
   */
  private Instant advance(ResumableUpload u, String owner, PartialBlob next, Long total) {
    Instant now = clock.instant();
    boolean progress = next.length() > u.offset() || u.length() == null && total != null;
    Instant expires = progress ? now.plus(expiry) : u.expires();
    boolean advanced;
    try {
      advanced = store.inTransaction(tx -> tx.uploads().advance(u.id(), owner, next, total, now, expires));
    } catch (CommitOutcomeUnknown e) {
      // the row may name next now: what next holds stays (HEAD tells the client the offset)
      throw e;
    } catch (RuntimeException e) {
      forget(next, u.blob());
      throw e;
    }
    if (advanced) {
      forget(u.blob(), next);
      return expires;
    }
    freeIfTerminated(u, () -> {
      blobs.discard(next);
      blobs.release(u.blob(), next);
    });
    forget(next, u.blob());
    throw FhirException.conflict("another request took this upload over; nothing of this piece was kept");
  }

  /** Storage work that may fail. */
  private interface StorageWork {
    void run() throws IOException;
  }

  /**
   * 404 when {@code u} was terminated while this request's piece arrived (its row is gone): what
   * the upload stored is then this request's to free, with {@code free}. Nothing when it exists.
   * A row is also gone when the upload finished (through another request, as this one stalled)
   * and was then forgotten; its blob is then a Binary's, and stays.
   */
  private void freeIfTerminated(ResumableUpload u, StorageWork free) {
    if (store.read(tx -> tx.uploads().find(u.id())).isPresent()) {
      return;
    }
    try {
      // once the row is gone no commit can name the blob any more (a commit finishes the row in
      // its own transaction), so a Binary that names it now is the finished upload's
      if (!store.read(tx -> tx.isBlobReferenced(u.blob().key()))) {
        free.run();
      }
    } catch (IOException e) {
      LOG.warn("could not delete the stored bytes of terminated upload {}", u.id(), e);
    }
    throw FhirException.notFound("the upload was terminated while this piece arrived");
  }

  /**
   * Running digests over exactly the upload's stored bytes: {@code kept} when it covers them all;
   * otherwise {@code kept}'s digests (or new ones) fed with the stored bytes they lack, read back
   * from storage, so that the upload's last piece need not read the whole blob again and each
   * node reads each byte at most once. Null when the store cannot read a partial blob back (S3)
   * or the read failed: the complete blob is then read once more when the upload finishes.
   */
  private RunningDigests.Entry caughtUp(ResumableUpload u, RunningDigests.Entry kept) {
    if (kept != null && kept.offset() == u.offset()) {
      return kept;
    }
    RunningDigests.Entry from = kept != null && kept.offset() < u.offset() ? kept : RunningDigests.Entry.empty();
    try {
      List<MessageDigest> feed = from.digests().feedHere();
      if (feed.isEmpty()) {
        // spoilt by a failed piece: start over from the first byte
        from = RunningDigests.Entry.empty();
        feed = from.digests().feedHere();
      }
      if (from.offset() == u.offset()) {
        return from;
      }
      long start = System.nanoTime();
      if (!blobs.readBack(u.blob(), from.offset(), feed)) {
        return null;
      }
      LOG.debug("upload {}: read {} stored bytes back for its digests in {} ms", u.id(), u.offset() - from.offset(),
          (System.nanoTime() - start) / 1_000_000);
      return from.at(u.offset());
    } catch (IOException e) {
      LOG.warn("upload {}: could not read its stored bytes back for its digests; they will be read when it "
          + "completes", u.id(), e);
      return null;
    }
  }

  /** Frees what {@code obsolete} holds beyond {@code kept}; a failure only leaves garbage, so it is logged. */
  private void forget(PartialBlob obsolete, PartialBlob kept) {
    try {
      blobs.release(obsolete, kept);
    } catch (IOException e) {
      LOG.warn("could not delete superseded upload storage of blob {}", obsolete.key(), e);
    }
  }

  /** A new digest of {@code algorithm}, one every Java platform has (SHA-1, SHA-256). */
  static MessageDigest digest(String algorithm) {
    try {
      return MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String hex(MessageDigest md) {
    return HexFormat.of().formatHex(md.digest());
  }

  /** Whether {@code id} has the form of the ids {@link #create} makes: 32 lower-case hex digits. */
  public static boolean isUploadId(String id) {
    if (id.length() != 2 * ID_BYTES) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  private static String randomHex(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }
}
