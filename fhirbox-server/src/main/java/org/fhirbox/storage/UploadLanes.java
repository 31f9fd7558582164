package org.fhirbox.storage;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A large upload as a pipeline: the request thread only receives; each digest (the SHA-1 for an
 * upload, SHA-256 too for a blob read once more) and the file write run on their own thread over
 * the same buffers, so the upload is bounded by the slowest stage instead of the sum of all. One
 * more thread flushes the written pages to disk while the writer goes on, so the disk works during
 * the upload and the final fsync has little left. Chunks travel in order from a fixed pool of
 * buffers: memory stays at {@code buffers × bufferSize} whatever the content size.
 */
final class UploadLanes implements AutoCloseable {
  private static final byte[] END = new byte[0];
  private static final int SLICE = 64 * 1024;
  /**
   * The flusher starts a flush once this much was written since the last one started, for a
   * whole blob. Flushing from its own thread matters more than the amount: on this project's
   * 2-core VM a writer that stopped for an fsync every 128 MiB stored 1 GiB at ~340 MB/s, the
   * same writes with flushes running beside them at ~600 MB/s (the device works while the writer
   * fills the page cache).
   */
  static final long FLUSH_EVERY = 8L << 20;
  private static final long STOP = -1;

  /** Where one lane sends each chunk, in order. */
  private interface Sink {
    void accept(byte[] buffer, int length) throws IOException;
  }

  /** A chunk handed to the lanes: the buffer, how many bytes of it count, lanes still reading it. */
  private record Chunk(byte[] buffer, int length, AtomicInteger pending) {}

  private final BlockingQueue<byte[]> free;
  private final PartBufferPool pool;
  /** Every lane; those {@link #finish} waits for; those it does not (trailing digests). */
  private final List<Lane> lanes;
  private final List<Lane> waited;
  private final List<Lane> trailingLanes;
  /** Completes once the trailing digests have this piece, exceptionally when it was not stored. */
  private final CompletableFuture<Void> piece = new CompletableFuture<>();
  private volatile boolean finished;
  /** Set once the caller is done: buffers freed from then on go straight back to the pool. */
  private boolean closed;
  /**
   * Flushes with direct writes too: an fdatasync then commits the extents allocated so far and
   * flushes the device's write cache. Without it, the fdatasync after each 16 MiB piece of a
   * resumable upload waited 12 ms (median) for all of that; with it, 0.1–0.2 ms.
   */
  private final Flusher flusher;

  /**
   * Runs both digests over small inputs often enough for the JIT to compile them with the CPU's
   * SHA intrinsics; without this the first gigabytes of uploads hash at a fraction of the speed
   * (the compress loop is called once per buffer, too rarely to be compiled early).
   */
  static void warmUp() {
    byte[] block = new byte[4096];
    for (String alg : new String[] {"SHA-256", "SHA-1"}) {
      MessageDigest md = digest(alg);
      for (int i = 0; i < 20_000; i++) {
        md.update(block, 0, block.length);
      }
      md.digest();
    }
  }

