package org.fhirbox.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Blobs as files under {@code root}, sharded by the key's first two byte pairs
 * ({@code ab/cd/abcd...}). Writes go to {@code root/tmp}, are fsynced, then atomically renamed
 * into place, so a crash leaves either the whole blob or none of it under its key; the
 * shard directory is then synced, in batches shared by concurrent uploads ({@link GroupCommit}),
 * and new keys go to one shard at a time, created ahead ({@link Shards}). A body that fits in one
 * upload buffer skips the rename: it goes into an empty file whose name was made durable ahead of
 * time ({@link ReadyFiles}), and its upload waits only for that file's fdatasync.
 * Paths are built only from {@link BlobKey}s, never from user input.
 */
public final class FileBlobStore implements BlobStore {
  private static final int BUFFER = 1 << 20;
  private static final int LANE_BUFFERS = 8;
  /** Blobs written to one shard directory before the next takes over (see {@link Shards}). */
  private static final int BLOBS_PER_SHARD = 1024;
  /** Empty files kept ready for bodies that fit in one buffer (see {@link ReadyFiles}). */
  private static final int READY_FILES = 128;
  /** Below this, digests run on the request thread before the sync: a handoff would cost more. */
  private static final int DIGEST_BESIDE_SYNC = 64 * 1024;
  /** Aligned buffers for direct writes: how many bodies may be written with O_DIRECT at once. */
  private static final int DIRECT_BUFFERS = 16;
  private final Path root;
  private final Path tmp;
  private final Syncs syncs;
  private final GroupCommit commits;
  private final Shards shards;
  private final ReadyFiles readyFiles;
  private final DirectWrites direct;
  private final FileRanges ranges = new FileRanges();
  private final FileOrphans orphans;
  /**
   * Upload buffers, reused: at the heap sizes fhirbox runs with, a 1 MiB array is a humongous
   * object for G1, and a resumable upload in 16 MiB pieces would otherwise allocate eight of them
   * per piece (measured: 1.5 s of GC pauses per GiB at -Xmx256m).
   */
  private final PartBufferPool uploadBuffers = new PartBufferPool(BUFFER, 2 * LANE_BUFFERS);
  private final FilePartialBlobs partials = new FilePartialBlobs(this);
  /**
   * Large uploads that may run as a pipeline at once ({@link UploadLanes}: four threads and
   * {@value #LANE_BUFFERS} buffers each); the others hash and write on their request thread with
   * one buffer. A pipeline pays off only while cores would otherwise idle: with sixteen 10 MiB
   * uploads at once on 2 cores, pipelines for all of them handed every chunk between 64 threads
   * and held 128 MiB of buffers, and a 256 MiB heap ran out of memory.
   */
  private final Semaphore pipelines;
  private final ExecutorService workers = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fhirbox-store");
    t.setDaemon(true);
    return t;
  });

  public FileBlobStore(Path root) throws IOException {
    this(root, Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
  }

  /** @param pipelines how many large uploads may run as a pipeline at once (see {@link #pipelines}) */
  FileBlobStore(Path root, int pipelines) throws IOException {
    this(root, pipelines, Syncs.FSYNC);
  }

  FileBlobStore(Path root, int pipelines, Syncs syncs) throws IOException {
    this(root, pipelines, syncs, READY_FILES);
  }

  /** @param readyFiles how many empty files to keep ready (see {@link ReadyFiles}); 0: none */
  FileBlobStore(Path root, int pipelines, Syncs syncs, int readyFiles) throws IOException {
    this(root, pipelines, syncs, readyFiles, DIRECT_BUFFERS);
  }

  /** @param directBuffers how many bodies may be written with O_DIRECT at once ({@link DirectWrites}); 0: none */
  FileBlobStore(Path root, int pipelines, Syncs syncs, int readyFiles, int directBuffers) throws IOException {
    this.syncs = syncs;
    this.commits = new GroupCommit(syncs::directory);
    this.pipelines = new Semaphore(pipelines);
    this.root = root.toAbsolutePath().normalize();
    this.tmp = this.root.resolve("tmp");
    // the data directory, its blobs/ and tmp/ on the first start: their names durable too
    syncs.createDirectories(tmp);
    this.shards = new Shards(this.root, workers, BLOBS_PER_SHARD);
    this.readyFiles = new ReadyFiles(shards, this.root, syncs, workers, readyFiles);
    this.readyFiles.fill();
    this.orphans = new FileOrphans(this.root, tmp, this.readyFiles);
    this.direct = new DirectWrites(tmp, BUFFER, directBuffers);
  }

  /**
   * Gets SHA-256 and SHA-1 compiled with the CPU's SHA instructions before the first large
   * upload (see {@link UploadLanes}); about half a second of CPU, so the server runs it once it
   * serves rather than while it starts.
   */
  public static void warmUpDigests() {
    UploadLanes.warmUp();
  }

  @Override
  public ResumableBlobs resumable() {
    return partials;
  }

  Path pathOf(BlobKey key) {
    return pathOf(root, key);
  }

  static Path pathOf(Path root, BlobKey key) {
    String k = key.value();
    return root.resolve(k.substring(0, 2)).resolve(k.substring(2, 4)).resolve(k);
  }

  /**
   * The shard directory of {@code key}, which {@link Shards} made durable before handing the key
   * out; made again, durably, when it is missing: a key handed out before a crash whose shard
   * directory never reached the disk.
   */
  static Path durableShard(Path root, BlobKey key) throws IOException {
    Path dir = pathOf(root, key).getParent();
    if (!Files.isDirectory(dir)) {
      Shards.createDurably(root, key.value().substring(0, 4));
    }
    return dir;
  }

  @Override
  public BlobInfo put(InputStream in, long maxBytes) throws IOException {
    List<MessageDigest> digests = UploadLanes.putDigests();
    // the size is judged at each read, not once a whole buffer has been read (see SizeCap)
    Head head = head(new SizeCap(in, maxBytes));
    if (head.ended()) {
      return putWhole(head, maxBytes, digests);
    }
    BlobKey key;
    try {
      key = shards.newKey();
    } catch (IOException | RuntimeException e) {
      uploadBuffers.give(head.buffer());
      throw e;
    }
    // the orphan sweep spares the temporary file however long the body takes (see FileOrphans)
    orphans.writing(key);
    try {
      return putLarge(key, head, maxBytes, digests);
    } finally {
      orphans.written(key);
    }
  }

  /** A body beyond one buffer, into a temporary file renamed into place once it is synced. */
  private BlobInfo putLarge(BlobKey key, Head head, long maxBytes, List<MessageDigest> digests) throws IOException {
    Path temp = orphans.temporary(key);
    FileChannel ch;
    try {
      ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (IOException | RuntimeException e) {
      uploadBuffers.give(head.buffer());
      throw e;
    }
    boolean done = false;
    try (ch) {
      long size = write(head, temp, ch, maxBytes, digests, null, UploadLanes.FLUSH_EVERY);
      // fdatasync: the content and the size; the name is made durable below. Uploads run this
      // on their own threads at the same time, so the file system shares its journal commits
      // among them. One thread syncing a batch's files one after another was measured 2 to 5
      // times slower on ext4 (each fdatasync then waits for a journal commit of its own).
      syncs.content(ch, temp);
      moveIntoPlace(temp, key);
      done = true;
      return info(key, size, digests);
    } finally {
      if (!done) {
        Files.deleteIfExists(temp);
      }
    }
  }

  /**
   * A body that fit in its first buffer (every body of up to 1 MiB): written into a file made
   * ahead of time when one is ready ({@link ReadyFiles}), so that its own fdatasync is all the
   * upload waits for; else into a temporary file renamed into place as a larger body is.
   */
  private BlobInfo putWhole(Head head, long maxBytes, List<MessageDigest> digests) throws IOException {
    try {
      if (head.length() > maxBytes) {
        throw new BlobTooLargeException(maxBytes);
      }
      Optional<BlobKey> ready = readyFiles.take();
      return ready.isPresent() ? putIntoReady(ready.get(), head, digests) : putIntoTemporary(head, digests);
    } finally {
      uploadBuffers.give(head.buffer());
    }
  }

  /** Into a file made ahead of time, already under its key's name: nothing to rename. */
  private BlobInfo putIntoReady(BlobKey key, Head head, List<MessageDigest> digests) throws IOException {
    Path file = pathOf(key);
    boolean done = false;
    try {
      writeWhole(file, head, digests, StandardOpenOption.WRITE);
      if (head.length() == 0) {
        // nothing was written, which would have dated it: an old date would make a fresh blob
        // look like an orphan of long ago to the sweeper
        Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
      }
      done = true;
      return info(key, head.length(), digests);
    } finally {
      try {
        if (!done) {
          Files.deleteIfExists(file);
        }
      } finally {
        // released even when the delete failed: a held file is one the orphan sweep passes over
        readyFiles.release(key);
      }
    }
  }

  /** Into a new temporary file, renamed into place once it is synced. */
  private BlobInfo putIntoTemporary(Head head, List<MessageDigest> digests) throws IOException {
    BlobKey key = shards.newKey();
    Path temp = orphans.temporary(key);
    boolean done = false;
    orphans.writing(key);
    try {
      writeWhole(temp, head, digests, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      moveIntoPlace(temp, key);
      done = true;
      return info(key, head.length(), digests);
    } finally {
      try {
        if (!done) {
          Files.deleteIfExists(temp);
        }
      } finally {
        orphans.written(key);
      }
    }
  }

  /**
   * Writes the head's bytes to {@code file} ({@link DirectWrites#forBody}) and syncs them,
   * digesting meanwhile: while a core may be idle (the same bound as the pipelines'), each digest
   * runs on a thread of its own from the start, beside the write and the fdatasync, so that the
   * upload waits for the longest of the three instead of the write, then the longer of the sync
   * and both digests one after the other.
   */
  private void writeWhole(Path file, Head head, List<MessageDigest> digests, OpenOption... options)
      throws IOException {
    byte[] buf = head.buffer();
    int n = head.length();
    try (FileChannel ch = FileChannel.open(file, options)) {
      if (n < DIGEST_BESIDE_SYNC || !pipelines.tryAcquire()) {
        writeBody(file, ch, buf, n);
        digest(digests, buf, n);
        syncs.content(ch, file);
        return;
      }
      try {
        List<CompletableFuture<Void>> digested = new ArrayList<>(digests.size());
        for (MessageDigest md : digests) {
          digested.add(CompletableFuture.runAsync(() -> md.update(buf, 0, n), workers));
        }
        try {
          writeBody(file, ch, buf, n);
          syncs.content(ch, file);
        } finally {
          // the buffer goes back to the pool only once the digests are done with it
          digested.forEach(CompletableFuture::join);
        }
      } finally {
        pipelines.release();
      }
    }
  }

  /** The first {@code n} bytes of {@code buf} into {@code ch} from its position on. */
  private void writeBody(Path file, FileChannel ch, byte[] buf, int n) throws IOException {
    try (DirectWrites.Output out = direct.forBody(file, ch, n)) {
      out.write(buf, n);
      out.finish();
    }
  }

  private static void digest(List<MessageDigest> digests, byte[] buf, int n) {
    for (MessageDigest md : digests) {
      md.update(buf, 0, n);
    }
  }

  /** The blob's info from {@code digests} (a SHA-1, and a SHA-256 or not), each read once. */
  private static BlobInfo info(BlobKey key, long size, List<MessageDigest> digests) {
    HexFormat hex = HexFormat.of();
    String sha256 = null;
    String sha1 = null;
    for (MessageDigest md : digests) {
      switch (md.getAlgorithm()) {
        case "SHA-256" -> sha256 = hex.formatHex(md.digest());
        case "SHA-1" -> sha1 = hex.formatHex(md.digest());
        default -> throw new IllegalArgumentException("no blob digest: " + md.getAlgorithm());
      }
    }
    return new BlobInfo(key, size, sha256, sha1);
  }

  /** A fresh key whose shard directory is durable. */
  BlobKey newKey() throws IOException {
    return shards.newKey();
  }

  /** Where files being written live until they are complete. */
  Path tmp() {
    return tmp;
  }

  /**
   * Renames a complete, fsynced file to its key's path, durably. The caller commits a row naming
   * this blob once we return. A rename is on disk only once its directory is synced (fsync(2):
   * syncing a file does not sync the directory entry that names it), so without this a power loss
   * after that commit could lose the blob. The shard directory itself was made durable before its
   * first key was handed out.
   */
  void moveIntoPlace(Path temp, BlobKey key) throws IOException {
    Path target = durableShard(root, key).resolve(key.value());
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("blob directory does not support atomic rename: " + root, e);
    }
    commits.await(target.getParent());
  }

  /**
   * Makes durable the entry of {@code key}'s blob in its shard directory, renamed there by an
   * earlier {@link #moveIntoPlace} whose own sync failed or never ran (the process died); throws
   * when the sync fails.
   */
  void syncPlaced(BlobKey key) throws IOException {
    commits.await(durableShard(root, key));
  }

  /** How this store makes what it writes durable. */
  Syncs syncs() {
    return syncs;
  }

  /** The start of a body: one upload buffer, and whether the body ended within it. */
  private record Head(byte[] buffer, int length, boolean ended, InputStream rest) {}

  /** Reads the first buffer of a body; a body of exactly one buffer counts as ended too. */
  private Head head(InputStream in) throws IOException {
    byte[] first = uploadBuffers.take();
    try {
      int n = in.readNBytes(first, 0, first.length);
      if (n < first.length) {
        return new Head(first, n, true, in);
      }
      // A body of exactly one buffer (a 1 MiB photo) is small too: look for one more byte
      // rather than start the lanes' threads for nothing.
      PushbackInputStream peek = new PushbackInputStream(in, 1);
      int next = peek.read();
      if (next < 0) {
        return new Head(first, n, true, in);
      }
      peek.unread(next);
      return new Head(first, n, false, peek);
    } catch (IOException | RuntimeException e) {
      uploadBuffers.give(first);
      throw e;
    }
  }

  /**
   * Writes everything {@code in} yields at {@code ch}'s position, feeding each of {@code digests}
   * on the way; {@link BlobTooLargeException} beyond {@code maxBytes}. Returns the bytes written.
   * {@code file} is {@code ch}'s file: a body is written to it as {@link DirectWrites#forBody} says. {@code flushEvery}: how
   * much a pipelined write leaves unflushed at most before its flusher starts the next flush (see
   * {@link UploadLanes}). {@code trailing}: a resumable upload's running digests, or null; a
   * pipelined write may still be feeding them when it returns.
   */
  long write(InputStream in, Path file, FileChannel ch, long maxBytes, List<MessageDigest> digests,
      TrailingDigests trailing, long flushEvery) throws IOException {
    return write(head(in), file, ch, maxBytes, digests, trailing, flushEvery);
  }

  /** Writes a body from its head on; the head's buffer goes back to the pool. */
  private long write(Head head, Path file, FileChannel ch, long maxBytes, List<MessageDigest> digests,
      TrailingDigests trailing, long flushEvery) throws IOException {
    DirectWrites.Output out;
    try {
      out = direct.forBody(file, ch, head.ended() ? head.length() : Long.MAX_VALUE);
    } catch (IOException | RuntimeException e) {
      uploadBuffers.give(head.buffer());
      throw e;
    }
    try (out) {
      long total;
      if (!head.ended() && pipelines.tryAcquire()) {
        try {
          total = pipelined(head.rest(), maxBytes, ch, out, head.buffer(), digests, trailing, flushEvery);
        } finally {
          pipelines.release();
        }
      } else {
        total = onThisThread(head, maxBytes, out, TrailingDigests.withFedHere(digests, trailing));
      }
      out.finish();
      return total;
    }
  }

  /**
   * Small content, or large content while other pipelines keep the cores busy: hash and write on
   * this thread; more threads would cost more than they save. {@code out} null: hash only.
   */
  private long onThisThread(Head head, long maxBytes, DirectWrites.Output out, List<MessageDigest> digests)
      throws IOException {
    byte[] first = head.buffer();
    try {
      int n = head.length();
      long total = 0;
      while (n > 0) {
        total += n;
        if (total > maxBytes) {
          throw new BlobTooLargeException(maxBytes);
        }
        digest(digests, first, n);
        if (out != null) {
          out.write(first, n);
        }
        n = head.ended() ? 0 : head.rest().readNBytes(first, 0, first.length);
      }
      return total;
    } finally {
      uploadBuffers.give(first);
    }
  }

  /** Empty files ready for uploads now. */
  int readyFiles() {
    return readyFiles.readyCount();
  }

  /** Upload buffers allocated since the store was made: the most that were in use at once. */
  long uploadBuffersAllocated() {
    return uploadBuffers.allocated();
  }

  /** Large content: this thread receives; hashing and writing run in {@link UploadLanes}. */
  private long pipelined(InputStream in, long maxBytes, FileChannel ch, DirectWrites.Output out, byte[] first,
      List<MessageDigest> digests, TrailingDigests trailing, long flushEvery) throws IOException {
    long total = 0;
    try (UploadLanes lanes = new UploadLanes(workers, LANE_BUFFERS, first, ch, out, digests, trailing,
        uploadBuffers, flushEvery)) {
      byte[] buf = first;
      int n = first.length;
      while (n > 0) {
        total += n;
        if (total > maxBytes) {
          lanes.giveBack(buf);
          throw new BlobTooLargeException(maxBytes);
        }
        lanes.submit(buf, n);
        buf = lanes.take();
        n = in.readNBytes(buf, 0, buf.length);
      }
      lanes.giveBack(buf);
      lanes.finish();
      return total;
    }
  }

  static void syncDirectory(Path dir) throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
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

  /** See {@link FileRanges#transferTo}. */
  @Override
  public void transferTo(BlobKey key, long offset, long length, WritableByteChannel target)
      throws IOException {
    ranges.transferTo(pathOf(key), key, offset, length, target);
  }

  /**
   * Reads the file on this thread while SHA-256 and SHA-1 each run on a lane of their own
   * ({@link UploadLanes}), when a pipeline is free: a blob just written with {@code O_DIRECT} is
   * read from the disk, and one thread reading and then hashing each buffer took the sum of the
   * three (1 GiB: 3.0 s, where the read alone takes 1.4 s).
   */
  @Override
  public BlobInfo digest(BlobKey key, long maxBytes) throws IOException {
    List<MessageDigest> digests = UploadLanes.readBackDigests();
    try (InputStream in = open(key, 0)) {
      return info(key, feed(in, Long.MAX_VALUE, maxBytes, digests), digests);
    }
  }

  /**
   * Reads at most {@code limit} bytes of a file's stream {@code in} into {@code digests}, as
   * {@link #digest} does; {@link BlobTooLargeException} beyond {@code maxBytes}. Returns the bytes
   * read.
   */
  long feed(InputStream in, long limit, long maxBytes, List<MessageDigest> digests) throws IOException {
    Head head = head(new SlicedReads(in, limit));
    if (!head.ended() && pipelines.tryAcquire()) {
      try {
        return pipelined(head.rest(), maxBytes, null, null, head.buffer(), digests, null, 0);
      } finally {
        pipelines.release();
      }
    }
    return onThisThread(head, maxBytes, null, digests);
  }

  @Override
  public InputStream open(BlobKey key, long offset) throws IOException {
    FileChannel ch = FileChannel.open(pathOf(key), StandardOpenOption.READ);
    ch.position(offset);
    return Channels.newInputStream(ch);
  }

  @Override
  public void delete(BlobKey key) throws IOException {
    Files.deleteIfExists(pathOf(key));
  }

  /** See {@link FileOrphans}. */
  @Override
  public void listOlderThan(Instant cutoff, Consumer<BlobKey> visitor, Predicate<BlobKey> resuming)
      throws IOException {
    orphans.listOlderThan(cutoff, visitor, resuming);
  }

  @Override
  public void close() {
    readyFiles.close();
    shards.close();
    workers.shutdown();
  }

  @Override
  public boolean isReachable() {
    return Files.isDirectory(root) && Files.isWritable(root);
  }
}
