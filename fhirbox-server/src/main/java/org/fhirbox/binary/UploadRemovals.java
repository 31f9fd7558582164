package org.fhirbox.binary;

import java.io.IOException;
import java.util.Optional;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.ResumableUpload;
import org.fhirbox.storage.ResumableBlobs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes resumable uploads: an unfinished one with the bytes it stored, under its lease so that
 * nobody writes meanwhile; a finished one only as its row (its blob is its Binary's).
 *
 * <p>The sweeper removes an unfinished upload only under a lease it took because the upload was
 * expired and nobody held it ({@code UploadTable.claimExpired}): a piece that was being written as
 * its upload expired moves the expiry on once it is stored (tus: the upload lives on), so an
 * upload a request holds is not taken, and under the sweeper's lease no piece can move it.
 * Finished rows it deletes in bulk, without this class.
 */
final class UploadRemovals {
  private static final Logger LOG = LoggerFactory.getLogger(UploadRemovals.class);

  /** What a removal did. */
  enum Removal {
    /** An unfinished upload and its stored bytes are gone. */
    DISCARDED,
    /** A finished upload's row is gone. */
    FINISHED,
    /** There was no such upload. */
    GONE,
    /** Another request holds the upload's lease; nothing changed. */
    WRITING
  }

  private final ResourceStore store;
  private final ResumableBlobs blobs;
  private final UploadLeases leases;

  UploadRemovals(ResourceStore store, ResumableBlobs blobs, UploadLeases leases) {
    this.store = store;
    this.blobs = blobs;
    this.leases = leases;
  }

  /**
   * Removes upload {@code id} whatever its expiry (tus termination), also from under a request that
   * holds it: its row is then deleted while that request still holds the lease, so that the
   * request finds it gone when it commits and frees what the upload stored (a piece, in
   * {@code ResumableUploads.freeIfTerminated}; a completion, the completed blob; another removal,
   * below). A holder that let go meanwhile (its piece stored) left the bytes to no one: the upload
   * is then removed as one nobody holds.
   */
  void terminate(String id) {
    while (remove(id) == Removal.WRITING) {
      Optional<ResumableUpload> row = store.read(tx -> tx.uploads().find(id));
      if (row.isEmpty()) {
        return;
      }
      String holder = row.get().leaseOwner();
      if (holder != null && store.<Boolean>inTransaction(tx -> tx.uploads().deleteHeld(id, holder))) {
        return;
      }
    }
  }

  private Removal remove(String id) {
    String owner = leases.newOwner();
    while (true) {
      Optional<ResumableUpload> row = store.read(tx -> tx.uploads().find(id));
      if (row.isEmpty()) {
        return Removal.GONE;
      }
      ResumableUpload u = row.get();
      if (u.finished()) {
        store.inTransaction(tx -> tx.uploads().delete(id));
        return Removal.FINISHED;
      }
      if (u.leased()) {
        return Removal.WRITING;
      }
      Optional<ResumableUpload> held = leases.tryClaim(id, u.offset(), owner);
      if (held.isEmpty()) {
        continue; // it moved on meanwhile: look again
      }
      Removal removal = deleteHeld(held.get(), owner);
      if (removal != null) {
        return removal;
      }
      // the lease ran out and another request took it: look again
    }
  }

  /**
   * Removes unfinished upload {@code held}, whose lease {@code owner} took because it expired
   * ({@code UploadTable.claimExpired}): under the lease the expiry cannot have moved on.
   * {@link Removal#WRITING} when the lease ran out meanwhile and another request took it.
   */
  Removal removeClaimed(ResumableUpload held, String owner) {
    Removal removal = deleteHeld(held, owner);
    return removal == null ? Removal.WRITING : removal;
  }

  /**
   * Deletes the row of {@code held} under {@code owner}'s lease, then its bytes; null, changing
   * nothing, when the lease ran out and another request holds the upload now.
   */
  private Removal deleteHeld(ResumableUpload held, String owner) {
    String id = held.id();
    // the row goes first, committed, then the bytes: a crash between the two leaves bytes no
    // upload names, which the orphan sweep deletes; the other way round it left an upload that
    // HEAD showed at its offset while every PATCH failed on its missing bytes
    if (!store.<Boolean>inTransaction(tx -> tx.uploads().deleteHeld(id, owner))) {
      if (store.read(tx -> tx.uploads().find(id)).isPresent()) {
        return null; // the bytes are the upload of the request that took it over
      }
      // a termination deleted the row from under this removal's lease (see terminate): the
      // bytes are this removal's to free, unless a Binary names them (the lease ran out, and the
      // upload finished through another request before it was deleted)
      if (store.read(tx -> tx.isBlobReferenced(held.blob().key()))) {
        return Removal.GONE;
      }
    }
    discard(id, held);
    return Removal.DISCARDED;
  }

  private void discard(String id, ResumableUpload u) {
    try {
      blobs.discard(u.blob());
    } catch (IOException e) {
      LOG.warn("upload {} is removed; deleting its stored bytes failed, the orphan sweep deletes them later: {}",
          id, e.toString());
    }
  }
}
