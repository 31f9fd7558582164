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

  /** The response's writes, each timed and judged by its {@link WriteWaits}. */
  private final class Metered extends Response.Wrapper {
    private final WriteWaits waits;

    Metered(Request request, Response response, Counting endPoint, Scheduler scheduler) {
      super(request, response);
      this.waits = new WriteWaits(bytesPerSecond, windowNanos, endPoint::flushed, NanoTime::now,
          (task, delayNanos) -> scheduler.schedule(task, delayNanos, TimeUnit.NANOSECONDS), endPoint::close);
    }

    @Override
    public void write(boolean last, ByteBuffer content, Callback callback) {
      waits.started();
      super.write(last, content, new Callback.Nested(callback) {
        @Override
        public void succeeded() {
          waits.done();
          super.succeeded();
        }

        @Override
        public void failed(Throwable x) {
          waits.done();
          super.failed(x);
        }
      });
    }
  }
}
