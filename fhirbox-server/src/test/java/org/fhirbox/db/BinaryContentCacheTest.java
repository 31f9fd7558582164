package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.storage.BlobKey;
import org.junit.jupiter.api.Test;

class BinaryContentCacheTest {
  private final BinaryContentCache cache = new BinaryContentCache();
  private final AtomicInteger loads = new AtomicInteger();

  private static BinaryContent row(String id, long version, long size) {
    return new BinaryContent("p1", id, version, new BlobKey("0123456789abcdef0123456789abcdef"), size, null,
        "a9993e364706816aba3e25717850c26c9cd0d89d", "text/plain", null, null, Instant.EPOCH);
  }

  private Optional<BinaryContent> load(BinaryContent c) {
    loads.incrementAndGet();
    return Optional.ofNullable(c);
  }

  @Test
  void aSecondLookupIsAnsweredWithoutTheDatabase() {
    assertThat(cache.current("p1", "b1", () -> load(row("b1", 1, 10)))).map(BinaryContent::size).contains(10L);
    assertThat(cache.current("p1", "b1", () -> load(row("b1", 1, 99)))).map(BinaryContent::size).contains(10L);
    assertThat(loads).hasValue(1);
  }

  @Test
  void aMissIsNotRemembered() {
    assertThat(cache.current("p1", "b1", () -> load(null))).isEmpty();
    assertThat(cache.current("p1", "b1", () -> load(row("b1", 1, 10)))).isPresent();
    assertThat(loads).hasValue(2);
  }

  @Test
  void projectsAndVersionsAreKeptApart() {
    cache.current("p1", "b1", () -> load(row("b1", 2, 20)));
    assertThat(cache.current("p2", "b1", () -> Optional.empty())).isEmpty();
    assertThat(cache.version("p1", "b1", 1, () -> load(row("b1", 1, 10)))).map(BinaryContent::size).contains(10L);
    assertThat(cache.version("p1", "b1", 2, () -> load(row("b1", 2, 20)))).map(BinaryContent::size).contains(20L);
  }

  @Test
  void aNewVersionDropsTheCurrentEntryButNotTheVersions() {
    cache.current("p1", "b1", () -> load(row("b1", 1, 10)));
    cache.version("p1", "b1", 1, () -> load(row("b1", 1, 10)));
    commit(List.of(new BinaryContentCache.Changed("p1", "b1")), false);
    assertThat(cache.current("p1", "b1", () -> load(row("b1", 2, 20)))).map(BinaryContent::size).contains(20L);
    assertThat(cache.version("p1", "b1", 1, () -> load(null))).map(BinaryContent::size).contains(10L);
  }

  @Test
  void rowsACommittedTransactionInsertedAreAnsweredWithoutTheDatabase() {
    List<BinaryContentCache.Changed> changed = List.of(new BinaryContentCache.Changed("p1", "b1"));
    long seen = cache.committing(changed, false);
    cache.ended(changed, false, List.of(row("b1", 1, 10)), seen);
    assertThat(cache.version("p1", "b1", 1, () -> load(null))).map(BinaryContent::size).contains(10L);
    assertThat(loads).hasValue(0);
    assertThat(cache.current("p1", "b1", () -> load(row("b1", 1, 10)))).isPresent();
    assertThat(loads).as("the current version is not assumed").hasValue(1);
  }

  @Test
  void rowsCommittedAcrossAnotherInvalidationAreNotStored() {
    List<BinaryContentCache.Changed> changed = List.of(new BinaryContentCache.Changed("p1", "b1"));
    long seen = cache.committing(changed, false);
    commit(List.of(), true); // a SHA-1 filled in meanwhile
    cache.ended(changed, false, List.of(row("b1", 1, 10)), seen);
    assertThat(cache.version("p1", "b1", 1, () -> load(row("b1", 1, 11)))).map(BinaryContent::size).contains(11L);
    assertThat(loads).hasValue(1);
  }

  @Test
  void changedRowsDropEverything() {
    cache.version("p1", "b1", 1, () -> load(row("b1", 1, 10)));
    cache.current("p1", "b2", () -> load(row("b2", 1, 10)));
    commit(List.of(), true);
    assertThat(cache.size()).isZero();
  }

  @Test
  void whatWasReadWhileAWriteEndedIsNotStored() {
    // the row read may be the one the write replaced: it must not outlive the write's invalidation
    Optional<BinaryContent> read = cache.current("p1", "b1", () -> {
      commit(List.of(new BinaryContentCache.Changed("p1", "b1")), false);
      return load(row("b1", 1, 10));
    });
    assertThat(read).isPresent();
    assertThat(cache.current("p1", "b1", () -> load(row("b1", 2, 20)))).map(BinaryContent::size).contains(20L);
  }

  @Test
  void whileAWriteCommitsItsBinaryIsReadFromTheDatabaseAndNotKept() {
    List<BinaryContentCache.Changed> changed = List.of(new BinaryContentCache.Changed("p1", "b1"));
    cache.current("p1", "b1", () -> load(row("b1", 1, 10)));
    cache.current("p1", "b2", () -> load(row("b2", 1, 10)));
    long seen = cache.committing(changed, false);
    // the commit is done here, the transaction not yet ended: version 2 is what the database holds
    assertThat(cache.current("p1", "b1", () -> load(row("b1", 2, 20)))).map(BinaryContent::size).contains(20L);
    assertThat(cache.current("p1", "b1", () -> load(row("b1", 2, 20)))).map(BinaryContent::size).contains(20L);
    assertThat(loads).as("each lookup of b1 read the database").hasValue(4);
    assertThat(cache.current("p1", "b2", () -> load(null))).as("other Binaries still answered").isPresent();
    cache.ended(changed, false, List.of(), seen);
    cache.current("p1", "b1", () -> load(row("b1", 2, 20)));
    assertThat(cache.current("p1", "b1", () -> load(null))).as("kept again once it ended").isPresent();
  }

  @Test
  void whileRowsChangeInPlaceEveryLookupReadsTheDatabase() {
    cache.version("p1", "b1", 1, () -> load(row("b1", 1, 10)));
    long seen = cache.committing(List.of(), true);
    assertThat(cache.version("p1", "b1", 1, () -> load(row("b1", 1, 11)))).map(BinaryContent::size).contains(11L);
    cache.ended(List.of(), true, List.of(), seen);
    assertThat(cache.version("p1", "b1", 1, () -> load(row("b1", 1, 11)))).map(BinaryContent::size).contains(11L);
    assertThat(cache.version("p1", "b1", 1, () -> load(null))).map(BinaryContent::size).contains(11L);
  }

  /** A whole commit of a transaction that changed these. */
  private void commit(List<BinaryContentCache.Changed> changed, boolean rowsChanged) {
    cache.ended(changed, rowsChanged, List.of(), cache.committing(changed, rowsChanged));
  }

  @Test
  void itHoldsABoundedNumberOfRows() {
    for (int i = 0; i < BinaryContentCache.MAX_ENTRIES + 100; i++) {
      String id = "b" + i;
      cache.current("p1", id, () -> Optional.of(row(id, 1, 1)));
    }
    assertThat(cache.size()).isEqualTo(BinaryContentCache.MAX_ENTRIES);
  }
}
