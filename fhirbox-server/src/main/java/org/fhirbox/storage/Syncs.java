package org.fhirbox.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * How {@link FileBlobStore} makes what it wrote durable: a blob's content, then the directory
 * entry that names it. {@link #FSYNC} is the real one; tests record or fail single calls.
 */
interface Syncs {
  /** fdatasync(2) of a file being written (its content and size, not its name). */
  void content(FileChannel file, Path path) throws IOException;

  /** fsync(2) of a directory: the entries renamed into it become durable. */
  void directory(Path dir) throws IOException;

  Syncs FSYNC = new Syncs() {
    @Override
    public void content(FileChannel file, Path path) throws IOException {
      file.force(false);
    }

    @Override
    public void directory(Path dir) throws IOException {
      FileBlobStore.syncDirectory(dir);
    }
  };
}
