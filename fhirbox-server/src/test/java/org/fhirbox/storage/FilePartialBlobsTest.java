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
  void theOrphanSweepLeavesAPausedUploadAlone() throws Exception {
    PartialBlob blob = append(blobs().begin(), 53, 0, 100, -1, List.of());
    List<BlobKey> seen = new ArrayList<>();

    store.listOlderThan(Instant.now().plusSeconds(3600), seen::add);

    assertThat(holdsAnything(blob)).isTrue();
    assertThat(seen).doesNotContain(blob.key());
  }
}
