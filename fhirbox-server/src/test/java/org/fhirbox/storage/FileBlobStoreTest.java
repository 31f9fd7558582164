package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileBlobStoreTest extends BlobStoreContract {
  @TempDir Path dir;
  private FileBlobStore store;

  @BeforeEach
  void createStore() throws IOException {
    store = new FileBlobStore(dir.resolve("blobs"));
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  @Override
  protected BlobStore store() {
    return store;
  }

  @Test
  void uploadsCloseInTimeShareOneDurableShardDirectory() throws IOException {
    BlobInfo first = store.put(new ByteArrayInputStream(new byte[] {1}), 10);
    BlobInfo second = store.put(new ByteArrayInputStream(new byte[] {2}), 10);

    assertThat(second.key().value()).startsWith(first.key().value().substring(0, 4));
    assertThat(store.pathOf(second.key())).isRegularFile()
        .hasParent(store.pathOf(first.key()).getParent());
    assertThat(first.key()).isNotEqualTo(second.key());
  }
}
