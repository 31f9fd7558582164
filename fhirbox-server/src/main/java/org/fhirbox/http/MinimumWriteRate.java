package org.fhirbox.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.QuietException;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.NanoTime;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Closes the connection of a client that reads its response slower than a minimum rate, so that
 * a few hundred sockets reading a byte now and then cannot hold every request thread in a blocking
 * write; the counterpart of {@link MinimumReadRate}. The rate is judged over the time the server
 * waits for the client to take bytes (a write handed to the connection and not yet done), never
 * over the time the server spends producing them: once such waits add up to the window, the bytes
 * the socket took meanwhile must be at least the rate times those waits, or the connection is
 * closed, which fails the blocked write and frees its thread (what a window took beyond the rate
 * pays for the next few, {@link #CREDIT_WINDOWS}). The bytes are those the socket
 * accepted ({@link #connector}'s end points count them), so that one write of many megabytes,
 * taken slowly but steadily, is judged on its progress. A client that reads nothing at all is the
 * connector's idle timeout's to end.
 *
 * <p>Jetty's own {@code MinimumDataRateHandler} (12.1) is not used: its write side divides the
 * bytes written by all requests together by one response's time, and only times the last write.
 */
public final class MinimumWriteRate extends Handler.Wrapper {
  /** How many windows' worth of the rate a client may take ahead and spend later. */
  static final int CREDIT_WINDOWS = 4;
  private final long bytesPerSecond;
  private final long windowNanos;

  /** @param bytesPerSecond the slowest rate a client may take a response at; 0 for none */
  public MinimumWriteRate(Handler handler, long bytesPerSecond, Duration window) {
    super(handler);
    this.bytesPerSecond = bytesPerSecond;
    this.windowNanos = window.toNanos();
  }

  /** A connector whose end points count the bytes their sockets took, as this handler judges them. */
  public static ServerConnector connector(Server server, ConnectionFactory... factories) {
    return new ServerConnector(server, factories) {
      @Override
      protected SocketChannelEndPoint newEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key) {
        Counting endPoint = new Counting(channel, selector, key, getScheduler());
        endPoint.setIdleTimeout(getIdleTimeout());
        return endPoint;
      }
    };
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
    if (bytesPerSecond > 0 && endPoint instanceof Counting counting) {
      response = new Metered(request, response, counting, request.getComponents().getScheduler());
    }
    return super.handle(request, response, callback);
  }

  /** The failure of a response taken too slowly: the client's doing, logged at INFO. */
  static final class SlowResponse extends EofException implements QuietException {
    SlowResponse(String message) {
      super(message);
    }
  }

  /** A socket end point that counts the bytes its socket took. */
  static final class Counting extends SocketChannelEndPoint {
    private volatile long flushed;

    Counting(SocketChannel channel, ManagedSelector selector, SelectionKey key, Scheduler scheduler) {
      super(channel, selector, key, scheduler);
    }

    @Override
    public boolean flush(ByteBuffer... buffers) throws IOException {
      long before = 0;
      for (ByteBuffer b : buffers) {
        before += b == null ? 0 : b.remaining();
      }
      try {
        return super.flush(buffers);
      } finally {
        long after = 0;
        for (ByteBuffer b : buffers) {
          after += b == null ? 0 : b.remaining();
        }
        flushed += before - after; // flushes of one end point never overlap
      }
    }

    long flushed() {
      return flushed;
    }
  }

  /**
   * The response's writes, one pending at a time (Jetty never overlaps them), with the time waited
   * on them since the last judgement; a timer judges a write that stays pending for the window.
   */
  private final class Metered extends Response.Wrapper {
    private final Counting endPoint;
    private final Scheduler scheduler;
    private long flushedAtJudgement;
    private long waitedNanos;
    private long credit;
    private long pendingSince;
    private Scheduler.Task timer;
    private boolean failed;

    Metered(Request request, Response response, Counting endPoint, Scheduler scheduler) {
      super(request, response);
      this.endPoint = endPoint;
      this.scheduler = scheduler;
      this.flushedAtJudgement = endPoint.flushed();
    }

    @Override
    public void write(boolean last, ByteBuffer content, Callback callback) {
      started();
      super.write(last, content, new Callback.Nested(callback) {
        @Override
        public void succeeded() {
          done();
          super.succeeded();
        }

        @Override
        public void failed(Throwable x) {
          done();
          super.failed(x);
        }
      });
    }

    private synchronized void started() {
      pendingSince = NanoTime.now();
      timer = scheduler.schedule(this::stillPending, Math.max(1, windowNanos - waitedNanos), TimeUnit.NANOSECONDS);
    }

    private synchronized void done() {
      if (timer != null) {
        timer.cancel();
        timer = null;
      }
      if (pendingSince != 0) {
        waitedNanos += NanoTime.since(pendingSince);
        pendingSince = 0;
      }
      if (waitedNanos >= windowNanos) {
        judge();
      }
    }

    /** A write still pending when the window's waits are up: judged now, and again a window later. */
    private synchronized void stillPending() {
      if (pendingSince == 0 || failed) {
        return;
      }
      long now = NanoTime.now();
      waitedNanos += NanoTime.elapsed(pendingSince, now);
      pendingSince = now;
      judge();
      if (!failed) {
        timer = scheduler.schedule(this::stillPending, windowNanos, TimeUnit.NANOSECONDS);
      }
    }

    /**
     * Too few bytes taken over the waits close the connection; enough start the next window, with
     * what they took beyond the rate kept as credit for up to {@link #CREDIT_WINDOWS} windows. The
     * kernel lets a blocked socket take more only once a good part of its send buffer is free, so a
     * slow link takes a large buffer in steps far apart: a window may see none, and the step before
     * pays for it.
     */
    private void judge() {
      long taken = endPoint.flushed() - flushedAtJudgement;
      long bytes = taken + credit;
      double owed = (double) bytesPerSecond * waitedNanos / 1_000_000_000.0;
      if (bytes < owed) {
        failed = true;
        long rate = Math.round(taken * 1_000_000_000.0 / Math.max(1, waitedNanos));
        endPoint.close(new SlowResponse("the client took the response at " + rate + " bytes/s while the server"
            + " waited for it; FHIRBOX_MIN_RESPONSE_BYTES_PER_SECOND is " + bytesPerSecond));
        return;
      }
      credit = (long) Math.min(bytes - owed, (double) bytesPerSecond * windowNanos * CREDIT_WINDOWS / 1_000_000_000.0);
      flushedAtJudgement = endPoint.flushed();
      waitedNanos = 0;
    }
  }
}
