package org.fhirbox.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * How {@link FileBlobStore} makes what it wrote durable: a blob's content, then the directory
 * entry that names it; also what other parts of the server write once into the data directory
 * (the signing key file). {@link #FSYNC} is the real one; tests record or fail single calls.
 */
public interface Syncs {
  /** fdatasync(2) of a file being written (its content and size, not its name). */
  void content(FileChannel file, Path path) throws IOException;

  /** fsync(2) of a directory: the entries renamed into it become durable. */
  void directory(Path dir) throws IOException;

  /**
   * {@code Files.createDirectories(dir)}, then a {@link #directory} sync of the parent of each
   * directory it created, top down: until then a power loss can take a new directory's name back.
   */
  default void createDirectories(Path dir) throws IOException {
    Deque<Path> missing = new ArrayDeque<>();
    for (Path p = dir.toAbsolutePath().normalize(); p != null && !Files.isDirectory(p); p = p.getParent()) {
      missing.push(p);
    }
    Files.createDirectories(dir);
    for (Path created : missing) {
      if (created.getParent() != null) {
        directory(created.getParent());
      }
    }
  }

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
