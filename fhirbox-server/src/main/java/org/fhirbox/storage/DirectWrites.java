package org.fhirbox.storage;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bodies of 64 KiB and more are written with {@code O_DIRECT}: the device reads them
 * from an aligned buffer, and the kernel no longer copies every byte into the page cache and
 * writes it back later. On this project's 2-core VM (ext4 on virtio, 2026-12-03), a loop writing
 * 1 GiB in 1 MiB writes took 1.53–1.56 s and 1.60 CPU-seconds through the page cache (an
 * fdatasync every 8 MiB beside it), and 0.89–1.17 s and 0.13–0.18 CPU-seconds direct. In a large
 * upload that copy was the largest single CPU cost, a fifth of all samples, on a machine whose two
 * cores also run the client; direct, a raw 1 GiB {@code POST} used 0.5–0.6 system CPU-seconds
 * instead of 2.2–2.4. Object stores do the same for large objects (MinIO writes them with
 * {@code O_DIRECT}).
 *
 * <p>Durability is unchanged: the caller's fdatasync still follows the last write. It commits the
 * file's size and extents and flushes the device's write cache, where direct writes may still sit
 * (open(2), {@code O_DIRECT}: "does not guarantee that the data has been transferred" without it).
 *
 * <p>{@code O_DIRECT} wants the buffer's address, the file offset and the length aligned to the
 * file system's block size. An {@link Output} writes the bytes up to the first aligned offset and
 * the last partial block through the ordinary channel (a resumed upload starts anywhere), and
 * everything between directly. A file system that refuses {@code O_DIRECT} (tmpfs) gets the
 * ordinary writes; so does an upload that finds every aligned buffer in use.
 */
final class DirectWrites {
  private static final Logger LOG = LoggerFactory.getLogger(DirectWrites.class);
  /**
   * Bodies from this size on are written directly. Over HTTP on this project's 2-core VM
   * (2026-12-03, 5 s runs, the two builds alternating): 100 KB at 1 connection 758–836 uploads/s
   * against 586–651 through the page cache, at 16 connections 1,264–1,521 against 1,080–1,133;
   * 1 MiB at 1 connection 220–251 against 151–194.
   */
  static final int DIRECT_MIN = 64 * 1024;
  /** The most a heap buffer hands a channel per call ({@link #writeFully}). */
  static final int CHANNEL_SLICE = 256 * 1024;
  static final String PROBE_PREFIX = "direct-";
  static final String PROBE_SUFFIX = ".probe";
  /** A probe lives for one open; older than this, its start was interrupted. */
  private static final Duration PROBE_AGE = Duration.ofMinutes(1);
  private final int bufferSize;
  private final int maxBuffers;
  private final BlockingQueue<ByteBuffer> free;
  private final AtomicInteger made = new AtomicInteger();
  private final int align;
  private final boolean refused;

  /**
   * @param dir a directory on the file system written to, for its block size
   * @param bufferSize bytes per aligned buffer, a multiple of the block size
   * @param maxBuffers aligned buffers at most (one per direct write in progress); 0 turns direct writes off
   */
  DirectWrites(Path dir, int bufferSize, int maxBuffers) throws IOException {
    this.align = (int) Files.getFileStore(dir).getBlockSize();
    if (bufferSize % align != 0) {
      throw new IllegalArgumentException("buffer size " + bufferSize + " is not a multiple of the block size " + align);
    }
    this.bufferSize = bufferSize;
    this.maxBuffers = maxBuffers;
    this.free = new ArrayBlockingQueue<>(Math.max(1, maxBuffers));
    deleteProbes(dir);
    this.refused = maxBuffers == 0 || !takesDirectWrites(dir);
  }

  /**
   * Deletes the probe files of earlier starts: one that a crash or a kill interrupted kept its
   * file, which no sweep looks at (it names no blob, no upload). Only those older than a minute:
   * a node starting beside this one on a shared data folder may be probing with its own, and
   * would take the deletion for a refusal of O_DIRECT. A file that cannot be deleted is left to
   * the next start; it holds no data.
   */
  private static void deleteProbes(Path dir) throws IOException {
    Instant before = Instant.now().minus(PROBE_AGE);
    try (DirectoryStream<Path> probes = Files.newDirectoryStream(dir, PROBE_PREFIX + "*" + PROBE_SUFFIX)) {
      for (Path p : probes) {
        try {
          if (Files.getLastModifiedTime(p).toInstant().isBefore(before)) {
            Files.deleteIfExists(p);
          }
        } catch (IOException e) {
          LOG.warn("could not delete the probe file {} an earlier start left: {}", p, e.toString());
        }
      }
    }
  }

