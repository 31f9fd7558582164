package org.fhirbox.db;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.fhirbox.model.ResumableUpload;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.PartialBlob;

/**
 * The {@code resumable_upload} rows, seen from one transaction ({@link ResourceStore.Tx#uploads()}).
 * Writers go through a lease: {@link #claim} is a conditional update, so when requests on any
 * number of nodes claim the same upload at the same offset, exactly one gets it; every later
 * write names the lease owner and changes nothing once another holds it.
 */
public interface UploadTable {

  void insert(ResumableUpload upload);

  Optional<ResumableUpload> find(String id);

  /**
   * Takes the lease of upload {@code id} for {@code owner} for {@code lease}, if the upload is at
   * {@code offset}, not finished, and nobody holds a lease that lasts past now. Both times are
   * the database's, so that nodes whose clocks differ judge a lease alike.
   */
  boolean claim(String id, long offset, String owner, Duration lease);

  /** Extends {@code owner}'s lease to {@code lease} from now (the database's time); false when it no longer holds it. */
  boolean extendLease(String id, String owner, Duration lease);

  /**
   * Records the progress {@code owner} made ({@code blob}, whose key may have changed; the length
   * if now known) and releases
   * its lease; false, changing nothing, when it no longer holds it.
   */
  boolean advance(String id, String owner, PartialBlob blob, Long length, Instant now, Instant expires);

  /** Releases {@code owner}'s lease without other change; false when it no longer held it. */
  boolean releaseLease(String id, String owner);

  /**
   * Records the Binary version the upload became, keeps the row until {@code expires} (so that
   * later requests can name it), and releases the lease; false when {@code owner} lost it.
   */
  boolean finish(String id, String owner, String resultId, long resultVersion, Instant now, Instant expires);

  /** Deletes the row if {@code owner} holds its lease; false when nothing was deleted. */
  boolean deleteHeld(String id, String owner);

  /** Deletes the row whatever its lease; false when it was gone. */
  boolean delete(String id);

  /**
   * Releases every lease: for a database only one process uses (embedded H2), at its start, so
   * that a request a crash cut off does not hold its upload until the lease runs out.
   */
  int releaseAll();

  /**
   * Takes the lease, for {@code owner} for {@code lease} from now by the database's clock (as
   * {@link #claim} does), of up to {@code limit} unfinished uploads that expired before
   * {@code now} and whose lease, judged by the database's clock, nobody holds, the earliest expiry first;
   * returns them as held. Rows another transaction has locked are skipped, not waited for, so that
   * sweepers on several nodes at once take different rows. Under the lease the expiry cannot move.
   */
  List<ResumableUpload> claimExpired(String owner, Instant now, Duration lease, int limit);

  /**
   * Deletes up to {@code limit} rows of finished uploads that expired before {@code now} (a
   * finished row changes no more; its blob is its Binary's); returns how many it deleted.
   */
  int deleteFinishedExpired(Instant now, int limit);

  /**
   * How many unfinished uploads that have not expired by {@code now} belong to {@code project},
   * {@code clientId} and {@code userId} (null: uploads made without a person's token).
   */
  int countOpen(String project, String clientId, String userId, Instant now);

  /** How many unfinished uploads that have not expired by {@code now} belong to {@code project}, whoever's. */
  int countOpenInProject(String project, Instant now);

  /** Whether an unfinished upload writes the blob {@code key}. */
  boolean isResuming(BlobKey key);
}
