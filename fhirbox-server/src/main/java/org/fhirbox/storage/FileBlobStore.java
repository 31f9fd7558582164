package org.fhirbox.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Blobs as files under {@code root}, sharded by the key's first two byte pairs
 * ({@code ab/cd/abcd...}). Writes go to {@code root/tmp}, are fsynced, then atomically renamed
 * into place, so a crash leaves either the whole blob or none of it under its key.
 * Paths are built only from {@link BlobKey}s, never from user input.
 */
public final class FileBlobStore implements BlobStore {
  private static final int BUFFER = 256 * 1024;
  private final Path root;
  private final Path tmp;

  public FileBlobStore(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    this.tmp = this.root.resolve("tmp");
    Files.createDirectories(tmp);
  }

  Path pathOf(BlobKey key) {
    String k = key.value();
    return root.resolve(k.substring(0, 2)).resolve(k.substring(2, 4)).resolve(k);
  }

  @Override
  public BlobInfo put(InputStream in, long maxBytes) throws IOException {
    BlobKey key = BlobKey.random();
    Path temp = tmp.resolve(key.value() + ".part");
    DigestingInputStream digesting = new DigestingInputStream(in, maxBytes);
    boolean done = false;
    try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      byte[] buf = new byte[BUFFER];
      ByteBuffer bb = ByteBuffer.wrap(buf);
      int n;
      while ((n = digesting.read(buf, 0, buf.length)) >= 0) {
        bb.clear().limit(n);
        while (bb.hasRemaining()) {
          ch.write(bb);
        }
      }
      ch.force(true);
      Path target = pathOf(key);
      Files.createDirectories(target.getParent());
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("blob directory does not support atomic rename: " + root, e);
      }
      done = true;
      return digesting.info(key);
    } finally {
      if (!done) {
        Files.deleteIfExists(temp);
      }
    }
  }

  @Override
  public Optional<Long> size(BlobKey key) throws IOException {
    try {
      return Optional.of(Files.size(pathOf(key)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public void read(BlobKey key, long offset, long length, OutputStream out) throws IOException {
    try (FileChannel ch = FileChannel.open(pathOf(key), StandardOpenOption.READ)) {
      WritableByteChannel target = out instanceof WritableByteChannel w ? w : Channels.newChannel(out);
      long pos = offset;
      long end = offset + length;
      while (pos < end) {
        long sent = ch.transferTo(pos, end - pos, target);
        if (sent <= 0) {
          if (pos >= ch.size()) {
            throw new IOException("blob " + key + " is shorter than expected");
          }
          continue;
        }
        pos += sent;
      }
    }
  }

  @Override
  public InputStream open(BlobKey key, long offset) throws IOException {
    FileChannel ch = FileChannel.open(pathOf(key), StandardOpenOption.READ);
    ch.position(offset);
    return Channels.newInputStream(ch);
  }

  /** The file holding a blob, for servers that can send files without copying. */
  public Path file(BlobKey key) {
    return pathOf(key);
  }

  @Override
  public void delete(BlobKey key) throws IOException {
    Files.deleteIfExists(pathOf(key));
  }

  @Override
  public void listOlderThan(Instant cutoff, Consumer<BlobKey> visitor) throws IOException {
    try (Stream<Path> files = Files.find(root, 3, (p, attrs) -> isOldFile(attrs, cutoff))) {
      files.forEach(p -> BlobKey.tryParse(p.getFileName().toString()).ifPresent(visitor));
    }
    // Partial uploads from a crashed process: never referenced, safe to drop once old.
    try (DirectoryStream<Path> parts = Files.newDirectoryStream(tmp, "*.part")) {
      for (Path p : parts) {
        if (Files.getLastModifiedTime(p).toInstant().isBefore(cutoff)) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private static boolean isOldFile(BasicFileAttributes attrs, Instant cutoff) {
    return attrs.isRegularFile() && attrs.lastModifiedTime().toInstant().isBefore(cutoff);
  }

  @Override
  public boolean isReachable() {
    return Files.isDirectory(root) && Files.isWritable(root);
  }
}
