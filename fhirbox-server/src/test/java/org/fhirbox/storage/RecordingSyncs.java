package org.fhirbox.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The real syncs, recorded; a content sync of a file of {@code failSize} bytes fails instead, and
 * so does the next sync of each directory in {@link #failNextSyncOf} (once).
 */
final class RecordingSyncs implements Syncs {
  /** A sync that ran: content of a file or a directory, what it saw, and when it began and ended. */
  record Synced(String kind, Path path, List<String> entries, long start, long end) {}

  final List<Synced> log = new CopyOnWriteArrayList<>();
  final long failSize;
  final Set<Path> failNextSyncOf = ConcurrentHashMap.newKeySet();

  RecordingSyncs(long failSize) {
    this.failSize = failSize;
  }

  @Override
  public void content(FileChannel file, Path path) throws IOException {
    long start = System.nanoTime();
    if (file.size() == failSize) {
      throw new IOException("the disk refused to flush " + path.getFileName());
    }
    Syncs.FSYNC.content(file, path);
    log.add(new Synced("content", path, List.of(), start, System.nanoTime()));
  }

  @Override
  public void directory(Path dir) throws IOException {
    if (failNextSyncOf.remove(dir)) {
      throw new IOException("the disk refused to sync the directory " + dir);
    }
    long start = System.nanoTime();
    List<String> entries;
    try (var names = Files.list(dir)) {
      entries = names.map(p -> p.getFileName().toString()).toList();
    }
    Syncs.FSYNC.directory(dir);
    log.add(new Synced("directory", dir, entries, start, System.nanoTime()));
  }
}