  static MessageDigest digest(String alg) {
    try {
      return MessageDigest.getInstance(alg);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private final class Lane implements Runnable {
    private final Sink sink;
    private final BlockingQueue<Chunk> queue;
    /** What must be done before this lane's first chunk: earlier pieces of trailing digests. */
    private final CompletableFuture<Void> after;
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    Lane(Sink sink, int capacity, CompletableFuture<Void> after) {
      this.sink = sink;
      this.queue = new ArrayBlockingQueue<>(capacity + 1);
      this.after = after;
    }

    @Override
    public void run() {
      try {
        // a predecessor that failed spoiled the digests: this lane then only frees the buffers
        boolean feed = await(after);
        while (true) {
          Chunk c = queue.take();
          if (c.buffer() == END) {
            break;
          }
          if (feed) {
            sink.accept(c.buffer(), c.length());
          }
          if (c.pending().decrementAndGet() == 0) {
            release(c.buffer());
          }
        }
        if (feed) {
          done.complete(null);
        } else {
          done.completeExceptionally(new IOException("an earlier piece did not reach the digests"));
        }
      } catch (InterruptedException | IOException | RuntimeException e) {
        done.completeExceptionally(e);
      }
    }

    private boolean await(CompletableFuture<Void> f) throws InterruptedException {
      try {
        f.get();
        return true;
      } catch (ExecutionException e) {
        return false;
      }
    }

    boolean stopped() {
      return done.isDone();
    }

    void finish() throws IOException {
      try {
        queue.put(new Chunk(END, 0, null));
        done.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while storing");
      } catch (ExecutionException e) {
        throw failure(e.getCause());
      }
    }

    void rethrow() throws IOException {
      if (done.isCompletedExceptionally()) {
        try {
          done.join();
        } catch (CompletionException e) {
          throw failure(e.getCause());
        }
      }
    }

    private IOException failure(Throwable t) {
      return t instanceof IOException io ? io : new IOException("storing failed", t);
    }
  }

  /** Calls {@code force} whenever {@code every} more bytes were written, beside the writer. */
  private static final class Flusher implements Runnable {
    private final FileChannel out;
    private final long every;
    private final BlockingQueue<Long> kicks = new ArrayBlockingQueue<>(1);
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean stopped;
    private long kicked;

    Flusher(FileChannel out, long every) {
      this.out = out;
      this.every = every;
    }

    /** Writer thread: {@code written} bytes are in the file so far. Never blocks. */
    void written(long written) {
      if (!stopped && written - kicked >= every && kicks.offer(written)) {
        kicked = written;
      }
    }

    @Override
    public void run() {
      try {
        while (kicks.take() != STOP && !stopped) {
          out.force(false);
        }
      } catch (InterruptedException | IOException | RuntimeException e) {
        failure.set(e);
      } finally {
        done.countDown();
      }
    }

    /** Stops after the flush in progress, if any; the caller's final fsync covers the rest. */
    void stop() {
      stopped = true;
      kicks.offer(STOP); // when a kick is queued instead, the flusher takes it and then sees stopped
    }

    void await() throws IOException {
      try {
        if (!done.await(60, TimeUnit.SECONDS)) {
          throw new IOException("the disk did not finish a flush within 60 s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while flushing");
      }
      Throwable t = failure.get();
      if (t instanceof IOException io) {
        throw io;
      }
      if (t != null) {
        throw new IOException("flushing failed", t);
      }
    }
  }

  /**
   * @param first a buffer the caller already holds (it counts as taken); {@code buffers - 1} more
   *     of its size come from {@code pool}, and all go back to it once no lane holds them
   * @param digests each gets a lane of its own and every byte written, in order; read them
   *     once {@link #finish} returned
   * @param trailing digests of a resumable upload that this piece continues, or null: each gets a
   *     lane of its own too, which starts once the pieces before have reached them and may go on
   *     after {@link #finish} returned (see {@link TrailingDigests})
   * @param file where the file lane writes (the caller finishes it once {@link #finish} returned);
   *     {@code out} is its file's channel, which the flusher syncs; both null: the lanes only
   *     hash (a stored blob read once more)
   * @param flushEvery bytes written between the flusher's flushes: what the final fsync may have
   *     left to do
   */
  UploadLanes(Executor executor, int buffers, byte[] first, FileChannel out, DirectWrites.Output file,
      List<MessageDigest> digests, TrailingDigests trailing, PartBufferPool pool, long flushEvery) {
    this.pool = pool;
    this.free = new ArrayBlockingQueue<>(buffers);
    for (int i = 1; i < buffers; i++) {
      free.add(pool.take());
    }
    this.flusher = file == null ? null : new Flusher(out, flushEvery);
    long[] written = {0};
    CompletableFuture<Void> now = CompletableFuture.completedFuture(null);
    List<Lane> waited = new ArrayList<>();
    for (MessageDigest md : digests) {
      waited.add(new Lane((b, n) -> sliced(md, b, n), buffers, now));
    }
    if (file != null) {
      // The file is written from the channel's position on.
      waited.add(new Lane((b, n) -> {
        file.write(b, n);
        written[0] += n;
        flusher.written(written[0]);
      }, buffers, now));
    }
    List<Lane> behind = new ArrayList<>();
    if (trailing != null) {
      CompletableFuture<Void> before = trailing.handOver(piece);
      for (MessageDigest md : trailing.digests()) {
        behind.add(new Lane((b, n) -> sliced(md, b, n), buffers, before));
      }
      CompletableFuture.allOf(behind.stream().map(l -> l.done).toArray(CompletableFuture[]::new))
          .whenComplete((x, e) -> {
            if (e == null && finished) {
              piece.complete(null);
            } else {
              piece.completeExceptionally(e != null ? e : new IOException("the piece was not stored"));
            }
          });
    } else {
      piece.complete(null);
    }
    this.waited = List.copyOf(waited);
    this.trailingLanes = List.copyOf(behind);
    List<Lane> all = new ArrayList<>(waited);
    all.addAll(behind);
    this.lanes = List.copyOf(all);
    lanes.forEach(executor::execute);
    if (flusher != null) {
      executor.execute(flusher);
    }
  }

  /**
   * The digest every upload computes: the SHA-1, which {@code Attachment.hash} publishes. The
   * SHA-256 is not: on 2 cores it cost a 1 GiB upload a fifth of its rate, and the strong ETag
   * names the blob instead (see {@code BinaryContent#etag}).
   */
  static List<MessageDigest> putDigests() {
    return List.of(digest("SHA-1"));
  }

  /** SHA-256 and SHA-1: what a stored blob read once more is checked against. */
  static List<MessageDigest> readBackDigests() {
    return List.of(digest("SHA-256"), digest("SHA-1"));
  }

  private static void sliced(MessageDigest md, byte[] b, int n) {
    for (int off = 0; off < n; off += SLICE) {
      md.update(b, off, Math.min(SLICE, n - off));
    }
  }

  /** A buffer to fill; blocks while all buffers are in the lanes, fails if a lane failed. */
  byte[] take() throws IOException {
    try {
      while (true) {
        byte[] b = free.poll(100, TimeUnit.MILLISECONDS);
        if (b != null) {
          return b;
        }
        for (Lane l : lanes) {
          if (l.stopped()) {
            l.rethrow();
            throw new IOException("a storage lane stopped early");
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a buffer");
    }
  }

  /** Hands a filled buffer to every lane; it returns to the pool when all are done with it. */
  void submit(byte[] buffer, int length) {
    Chunk c = new Chunk(buffer, length, new AtomicInteger(lanes.size()));
    for (Lane l : lanes) {
      l.queue.add(c);
    }
  }

  /** Returns a buffer that was taken but not submitted. */
  void giveBack(byte[] buffer) {
    release(buffer);
  }

  /** A buffer no lane holds any more: to the next chunk, or to the pool once the upload is over. */
  private synchronized void release(byte[] buffer) {
    if (closed) {
      pool.give(buffer);
    } else {
      free.add(buffer);
    }
  }

  /**
   * Waits until the file has every byte and every digest but the trailing ones has seen them; the
   * trailing digests' lanes go on with what they have left (see {@link TrailingDigests}).
   */
  void finish() throws IOException {
    for (Lane l : waited) {
      l.finish();
    }
    if (flusher != null) {
      flusher.stop();
      flusher.await();
    }
    finished = true;
    for (Lane l : trailingLanes) {
      l.queue.add(new Chunk(END, 0, null));
    }
  }

  /**
   * Stops every lane that {@link #finish} did not (after a failure) and waits for those it waits
   * for, so the file is no longer written; buffers go back to the pool as the lanes free them.
   */
  @Override
  public void close() {
    if (flusher != null) {
      flusher.stop();
    }
    if (!finished) {
      for (Lane l : lanes) {
        if (!l.stopped()) {
          l.queue.offer(new Chunk(END, 0, null));
        }
      }
    }
    for (Lane l : waited) {
      try {
        l.done.get(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException | TimeoutException e) {
        // finish() reported it, or the failure that led here is being reported
      }
    }
    try {
      if (flusher != null) {
        flusher.done.await(60, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      closed = true;
      for (byte[] b = free.poll(); b != null; b = free.poll()) {
        pool.give(b);
      }
    }
  }
}
