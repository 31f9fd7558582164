package org.fhirbox.storage;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The blob store contract with every body written through the page cache, as on a file system
 * that refuses {@code O_DIRECT} (see {@link DirectWrites}).
 */
class FileBlobStoreThroughPageCacheTest extends BlobStoreContract {
  @TempDir Path dir;
  private FileBlobStore store;

  @BeforeEach
  void createStore() throws IOException {
    store = new FileBlobStore(dir.resolve("blobs"), 1, Syncs.FSYNC, 0, 0);
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  @Override
  protected BlobStore store() {
    return store;
  }
}
