package org.fhirbox.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

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
   * directory on the path, top down, whether or not this call created it: until then a power loss
   * can take a new directory's name back, and a start killed between its {@code mkdir} and that
   * sync left a directory that the next start finds in place, its name still only in memory. An
   * ancestor that existed before this call and cannot be synced (not readable by this process, on
   * a read-only mount, a file system that refuses to sync a directory) is left alone: a start
   * fails only for a directory it may have made itself.
   */
  default void createDirectories(Path dir) throws IOException {
    Deque<Path> path = new ArrayDeque<>();
    Set<Path> existed = new HashSet<>();
    for (Path p = dir.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
      path.push(p);
      if (Files.isDirectory(p)) {
        existed.add(p);
      }
    }
    Files.createDirectories(dir);
    for (Path d : path) {
      Path parent = d.getParent();
      if (parent == null) {
        continue;
      }
      try {
        directory(parent);
      } catch (IOException e) {
        if (!existed.contains(parent)) {
          throw e;
        }
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
