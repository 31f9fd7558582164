package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.function.Function;
import org.fhirbox.model.PendingUpload;
import org.fhirbox.storage.BlobKey;
import org.junit.jupiter.api.Test;

/**
 * The {@code direct_upload} rows, the same contract on H2 and on PostgreSQL: what the orphan
 * sweep asks of them before it deletes an object a presigned upload straight to S3 wrote.
 */
abstract class PendingUploadTableContract extends StoreContract {
  private final Instant expires = Instant.parse("2030-01-01T00:15:00Z");
  private final BlobKey key = BlobKey.random();

  private void insert(String binaryId, BlobKey blob) {
    PendingUpload u = new PendingUpload(binaryId, "p", "client", "user", blob.value(), null, 2000, "ab".repeat(32),
        null, "application/octet-stream", null, null, expires, expires.minusSeconds(840), false);
    store.inTransaction(tx -> {
      tx.pendingUploads().insert(u);
      return null;
    });
  }

  private <T> T write(Function<PendingUploadTable, T> work) {
    return store.inTransaction(tx -> work.apply(tx.pendingUploads()));
  }

  private boolean awaited(BlobKey blob, Instant expiredSince) {
    return store.read(tx -> tx.pendingUploads().isAwaited(blob, expiredSince));
  }

  @Test
  void anUnconfirmedUploadAwaitsItsBlobUntilItsUrlExpiredLongerAgoThanAsked() {
    insert("b1", key);

    assertThat(awaited(key, expires.minusSeconds(3600))).isTrue();
    assertThat(awaited(key, expires)).as("expired just now").isTrue();
    assertThat(awaited(key, expires.plusMillis(1))).as("expired before").isFalse();
    assertThat(awaited(BlobKey.random(), expires.minusSeconds(3600))).as("another blob").isFalse();
  }

  @Test
  void anUploadKeepsTheClientAndUserItWasIssuedTo() {
    insert("b1", key);

    PendingUpload found = store.read(tx -> tx.pendingUploads().find("b1")).orElseThrow();
    assertThat(found.clientId()).isEqualTo("client");
    assertThat(found.userId()).isEqualTo("user");
    assertThat(found.blobKey()).isEqualTo(key.value());
  }

  @Test
  void aConfirmedOrForgottenUploadAwaitsNothing() {
    BlobKey other = BlobKey.random();
    insert("b1", key);
    insert("b2", other);

    assertThat(this.<Boolean>write(t -> t.markConfirmed("b1", expires))).isTrue();
    assertThat(this.<Boolean>write(t -> t.delete("b2"))).isTrue();

    assertThat(awaited(key, expires.minusSeconds(3600))).as("confirmed: its Binary references it").isFalse();
    assertThat(awaited(other, expires.minusSeconds(3600))).as("forgotten").isFalse();
  }
}
