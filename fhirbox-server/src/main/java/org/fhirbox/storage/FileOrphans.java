package org.fhirbox.storage;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * What the orphan sweep finds under a {@link FileBlobStore}'s root: the blobs it may delete once no
 * row names them, and the temporary files that interrupted writes left in {@code tmp}. A temporary
 * file this process is still {@link #writing writing} is never one of them, however old its date:
 * a large upload writes to it once per full buffer, so a body that arrives slowly, or pauses, leaves
 * it undated for longer than the sweep's grace period. The files of a process that died age out.
 * Uploads rename and delete files while the sweep looks: one gone since its directory was read is
 * passed over, not the end of the pass.
 */
final class FileOrphans {
  /** The suffix of a temporary file that {@link FileBlobStore#put} renames into place once complete. */
  static final String PART = ".part";
  private final Path root;
  private final Path tmp;
  private final ReadyFiles readyFiles;
  /** Keys whose temporary file an upload of this process is writing or renaming. */
  private final Set<BlobKey> writing = ConcurrentHashMap.newKeySet();

  FileOrphans(Path root, Path tmp, ReadyFiles readyFiles) {
    this.root = root;
    this.tmp = tmp;
    this.readyFiles = readyFiles;
  }

  /** The temporary file of {@code key}, which {@link #writing} spares. */
  Path temporary(BlobKey key) {
    return tmp.resolve(key.value() + PART);
  }

  /** Records that this process writes {@code key}'s temporary file, until {@link #written}. */
  void writing(BlobKey key) {
    writing.add(key);
  }

  /** Ends a record of {@link #writing}, once the file was renamed into place or deleted. */
  void written(BlobKey key) {
    writing.remove(key);
  }

  /** See {@link BlobStore#listOlderThan(Instant, Consumer, Predicate)}. */
  void listOlderThan(Instant cutoff, Consumer<BlobKey> visitor, Predicate<BlobKey> resuming) throws IOException {
    // the shard directories; tmp holds no blob, only the temporary files looked at below
    Files.walkFileTree(root, EnumSet.noneOf(FileVisitOption.class), 3, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
        return dir.equals(tmp) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
        if (isOldFile(attrs, cutoff)) {
          // a file made ahead of time, ready or being written, is no blob yet (see ReadyFiles)
          BlobKey.tryParse(file.getFileName().toString()).filter(k -> !readyFiles.isHeld(k)).ifPresent(visitor);
        }
        return FileVisitResult.CONTINUE;
      }

      /** A file deleted after its directory was read (a ready file given up, a failed upload's blob). */
      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException && !file.equals(root)) {
          return FileVisitResult.CONTINUE;
        }
        throw e;
      }
    });
    // Partial uploads no upload of this process is writing (a crashed process's): never
    // referenced, safe to drop once old.
    try (DirectoryStream<Path> parts = Files.newDirectoryStream(tmp, "*" + PART)) {
      for (Path p : parts) {
        Optional<BlobKey> key = keyOf(p, PART);
        if (key.isPresent() && writing.contains(key.get())) {
          continue;
        }
        if (isOlder(p, cutoff) && !key.map(resuming::test).orElse(false)) {
          Files.deleteIfExists(p);
        }
      }
    }
    // Resumable uploads' files that no unfinished upload names: one deleted while a piece of it
    // failed, whose node died holding it, or whose row was never written. A paused upload is
    // still named, however old its file.
    try (DirectoryStream<Path> pieces = Files.newDirectoryStream(tmp, "*" + FilePartialBlobs.SUFFIX)) {
      for (Path p : pieces) {
        Optional<BlobKey> key = keyOf(p, FilePartialBlobs.SUFFIX);
        if (key.isPresent() && isOlder(p, cutoff) && !resuming.test(key.get())) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** The key a temporary file {@code p} is named after, its {@code suffix} cut off. */
  private static Optional<BlobKey> keyOf(Path p, String suffix) {
    String name = p.getFileName().toString();
    return BlobKey.tryParse(name.substring(0, name.length() - suffix.length()));
  }

  /** False for a file gone since its directory was read: renamed into place, or deleted by its upload. */
  private static boolean isOlder(Path p, Instant cutoff) throws IOException {
    try {
      return Files.getLastModifiedTime(p).toInstant().isBefore(cutoff);
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  private static boolean isOldFile(BasicFileAttributes attrs, Instant cutoff) {
    return attrs.isRegularFile() && attrs.lastModifiedTime().toInstant().isBefore(cutoff);
  }
}
