package org.fhirbox.binary;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Predicate;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.signing.S3UploadSigner;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.BlobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes what no Binary needs: expired resumable uploads with their stored bytes (see
 * {@link ResumableUploads#sweepExpired}), and blobs that no Binary version references, left
 * behind by a crash between "blob stored" and "row committed". A blob is deleted only when it is older than the grace period and was
 * already unreferenced on this sweeper's previous passes, the first of them at least
 * {@link SecondSighting#MIN_WATCH} ago, however short the sweep interval. Age alone
 * does not prove that no request is about to commit a row for it: S3 dates an object made by a
 * multipart upload from the upload's start, so a long upload's blob looks old the moment it is
 * complete, a moment before its row commits. Safe on every node at once: deleting an
 * unreferenced blob twice is harmless.
 *
 * <p>It spares the blobs that are still being written: the multipart uploads to S3 that a live
 * node is feeding, whose lease it renews ({@link BlobWriteLeases}) until the request that stored the
 * object has committed its Binary or discarded it, those of resumable uploads under way, and
 * the object (or multipart upload) a presigned upload straight to S3 writes ({@link DirectUploads})
 * while that upload is unconfirmed. Until then the first read of its Binary or the background
 * check may still confirm it, and that check runs behind when many uploads wait, or not at all
 * while every node is down, so neither the object's age nor its URL's expiry says whether it is
 * still wanted: the upload's row does. The first look after its URL expired more than the grace ago
 * is its last, however late it comes: it confirms bytes that are all there and the declared ones
 * (they came from a {@code PUT} begun in time), and otherwise forgets the upload. Once the upload
 * ends (confirmed: its Binary references the blob; refused or forgotten: its row is gone) the usual
 * rule applies again, so an upload URL that expires unused leaves nothing behind. A confirmation
 * creates its Binary only while the row is there, and holds a write lease on the object it reads,
 * and on the copy it makes, until that Binary is committed, however long the read takes. A node
 * that does not confirm uploads to S3 (not in the {@code s3} signing mode, so without a background
 * check that would ever end them) spares such an object only until its URL expired more than the
 * grace ago.
 *
 * <p>In the {@code s3} signing mode it also deletes the staging objects of presigned uploads
 * without a declared SHA-256 ({@link S3UploadSigner#presignStagedPut}) once their URL expired more
 * than the grace ago: an object last written before now minus the grace minus the longest URL
 * lifetime ({@link DirectUploads#MAX_EXPIRES_IN}) was written by a URL issued before that, so
 * expired by then, and no confirmation copies it any more, unless its upload is still not
 * confirmed (no node looked at it since; its last look may still confirm it): that one is spared
 * until the look ends the upload. Most are the leftovers of a {@code PUT} repeated after the
 * confirmation, or of an upload refused or forgotten. The same two-pass rule applies, which also
 * covers a bucket whose clock runs ahead of the node's.
 */
public final class OrphanSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanSweeper.class);
  /**
   * The least time between the pass that first finds a blob or staging object unwanted and the
   * one that deletes it (see {@link SecondSighting} for the choice of ten minutes).
   */
  public static final Duration MIN_WATCH = Duration.ofMinutes(10);
  private final BlobStore blobs;
  private final ResourceStore store;
  private final Duration grace;
  private final Clock clock;
  private final ResumableUploads uploads;
  private final S3UploadSigner staging;
  private final SecondSighting orphans;
  private final SecondSighting expiredStaging;
  private final BlobWriteLeases writes;

  /**
   * @param staging the signer of presigned uploads to S3 whose staging objects are swept, or null
   *     (not in the {@code s3} signing mode: then no background check of this node ends those uploads)
   * @param writes the multipart uploads that nodes are feeding now, spared while their lease lasts
   */
  public OrphanSweeper(BlobStore blobs, ResourceStore store, Duration grace, Clock clock, ResumableUploads uploads,
      S3UploadSigner staging, BlobWriteLeases writes) {
    this.writes = writes;
    this.blobs = blobs;
    this.store = store;
    this.grace = grace;
    this.clock = clock;
    this.uploads = uploads;
    this.staging = staging;
    this.orphans = new SecondSighting("orphan blob", blobs::delete, clock);
    this.expiredStaging = new SecondSighting("staging object", key -> staging.deleteStaged(key), clock);
  }

  /**
   * One pass: expired uploads first, then unreferenced blobs (sparing those of uploads still
   * resuming or awaiting confirmation, and their S3 multipart uploads), then expired staging
   * objects; returns the number of blobs and staging objects deleted.
   */
  public synchronized int sweep() throws IOException {
    uploads.sweepExpired();
    int blobsDeleted = sweepBlobs();
    return blobsDeleted + (staging == null ? 0 : sweepStaged());
  }

  private int sweepBlobs() throws IOException {
    orphans.start();
    Instant cutoff = clock.instant().minus(grace);
    // DirectUploads may confirm an upload at any look until one after the grace forgets it
    Instant awaitedSince = staging == null ? cutoff : Instant.EPOCH;
    // a node feeding a multipart upload renews its lease, however long its next part takes
    Predicate<BlobKey> beingWritten = key -> uploads.isResuming(key)
        || store.read(tx -> tx.pendingUploads().isAwaited(key, awaitedSince)) || writes.isLive(key, cutoff);
    blobs.listOlderThan(cutoff, key -> {
      if (!store.read(tx -> tx.isBlobReferenced(key)) && !beingWritten.test(key)) {
        orphans.unwanted(key);
      }
    }, beingWritten);
    writes.purgeLapsed(cutoff);
    int deleted = orphans.finish();
    if (deleted > 0) {
      LOG.info("orphan sweeper deleted {} unreferenced blobs", deleted);
    }
    return deleted;
  }

  private int sweepStaged() throws IOException {
    expiredStaging.start();
    // an upload not yet confirmed may still be confirmed from its staging object, however old
    staging.listStagedBefore(clock.instant().minus(grace).minus(DirectUploads.MAX_EXPIRES_IN), key -> {
      if (!store.read(tx -> tx.pendingUploads().isAwaited(key, Instant.EPOCH))) {
        expiredStaging.unwanted(key);
      }
    });
    int deleted = expiredStaging.finish();
    if (deleted > 0) {
      LOG.info("orphan sweeper deleted {} expired staging objects of uploads straight to S3", deleted);
    }
    return deleted;
  }
}
