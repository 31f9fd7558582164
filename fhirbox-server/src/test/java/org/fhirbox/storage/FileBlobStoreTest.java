package org.fhirbox.storage;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

class FileBlobStoreTest extends BlobStoreContract {
  @TempDir Path dir;
  private FileBlobStore store;

  @BeforeEach
  void createStore() throws IOException {
    store = new FileBlobStore(dir.resolve("blobs"));
  }

  @Override
  protected BlobStore store() {
    return store;
  }
}
