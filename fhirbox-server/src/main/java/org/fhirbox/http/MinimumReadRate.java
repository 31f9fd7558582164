package org.fhirbox.http;

import java.io.IOException;
import java.time.Duration;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.QuietException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.NanoTime;

/**
 * Refuses a request body that arrives slower than a minimum rate, so that a few hundred sockets
 * trickling bytes cannot hold every request thread. The rate is judged over the time the request
 * spends waiting for the client's bytes, never over the time the server spends on what it read
 * (a slow disk or bucket is not the client's doing): once the waits since the last judgement add
 * up to the window, the bytes read meanwhile must be at least the rate times those waits, or the
 * next read fails with {@link SlowBody}, which the servlet answers 408 (connection closed). A pause
 * shorter than what the bytes before it paid for passes. A client that sends nothing at all is
 * the connector's idle timeout's to end.
 *
 * <p>Jetty's own {@code MinimumDataRateHandler} (12.1) is not used: it divides the bytes that
 * handler read for all requests together by one request's time, so any other traffic hides a
 * slow client, and it counts the time the server is busy against the client.
 */
public final class MinimumReadRate extends Handler.Wrapper {
  private final long bytesPerSecond;
  private final long windowNanos;

  /** @param bytesPerSecond the slowest rate a body may arrive at; 0 for none */
  public MinimumReadRate(Handler handler, long bytesPerSecond, Duration window) {
    super(handler);
    this.bytesPerSecond = bytesPerSecond;
    this.windowNanos = window.toNanos();
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    return super.handle(bytesPerSecond > 0 ? new Metered(request) : request, response, callback);
  }

  /** The failure of a body that arrived too slowly; answered 408. */
  static final class SlowBody extends IOException implements QuietException {
    SlowBody(String message) {
      super(message);
    }
  }

  /**
   * The request's content, read and demanded one call at a time (Jetty never overlaps them), with
   * the bytes read and the time waited since the last judgement.
   */
  private final class Metered extends Request.Wrapper {
    private long bytes;
    private long waitedNanos;
    private boolean ended;
    private Content.Chunk failure;

    Metered(Request request) {
      super(request);
    }

    @Override
    public Content.Chunk read() {
      if (failure != null) {
        return failure;
      }
      Content.Chunk chunk = super.read();
      if (chunk != null) {
        bytes += chunk.remaining();
        ended |= chunk.isLast();
      }
      return chunk;
    }

    @Override
    public void demand(Runnable demandCallback) {
      if (failure == null && !ended) {
        judge();
      }
      if (failure != null) {
        demandCallback.run();
        return;
      }
      long since = NanoTime.now();
      super.demand(() -> {
        waitedNanos += NanoTime.since(since);
        demandCallback.run();
      });
    }

    /** After a window of waiting: too few bytes fail the body, enough start the next window. */
    private void judge() {
      if (waitedNanos < windowNanos) {
        return;
      }
      // bytes / seconds waited < rate, without dividing
      if (bytes * 1_000_000_000.0 < (double) bytesPerSecond * waitedNanos) {
        failure = Content.Chunk.from(new SlowBody("the request body arrived at " + rate() + " bytes/s while the"
            + " server waited for it; FHIRBOX_MIN_REQUEST_BYTES_PER_SECOND is " + bytesPerSecond), true);
        return;
      }
      bytes = 0;
      waitedNanos = 0;
    }

    private long rate() {
      return Math.round(bytes * 1_000_000_000.0 / Math.max(1, waitedNanos));
    }
  }
}
