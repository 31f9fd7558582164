package org.fhirbox.fhir;

import java.util.List;
import java.util.Optional;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the stored search index up to {@link SearchIndexer#VERSION}: when the server indexes
 * more than the stored index holds (a new parameter kind), every current resource is extracted
 * again, a page at a time, and the new version is recorded. New writes are indexed by the new
 * extractor at once; until the walk is done, a search on a newly indexed parameter may miss an
 * older resource. Safe beside writers and on every node at once: a resource's rows are replaced
 * only while its current row is locked and still holds the version that was extracted.
 */
public final class SearchReindexer {
  private static final Logger LOG = LoggerFactory.getLogger(SearchReindexer.class);
  private static final int PAGE = 200;

  private final ResourceStore store;
  private final SearchIndexer indexer;
  private final FhirCodec codec;

  public SearchReindexer(ResourceStore store, SearchIndexer indexer, FhirCodec codec) {
    this.store = store;
    this.indexer = indexer;
    this.codec = codec;
  }

  /** Re-extracts every current resource when the stored index is older; returns how many. */
  public int run() {
    int stored = store.read(ResourceStore.Tx::searchIndexVersion);
    if (stored >= SearchIndexer.VERSION) {
      return 0;
    }
    List<StoredResource> page = store.read(tx -> tx.currentAfter(null, PAGE));
    if (!page.isEmpty()) { // a new, empty store needs no word about it
      LOG.info("search index version {} is older than {}: re-indexing every resource in the background", stored,
          SearchIndexer.VERSION);
    }
    int done = 0;
    while (!page.isEmpty()) {
      done += reindex(page);
      StoredResource last = page.get(page.size() - 1);
      page = store.read(tx -> tx.currentAfter(last, PAGE));
    }
    store.inTransaction(tx -> {
      tx.setSearchIndexVersion(SearchIndexer.VERSION);
      return null;
    });
    if (done > 0) {
      LOG.info("search index is at version {} ({} resources re-indexed)", SearchIndexer.VERSION, done);
    }
    return done;
  }

  /** Each resource whose current row still holds the version read, under that row's lock. */
  private int reindex(List<StoredResource> page) {
    return store.inTransaction(tx -> {
      int n = 0;
      for (StoredResource r : page) {
        Optional<StoredResource> now = tx.current(r.project(), r.type(), r.id(), true);
        if (now.isPresent() && now.get().versionId() == r.versionId() && !now.get().deleted()) {
          Optional<org.hl7.fhir.r4.model.Resource> parsed = codec.tryFromJson(r.json());
          if (parsed.isEmpty()) {
            LOG.warn("{}/{} version {} of project {} cannot be read back; its search index is left as it is",
                r.type(), r.id(), r.versionId(), r.project());
            continue;
          }
          tx.replaceIndex(r, indexer.extract(parsed.get()));
          n++;
        }
      }
      return n;
    });
  }
}
