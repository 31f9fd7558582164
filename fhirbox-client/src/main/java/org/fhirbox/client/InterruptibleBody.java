package org.fhirbox.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * An answer's body as an InputStream whose waiting read ends when its thread is interrupted, as
 * every other wait of the client does. The JDK's own ({@code BodySubscribers.ofInputStream}, Java
 * 17) catches the interrupt, clears it and goes on waiting, so a download in a thread that was
 * interrupted ({@code Future.cancel(true)}, {@code shutdownNow}) ran on to its end as if nothing
 * had happened. Like the JDK's, it asks for one list of buffers at a time, so at most one waits
 * unread; closing it part way cancels the rest (the connection is then not reused).
 */
final class InterruptibleBody extends InputStream implements HttpResponse.BodySubscriber<InputStream> {
  /** Queued when the body ends, fails or is closed; a list of its own, compared by identity. */
  private static final List<ByteBuffer> END = Collections.unmodifiableList(new ArrayList<>());
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private final BlockingQueue<List<ByteBuffer>> queue = new LinkedBlockingQueue<>();
  private volatile Flow.Subscription subscription;
  private volatile Throwable failure;
  private volatile boolean closed;
  private Iterator<ByteBuffer> buffers = Collections.emptyIterator();
  private ByteBuffer current = EMPTY;
  private boolean ended;

  @Override
  public CompletionStage<InputStream> getBody() {
    return CompletableFuture.completedStage(this);
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription = s;
    if (closed) {
      s.cancel();
      return;
    }
    s.request(1);
  }

  @Override
  public void onNext(List<ByteBuffer> item) {
    queue.add(item);
  }

  @Override
  public void onError(Throwable t) {
    failure = t;
    queue.add(END);
  }

  @Override
  public void onComplete() {
    queue.add(END);
  }

  @Override
  public int read() throws IOException {
    if (!advance()) {
      return -1;
    }
    return current.get() & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    if (!advance()) {
      return -1;
    }
    int n = Math.min(len, current.remaining());
    current.get(b, off, n);
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    long skipped = 0;
    while (skipped < n && advance()) {
      int k = (int) Math.min(n - skipped, current.remaining());
      current.position(current.position() + k);
      skipped += k;
    }
    return skipped;
  }

  @Override
  public int available() {
    return current.remaining();
  }

  /** Makes {@code current} a buffer with bytes left, waiting for one; false at the body's end. */
  private boolean advance() throws IOException {
    while (!current.hasRemaining()) {
      if (closed) {
        throw new IOException("closed");
      }
      if (buffers.hasNext()) {
        current = buffers.next();
        continue;
      }
      if (ended) {
        Throwable f = failure;
        if (f != null) {
          throw new IOException(f.getMessage(), f);
        }
        return false;
      }
      List<ByteBuffer> next;
      try {
        next = queue.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        throw new InterruptedIOException("interrupted while reading the answer");
      }
      if (closed) {
        throw new IOException("closed");
      }
      if (next == END) {
        ended = true;
        continue;
      }
      buffers = next.iterator();
      subscription.request(1);
    }
    return true;
  }

  /** Cancels what has not come yet, and wakes a read waiting in another thread (the idle watchdog closes so). */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Flow.Subscription s = subscription;
    if (s != null) {
      s.cancel();
    }
    queue.offer(END);
  }
}
