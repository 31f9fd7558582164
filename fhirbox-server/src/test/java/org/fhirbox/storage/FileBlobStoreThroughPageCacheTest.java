package org.fhirbox.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The blob store contract and the file store's own tests, with every body written through the page cache, as on a
 * file system that refuses {@code O_DIRECT} (see {@link DirectWrites}).
 */
class FileBlobStoreThroughPageCacheTest extends FileBlobStoreTest {
  @Override
  FileBlobStore newStore(Path root) throws IOException {
    return new FileBlobStore(root, 1, Syncs.FSYNC, 0, 0);
  }
}
