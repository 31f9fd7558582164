package org.fhirbox.db;

import java.util.List;
import java.util.Optional;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.model.StoredResource;
import org.fhirbox.model.BinaryContent;

/**
 * Versioned resource storage. All work happens inside {@link #inTransaction}: one database
 * transaction, committed when the work returns and rolled back when it throws.
 */
public interface ResourceStore {

  /** Work inside one transaction. */
  @FunctionalInterface
  interface Work<T> {
    T run(Tx tx);
  }

  <T> T inTransaction(Work<T> work);

  /** Read-only work; may run without a transaction. */
  <T> T read(Work<T> work);

  /**
   * Read-only work whose statements all see the database as it was at the first of them (one
   * repeatable-read transaction): a count and the page it counts agree while others write.
   */
  default <T> T readSnapshot(Work<T> work) {
    return read(work);
  }

  /** What a transaction can do. Methods throw {@link StoreException} on database failure. */
  interface Tx {
    /** The newest version; {@code lock} holds a row lock until commit (for writers). */
    Optional<StoredResource> current(String project, String type, String id, boolean lock);

    Optional<StoredResource> version(String project, String type, String id, long versionId);

    /** Whether a version after {@code versionId} of the resource is a deletion (current or not). */
    boolean deletedAfter(String project, String type, String id, long versionId);

    /**
     * Takes the lock named {@code name}, held until this transaction ends, on every node sharing the
     * database: another transaction taking the same name waits until this one ends (a conditional
     * create or update, so that a second one with the same condition finds what the first wrote; a
     * resumable upload's creation, so that its count of open uploads and its insert are one step).
     * Does nothing in {@link ResourceStore#read}, which runs outside a transaction. A wait past the
     * database's lock timeout fails with {@link StoreException#isConflict()}.
     */
    void lockCondition(String name);

    /**
     * Stores a new version and makes it current. The caller has read the current version with
     * a lock and chose {@code versionId = previous + 1}. Fails with
     * {@link StoreException#isConflict()} when another writer got there first.
     */
    default void insert(StoredResource resource, List<SearchValue> index) {
      insert(resource, index, false);
    }

    /**
     * {@link #insert(StoredResource, List)}, the version recorded as made by PATCH when {@code patched}
     * (see {@link #patched}) in the statement that inserts it.
     */
    void insert(StoredResource resource, List<SearchValue> index, boolean patched);

    /**
     * Those of {@code versions}, of one project, that a PATCH made ({@link #insert} with {@code patched}): a
     * history entry names the method its version was made by, which the versions alone do not tell
     * of a patch. A version stored before the method was recorded (migration V31) is none.
     */
    List<StoredResource> patched(List<StoredResource> versions);

    /** Replaces the search index rows of {@code resource} (a current version) with {@code index}. */
    void replaceIndex(StoredResource resource, List<SearchValue> index);

    /**
     * Up to {@code limit} current, not deleted resources after {@code after} (null: from the
     * start) in (project, type, id) order: a walk over everything that is searchable.
     */
    List<StoredResource> currentAfter(StoredResource after, int limit);

    /**
     * The indexed values ({@code Type/id} for a reference) of {@code param} on the given resources:
     * at most {@code limit} of them, and with a {@code prefix} (a type and a slash, which hold no
     * LIKE wildcard) only those that start with it.
     */
    List<String> indexedValues(String project, String type, List<String> ids, String param, String prefix,
        int limit);

    /**
     * The indexed values of {@code param} on the given resources, each with its resource's id and
     * its system (a canonical reference's version): at most {@code limit} of them.
     */
    List<IndexedValue> indexedRows(String project, String type, List<String> ids, String param, int limit);

    /**
     * {@code Type/id} of the current, not deleted resources of {@code types} whose indexed
     * {@code param} holds {@code code} (e.g. the resources whose Attachments name a Binary).
     */
    List<String> namedBy(String project, List<String> types, String param, String code);

    /** The {@code SearchIndexer.VERSION} the stored index was built with. */
    int searchIndexVersion();

    void setSearchIndexVersion(int version);

    Page history(HistoryQuery query);

    Page search(SearchQuery query);

    long count(SearchQuery query);

    /** The number of matches, counting no further than {@code limit}. */
    long countUpTo(SearchQuery query, int limit);

    /** The ids of at most {@code query.count()} matches, in no particular order. */
    List<String> ids(SearchQuery query);

    void insertBinaryContent(BinaryContent content);

    Optional<BinaryContent> binaryContent(String project, String binaryId, long versionId);

    /** The content of a Binary's current version; empty when it does not exist or is deleted. */
    Optional<BinaryContent> currentBinaryContent(String project, String binaryId);

    /**
     * A Binary version looked up by id alone, for signed storage URLs (which name no project).
     * Binary ids are unique across projects: {@code ResourceRepository} refuses an id in use, and a
     * unique index on {@code (res_id, version_id)} turns a concurrent creation into a conflict.
     */
    List<BinaryContent> binaryContentAnyProject(String binaryId, long versionId);

    /** Every Binary version stored in a blob (S3 and CloudFront URLs name the blob, not the Binary). */
    List<BinaryContent> binaryContentByBlob(BlobKey key);

    /**
     * Sets the SHA-1 of every Binary version stored in {@code key} that has none yet (a presigned
     * upload to S3 confirmed before its object was read); returns how many rows it set.
     */
    int fillSha1(BlobKey key, String sha1Hex);

    boolean isBlobReferenced(BlobKey key);

    /** The ingestion job queue, in this transaction. */
    IngestJobTable ingestJobs();

    /** The resumable uploads, in this transaction. */
    UploadTable uploads();

    /** The presigned uploads to S3 not confirmed yet, in this transaction. */
    PendingUploadTable pendingUploads();
  }
}
