package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilePartialBlobsTest extends ResumableBlobsContract {
  @TempDir Path dir;
  private FileBlobStore store;

  @BeforeEach
  void createStore() throws IOException {
    store = newStore(dir.resolve("blobs"));
  }

  /** The store every test of this class and of its contract runs on. */
  FileBlobStore newStore(Path root) throws IOException {
    return new FileBlobStore(root);
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  @Override
  protected BlobStore store() {
    return store;
  }

  @Override
  protected boolean holdsAnything(PartialBlob blob) {
    return Files.exists(((FilePartialBlobs) store.resumable()).file(blob.key()));
  }

  @Test
  void aCompletionRepeatedAfterItsDirectorySyncFailedMakesTheRenameDurable() throws Exception {
    store.close();
    RecordingSyncs syncs = new RecordingSyncs(-1);
    store = new FileBlobStore(dir.resolve("synced"), 1, syncs);
    PartialBlob blob = append(blobs().begin(), 54, 0, 1000, 1000, List.of());
    Path shard = store.pathOf(blob.key()).getParent();
    syncs.failNextSyncOf.add(shard);
    // renamed into its shard directory, but the sync that makes the rename durable failed
    assertThatThrownBy(() -> blobs().complete(blob)).isInstanceOf(IOException.class);
    assertThat(Files.exists(store.pathOf(blob.key()))).isTrue();
    int before = syncs.log.size();

    blobs().complete(blob);

    List<RecordingSyncs.Synced> all = List.copyOf(syncs.log); // the store's other threads sync on
    assertThat(all.subList(before, all.size())).as("the repeat syncs the shard directory")
        .anyMatch(s -> s.kind().equals("directory") && s.path().equals(shard)
            && s.entries().contains(blob.key().value()));
  }

  @Test
  void aRepeatedCompletionWhoseDirectorySyncFailsFails() throws Exception {
    store.close();
    RecordingSyncs syncs = new RecordingSyncs(-1);
    store = new FileBlobStore(dir.resolve("synced"), 1, syncs);
    PartialBlob blob = append(blobs().begin(), 55, 0, 1000, 1000, List.of());
    Path shard = store.pathOf(blob.key()).getParent();
    syncs.failNextSyncOf.add(shard);
    assertThatThrownBy(() -> blobs().complete(blob)).isInstanceOf(IOException.class);
    syncs.failNextSyncOf.add(shard);

    assertThatThrownBy(() -> blobs().complete(blob)).isInstanceOf(IOException.class);
  }

  @Test
  void theAcknowledgedBytesAreReadBackFromAnyOffsetAndNoMore() throws Exception {
    long size = 6 * MIB + 3;
    PartialBlob kept = append(blobs().begin(), 52, 0, size, -1, List.of());
    // what an append that was never persisted leaves after the acknowledged bytes
    append(kept, 53, size, size + 3 * MIB, -1, List.of());

    for (long from : new long[] {0, 1, MIB + 1, size}) {
      List<MessageDigest> digests = digests();
      digests.get(0).update(TestContent.stream(52, from).readAllBytes());
      digests.get(1).update(TestContent.stream(52, from).readAllBytes());

      assertThat(blobs().readBack(kept, from, digests)).isTrue();

      String[] expected = TestContent.digests(52, size);
      assertThat(hex(digests.get(0))).as("from %d", from).isEqualTo(expected[0]);
      assertThat(hex(digests.get(1))).as("from %d", from).isEqualTo(expected[1]);
    }
    blobs().discard(kept);
    assertThatThrownBy(() -> blobs().readBack(kept, 0, digests())).isInstanceOf(IOException.class)
        .hasMessageContaining("gone");
  }

  @Test
  void anAcknowledgedPieceIsInTheFileWhateverCameAfterIt() throws Exception {
    PartialBlob kept = append(blobs().begin(), 50, 0, 1000, -1, List.of());
    append(kept, 51, 1000, 5000, -1, List.of());
    Path file = ((FilePartialBlobs) store.resumable()).file(kept.key());
    assertThat(Files.size(file)).isEqualTo(5000);

    // a restarted server holds only the persisted state: the next piece goes after its length
    PartialBlob next = append(kept, 50, 1000, 2000, 2000, List.of());
    blobs().complete(next);

    assertThat(store.size(next.key())).contains(2000L);
    try (InputStream in = store.open(next.key(), 0)) {
      assertThat(in.readAllBytes()).isEqualTo(TestContent.bytes(50, 0, 2000));
    }
  }

  @Test
  void aSecondWriterIsRefusedWhileTheFirstHoldsTheFile() throws Exception {
    PartialBlob blob = blobs().begin();
    Path file = ((FilePartialBlobs) store.resumable()).file(blob.key());
    try (FileChannel other = FileChannel.open(file, StandardOpenOption.WRITE); FileLock held = other.lock()) {
      assertThatThrownBy(() -> append(blob, 52, 0, 10, -1, List.of()))
          .isInstanceOf(ConcurrentAppendException.class);
    }
    assertThat(append(blob, 52, 0, 10, -1, List.of()).length()).isEqualTo(10);
  }

  @Test
  void theOrphanSweepLeavesAPausedUploadAloneAndRemovesAFileNoUploadNames() throws Exception {
    PartialBlob paused = append(blobs().begin(), 53, 0, 100, -1, List.of());
    PartialBlob abandoned = append(blobs().begin(), 54, 0, 100, -1, List.of());
    List<BlobKey> seen = new ArrayList<>();

    store.listOlderThan(Instant.now().plusSeconds(3600), seen::add, key -> key.equals(paused.key()));

    assertThat(holdsAnything(paused)).isTrue();
    assertThat(holdsAnything(abandoned)).isFalse();
    assertThat(seen).doesNotContain(paused.key(), abandoned.key());
  }
}
