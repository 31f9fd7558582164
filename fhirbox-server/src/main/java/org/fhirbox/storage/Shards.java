package org.fhirbox.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Names new blobs so that uploads close in time share one shard directory ({@code ab/cd/}, the
 * key's first four hex digits), so that a {@link GroupCommit} batch syncs one directory instead
 * of one per upload. Each shard takes {@code perShard} blobs; then the next one, created and
 * made durable ahead of time on {@code background}, takes over, so no upload waits for a mkdir
 * and the syncs of its parents (only the first upload after start does). Keys stay 128 bits,
 * 112 of them random.
 */
final class Shards {
  private final Path root;
  private final Executor background;
  private final int perShard;
  private String current;
  private int used;
  private CompletableFuture<String> next;

  Shards(Path root, Executor background, int perShard) {
    this.root = root;
    this.background = background;
    this.perShard = perShard;
  }

  /** A fresh key in the current shard, whose directory is durable. */
  synchronized BlobKey newKey() throws IOException {
    if (current == null || used >= perShard) {
      if (next == null) {
        next = prepare();
      }
      try {
        current = next.join();
      } catch (CompletionException e) {
        next = prepare();
        throw new IOException("could not create a blob directory", e.getCause());
      }
      used = 0;
      next = prepare();
    }
    used++;
    return new BlobKey(current + BlobKey.random().value().substring(4));
  }

  /** Waits (boundedly) for a shard being prepared, so that nothing writes under root after. */
  synchronized void close() {
    if (next != null) {
      try {
        next.get(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // Nothing to clean up: a failed preparation left at most an empty directory.
      }
    }
  }

  private CompletableFuture<String> prepare() {
    return CompletableFuture.supplyAsync(() -> {
      String prefix = BlobKey.random().value().substring(0, 4);
      try {
        createDurably(root, prefix);
      } catch (IOException e) {
        throw new CompletionException(e);
      }
      return prefix;
    }, background);
  }

  /**
   * Creates {@code root/ab/cd} and syncs both parents, whether or not they existed: a crash may
   * have left a directory whose entry never reached the disk.
   */
  static void createDurably(Path root, String prefix) throws IOException {
    Path top = root.resolve(prefix.substring(0, 2));
    Files.createDirectories(top.resolve(prefix.substring(2, 4)));
    FileBlobStore.syncDirectory(top);
    FileBlobStore.syncDirectory(root);
  }
}
