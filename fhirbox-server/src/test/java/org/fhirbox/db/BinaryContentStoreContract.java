package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.model.StoredResource;
import org.fhirbox.storage.BlobKey;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ResourceStore} backend must do with the rows that tie a Binary version to its
 * bytes; {@link ResourceStoreContract} adds the rest. Subclasses supply a fresh, empty database.
 */
abstract class BinaryContentStoreContract extends StoreContract {

  @Test
  void binaryContentRowsAreKeptPerVersionAndMarkTheirBlobAsReferenced() {
    BlobKey key = BlobKey.random();
    BinaryContent c = new BinaryContent("p", "b1", 1, key, 42, "a".repeat(64), "b".repeat(40), "image/png",
        "x.png", "Patient/1", Instant.ofEpochMilli(5000));
    store.inTransaction(tx -> {
      tx.insertBinaryContent(c);
      return null;
    });
    Optional<BinaryContent> read = store.read(tx -> tx.binaryContent("p", "b1", 1));
    assertThat(read).contains(c);
    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.binaryContent("p", "b1", 2))).isEmpty();
    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.binaryContent("other", "b1", 1))).isEmpty();
    assertThat(this.<Boolean>q(tx -> tx.isBlobReferenced(key))).isTrue();
    assertThat(this.<Boolean>q(tx -> tx.isBlobReferenced(BlobKey.random()))).isFalse();
  }

  /** Signed URLs name a Binary by id and version alone: two projects never hold the same one. */
  @Test
  void theSameBinaryVersionInASecondProjectConflicts() {
    store.inTransaction(tx -> {
      tx.insertBinaryContent(new BinaryContent("p", "u1", 1, BlobKey.random(), 3, null, "b".repeat(40),
          "text/plain", null, null, Instant.ofEpochMilli(5000)));
      return null;
    });
    assertThatThrownBy(() -> store.inTransaction(tx -> {
      tx.insertBinaryContent(new BinaryContent("other", "u1", 1, BlobKey.random(), 3, null, "b".repeat(40),
          "text/plain", null, null, Instant.ofEpochMilli(6000)));
      return null;
    })).isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isConflict()).isTrue());
    assertThat(this.<List<BinaryContent>>q(tx -> tx.binaryContentAnyProject("u1", 1)))
        .extracting(BinaryContent::project).containsExactly("p");
  }

  @Test
  void aBinaryContentRowReadsBackAsStoredAndARolledBackOneIsNotFound() {
    BinaryContent c = new BinaryContent("p", "r1", 1, BlobKey.random(), 3, "a".repeat(64), "b".repeat(40),
        "text/plain", null, null, Instant.ofEpochSecond(5, 123_456_789));
    store.inTransaction(tx -> {
      tx.insertBinaryContent(c);
      return null;
    });
    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.binaryContent("p", "r1", 1)).orElseThrow().lastUpdated())
        .as("milliseconds, as the column keeps them").isEqualTo(Instant.ofEpochMilli(5123));

    BinaryContent lost = new BinaryContent("p", "r2", 1, BlobKey.random(), 3, "a".repeat(64), "b".repeat(40),
        "text/plain", null, null, Instant.ofEpochMilli(5000));
    assertThatThrownBy(() -> store.inTransaction(tx -> {
      tx.insertBinaryContent(lost);
      throw new IllegalStateException("the write failed after the row");
    })).hasMessage("the write failed after the row");
    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.binaryContent("p", "r2", 1))).isEmpty();
  }

  @Test
  void aSha1LearntLaterIsFilledOnEveryVersionOfItsBlobThatHasNone() {
    BlobKey key = BlobKey.random();
    BlobKey other = BlobKey.random();
    store.inTransaction(tx -> {
      tx.insertBinaryContent(new BinaryContent("p", "s1", 1, key, 7, "a".repeat(64), null, "image/png", null, null,
          Instant.ofEpochMilli(5000)));
      tx.insertBinaryContent(new BinaryContent("p", "s1", 2, key, 7, "a".repeat(64), null, "image/png", null, null,
          Instant.ofEpochMilli(6000)));
      tx.insertBinaryContent(new BinaryContent("p", "s2", 1, other, 7, "c".repeat(64), null, "image/png", null, null,
          Instant.ofEpochMilli(5000)));
      return null;
    });
    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.binaryContent("p", "s1", 1)).orElseThrow().sha1Hex())
        .as("not known yet").isNull();

    assertThat(store.<Integer>inTransaction(tx -> tx.fillSha1(key, "b".repeat(40)))).isEqualTo(2);
    assertThat(store.<Integer>inTransaction(tx -> tx.fillSha1(key, "d".repeat(40)))).as("a known SHA-1 stays").isZero();

    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.binaryContent("p", "s1", 2)).orElseThrow().sha1Hex())
        .isEqualTo("b".repeat(40));
    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.binaryContent("p", "s2", 1)).orElseThrow().sha1Hex())
        .as("another blob's").isNull();
  }

  @Test
  void currentBinaryContentFollowsTheCurrentVersionAndIsEmptyOnceDeleted() {
    BlobKey k1 = BlobKey.random();
    BlobKey k2 = BlobKey.random();
    BinaryContent v1 = new BinaryContent("p", "b2", 1, k1, 1, "a".repeat(64), "b".repeat(40), "text/plain",
        null, null, Instant.ofEpochMilli(1000));
    BinaryContent v2 = new BinaryContent("p", "b2", 2, k2, 2, "c".repeat(64), "d".repeat(40), "text/plain",
        null, null, Instant.ofEpochMilli(2000));
    store.inTransaction(tx -> {
      tx.insert(new StoredResource("p", "Binary", "b2", 1, Instant.ofEpochMilli(1000), false, "{}"), List.of());
      tx.insertBinaryContent(v1);
      return null;
    });
    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.currentBinaryContent("p", "b2"))).contains(v1);
    store.inTransaction(tx -> {
      tx.insert(new StoredResource("p", "Binary", "b2", 2, Instant.ofEpochMilli(2000), false, "{}"), List.of());
      tx.insertBinaryContent(v2);
      return null;
    });
    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.currentBinaryContent("p", "b2"))).contains(v2);
    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.currentBinaryContent("other", "b2"))).isEmpty();
    store.inTransaction(tx -> {
      tx.insert(new StoredResource("p", "Binary", "b2", 3, Instant.ofEpochMilli(3000), true, null), List.of());
      return null;
    });
    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.currentBinaryContent("p", "b2"))).isEmpty();
    assertThat(this.<Optional<BinaryContent>>q(tx -> tx.binaryContent("p", "b2", 2))).contains(v2);
  }

  protected <T> T q(ResourceStore.Work<T> work) {
    return store.read(work);
  }
}
