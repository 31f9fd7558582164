package org.fhirbox.storage;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A large upload as a pipeline: the request thread only receives; each digest (SHA-256 and SHA-1
 * for a blob) and the file write run on their own thread over the same buffers, so the upload is
 * bounded by the slowest stage instead of the sum of all. One more thread flushes the written
 * pages to disk while the writer goes on, so the disk works during the upload and the final fsync
 * has little left. Chunks travel in order from a fixed pool of buffers: memory stays at
 * {@code buffers × bufferSize} whatever the content size.
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
  private final List<Lane> lanes;
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
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    Lane(Sink sink, int capacity) {
      this.sink = sink;
      this.queue = new ArrayBlockingQueue<>(capacity + 1);
    }

    @Override
    public void run() {
      try {
        while (true) {
          Chunk c = queue.take();
          if (c.buffer() == END) {
            return;
          }
          sink.accept(c.buffer(), c.length());
          if (c.pending().decrementAndGet() == 0) {
            free.add(c.buffer());
          }
        }
      } catch (InterruptedException | IOException | RuntimeException e) {
        failure.set(e);
      } finally {
        done.countDown();
      }
    }

    void finish() throws IOException {
      try {
        queue.put(new Chunk(END, 0, null));
        done.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while storing");
      }
      rethrow();
    }

    void rethrow() throws IOException {
      Throwable t = failure.get();
      if (t instanceof IOException io) {
        throw io;
      }
      if (t != null) {
        throw new IOException("storing failed", t);
      }
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
   *     of its size come from {@code pool}, and all go back to it on {@link #close}
   * @param digests each gets a lane of its own and every byte written, in order; read them
   *     once {@link #finish} returned
   * @param file where the file lane writes (the caller finishes it once {@link #finish} returned);
   *     {@code out} is its file's channel, which the flusher syncs
   * @param flushEvery bytes written between the flusher's flushes: what the final fsync may have
   *     left to do
   */
  UploadLanes(Executor executor, int buffers, byte[] first, FileChannel out, DirectWrites.Output file,
      List<MessageDigest> digests, PartBufferPool pool, long flushEvery) {
    this.pool = pool;
    this.free = new ArrayBlockingQueue<>(buffers);
    for (int i = 1; i < buffers; i++) {
      free.add(pool.take());
    }
    this.flusher = new Flusher(out, flushEvery);
    long[] written = {0};
    List<Lane> all = new java.util.ArrayList<>();
    for (MessageDigest md : digests) {
      all.add(new Lane((b, n) -> sliced(md, b, n), buffers));
    }
    // The file is written from the channel's position on.
    all.add(new Lane((b, n) -> {
      file.write(b, n);
      written[0] += n;
      flusher.written(written[0]);
    }, buffers));
    this.lanes = List.copyOf(all);
    lanes.forEach(executor::execute);
    executor.execute(flusher);
  }

  /** SHA-256 and SHA-1, the digests every stored blob has. */
  static List<MessageDigest> blobDigests() {
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
          if (l.done.getCount() == 0) {
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
    free.add(buffer);
  }

  /** Waits until every lane is done: every digest has seen every byte, and the file has them. */
  void finish() throws IOException {
    for (Lane l : lanes) {
      l.finish();
    }
    flusher.stop();
    flusher.await();
  }

  /**
   * Stops every lane (after a failure) and waits for them, so the file is no longer written; the
   * buffers no lane holds go back to the pool.
   */
  @Override
  public void close() {
    flusher.stop();
    for (Lane l : lanes) {
      if (l.done.getCount() > 0) {
        l.queue.offer(new Chunk(END, 0, null));
      }
    }
    for (Lane l : lanes) {
      try {
        l.done.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    try {
      flusher.done.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (byte[] b = free.poll(); b != null; b = free.poll()) {
      pool.give(b);
    }
  }
}