  /** Opens a new file in {@code dir} with O_DIRECT once, so that a refusal is known before the first upload. */
  private static boolean takesDirectWrites(Path dir) throws IOException {
    Path probe = Files.createTempFile(dir, PROBE_PREFIX, PROBE_SUFFIX);
    try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)) {
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      // tmpfs before Linux 6.6 and some network file systems answer EINVAL; the ordinary writes are as safe
      LOG.info("the file system of {} refuses O_DIRECT ({}); bodies are written through the page cache",
          dir, e.toString());
      return false;
    } finally {
      Files.deleteIfExists(probe);
    }
  }

  /** The alignment direct writes keep: the file system's block size. */
  int alignment() {
    return align;
  }

  /**
   * Where a body of at least {@code coming} bytes goes in {@code file}, from {@code ch}'s position
   * on: directly from {@link #DIRECT_MIN} on where {@link #open} can, else through {@code ch}.
   */
  Output forBody(Path file, FileChannel ch, long coming) throws IOException {
    Optional<Output> direct = coming >= DIRECT_MIN ? open(file, ch) : Optional.empty();
    return direct.orElseGet(() -> new ThroughPageCache(ch));
  }

  /**
   * A direct output that writes {@code file} from {@code ch}'s position on, or empty when this
   * file system refuses {@code O_DIRECT}, every aligned buffer is in use, or the file cannot be
   * opened so (gone meanwhile, no descriptor left): the caller then writes through {@code ch}, and
   * any lasting trouble shows there.
   */
  Optional<Output> open(Path file, FileChannel ch) throws IOException {
    if (refused) {
      return Optional.empty();
    }
    ByteBuffer buf = take();
    if (buf == null) {
      return Optional.empty();
    }
    FileChannel direct;
    try {
      direct = FileChannel.open(file, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
    } catch (IOException | UnsupportedOperationException e) {
      free.add(buf);
      LOG.debug("writing {} through the page cache: {}", file.getFileName(), e.toString());
      return Optional.empty();
    }
    return Optional.of(new Direct(direct, ch, buf, ch.position()));
  }

  private ByteBuffer take() {
    ByteBuffer b = free.poll();
    if (b != null) {
      return b;
    }
    if (made.incrementAndGet() > maxBuffers) {
      made.decrementAndGet();
      return null;
    }
    return ByteBuffer.allocateDirect(bufferSize + align).alignedSlice(align).slice(0, bufferSize);
  }

  /**
   * Writes {@code buf[0, n)} to {@code ch} in slices of at most {@link #CHANNEL_SLICE}: the JDK
   * copies a heap buffer into a temporary direct buffer for each write, and keeps one per thread
   * only up to {@code jdk.nio.maxCachedBufferSize} (the launcher sets 256 KiB), so a 1 MiB write
   * allocated, zeroed and freed 1 MiB of direct memory every time. Sliced, a raw 1 GiB upload
   * took 1.5–1.9 user CPU-s instead of 2.1–2.7 (2026-12-02, three uploads each).
   */
  static void writeFully(FileChannel ch, byte[] buf, int n) throws IOException {
    for (int off = 0; off < n; off += CHANNEL_SLICE) {
      ByteBuffer bb = ByteBuffer.wrap(buf, off, Math.min(CHANNEL_SLICE, n - off));
      while (bb.hasRemaining()) {
        ch.write(bb);
      }
    }
  }

  /** Where a body's bytes go, appended in order from a channel's position; one writer thread. */
  sealed interface Output extends AutoCloseable permits Direct, ThroughPageCache {
    /** Appends {@code n} bytes of {@code b}. */
    void write(byte[] b, int n) throws IOException;

    /**
     * After the last write: everything reaches the file (the caller's fdatasync makes it durable),
     * and the channel stands after the last byte.
     */
    void finish() throws IOException;

    @Override
    void close() throws IOException;
  }

  /** The ordinary writes, through the page cache. */
  private record ThroughPageCache(FileChannel ch) implements Output {
    @Override
    public void write(byte[] b, int n) throws IOException {
      writeFully(ch, b, n);
    }

    @Override
    public void finish() {
      // every write reached the channel already
    }

    @Override
    public void close() {
      // the channel is the caller's
    }
  }

  /** Bytes appended with O_DIRECT from an aligned buffer, the unaligned ends through the page cache. */
  private final class Direct implements Output {
    private final FileChannel direct;
    private final FileChannel ordinary;
    private final ByteBuffer buf;
    /** Where the next ordinary head byte, or else the buffer's first byte, goes in the file. */
    private long position;
    private boolean closed;

    private Direct(FileChannel direct, FileChannel ordinary, ByteBuffer buf, long start) {
      this.direct = direct;
      this.ordinary = ordinary;
      this.buf = buf.clear();
      this.position = start;
    }

    @Override
    public void write(byte[] b, int n) throws IOException {
      int off = 0;
      int head = (int) ((align - position % align) % align);
      if (head > 0) {
        // up to the first aligned offset through the page cache: O_DIRECT cannot start mid-block
        int k = Math.min(head, n);
        writeOrdinary(ByteBuffer.wrap(b, 0, k));
        off = k;
      }
      while (off < n) {
        int k = Math.min(n - off, buf.remaining());
        buf.put(b, off, k);
        off += k;
        if (!buf.hasRemaining()) {
          drain(buf.capacity());
        }
      }
    }

    /** The whole blocks still buffered directly, the last partial block through the page cache. */
    @Override
    public void finish() throws IOException {
      int whole = buf.position() - buf.position() % align;
      int rest = buf.position() - whole;
      if (whole > 0) {
        drain(whole);
      }
      if (rest > 0) {
        buf.flip();
        writeOrdinary(buf);
        buf.clear();
      }
      ordinary.position(position);
    }

    /** Writes the buffer's first {@code length} bytes (a multiple of the block size) at {@link #position}. */
    private void drain(int length) throws IOException {
      int end = buf.position();
      buf.flip().limit(length);
      while (buf.hasRemaining()) {
        position += direct.write(buf, position);
      }
      // keeps what followed the drained blocks (finish drains whole blocks and leaves the tail)
      buf.limit(end);
      buf.compact();
    }

    private void writeOrdinary(ByteBuffer bb) throws IOException {
      while (bb.hasRemaining()) {
        position += ordinary.write(bb, position);
      }
    }

    /** Closes the direct channel and gives the buffer back; the ordinary channel stays open. */
    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      buf.clear();
      free.add(buf);
      direct.close();
    }
  }
}
