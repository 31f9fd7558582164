package org.fhirbox.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The resumable blobs contract and the file tests of resumable blobs, with every body written through the page cache, as on a
 * file system that refuses {@code O_DIRECT} (see {@link DirectWrites}).
 */
class FilePartialBlobsThroughPageCacheTest extends FilePartialBlobsTest {
  @Override
  FileBlobStore newStore(Path root) throws IOException {
    return new FileBlobStore(root, 1, Syncs.FSYNC, 0, 0);
  }
}
