package org.fhirbox.binary;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.Destination;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamResponseListener;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.fhirbox.core.HttpDate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches external URLs for ingestion without becoming an SSRF proxy. Each URL (and each
 * redirect target, followed by hand) must pass the {@link UrlPolicy}, and what is requested is
 * the normalised URL the policy judged (see {@link FetchUrl}); its host is resolved once
 * by our resolver, every address is judged ({@link UrlPolicy#addressRefusal}: {@link AddressGuard},
 * which an allow-list prefix lifts only for its own IP literal or, for a name, the allowed internal
 * blocks), and the connection goes only to the addresses that passed — Jetty's client connects to
 * the {@link InetSocketAddress}es the resolver returns, so a second DNS answer (rebinding) is never used.
 * The body is streamed, never buffered whole; the connect timeout bounds the resolution and then
 * the connection, and idle and total timeouts bound the rest of the time,
 * and so does a minimum transfer rate ({@link MinimumRate}), which catches an upstream that
 * trickles: a fetch can be stopped from another thread through its {@link Cancellation}.
 *
 * <p>No content coding is asked for or decoded here (RFC 9110 §8.4, §12.5.3): requests say
 * {@code Accept-Encoding: identity}, and a {@code Content-Encoding} an upstream sends anyway is
 * handed on with the body, so the Binary is stored as an upload with that header is: decoded
 * under {@link ExpansionGuard}, never by the HTTP client past it. No cookies are kept between
 * fetches.
 */
public final class SafeFetcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SafeFetcher.class);
  /**
   * The most bytes of a response head (status line and header fields) read: Jetty's client reads
   * any number by default, so an upstream sending one endless header would grow the heap.
   */
  static final int MAX_RESPONSE_HEAD_BYTES = 64 * 1024;
  /**
   * Lookups in flight at once, each on a thread of its own until the resolver answers, also after
   * its fetch gave up on it: one more is not started, and its fetch fails at once.
   */
  static final int MAX_LOOKUPS = 8;
  private final UrlPolicy policy;
  private final Settings settings;
  private final HostResolver resolver;
  private HttpClient client;
  private ThreadPoolExecutor lookups;
  /** One per lookup in flight, given back when its thread is done with the resolver. */
  private final Semaphore lookupSlots = new Semaphore(MAX_LOOKUPS);
  private boolean closed;

  /**
   * Limits of one fetch. {@code maxBytes} is the Binary size limit; {@code minBytesPerSecond}
   * over {@code rateWindow} the slowest transfer kept up (0: no minimum).
   */
  public record Settings(Duration connectTimeout, Duration readTimeout, Duration totalTimeout, int maxRedirects,
      long maxBytes, long minBytesPerSecond, Duration rateWindow) {}

  /**
   * An upstream 2xx response whose body has not been read yet, as sent: {@code contentEncoding}
   * is its {@code Content-Encoding} followed by its transfer codings other than chunked (null when
   * none), not yet undone. Close it when done.
   */
  public record Fetched(URI uri, String contentType, String contentEncoding, long contentLength, InputStream body)
      implements AutoCloseable {
    @Override
    public void close() throws IOException {
      body.close();
    }
  }

  /** Our resolver refused every address of a host. */
  private static final class AddressRefused extends IOException {
    AddressRefused(String message) {
      super(message);
    }
  }

  /** {@link #MAX_LOOKUPS} lookups were in flight: this one was not started. */
  private static final class LookupsBusy extends IOException {
    LookupsBusy(String message) {
      super(message);
    }
  }

  /**
   * How close to the total deadline a timeout must fire to be the total timeout's rather than the
   * idle timeout's: Jetty's timer for the total timeout starts as the request is sent, a little
   * after the deadline was computed, and tells no kind apart from the idle timeout's.
   */
  private static final long TOTAL_TIMEOUT_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /**
   * A read of the body that ran out of time, carrying what the fetch fails with; see
   * {@link #timedOut(Throwable)}.
   */
  private static final class BodyTimedOut extends IOException {
    private final FetchException reason;

    BodyTimedOut(FetchException reason, Throwable cause) {
      super(reason.getMessage(), cause);
      this.reason = reason;
    }
  }

  /** The resolver gave no answer within the connect timeout. */
  private static final class ResolutionTimedOut extends IOException {
    ResolutionTimedOut(String message) {
      super(message);
    }
  }

  public SafeFetcher(UrlPolicy policy, Settings settings) {
    this(policy, settings, HostResolver.SYSTEM);
  }

  public SafeFetcher(UrlPolicy policy, Settings settings, HostResolver resolver) {
    if (settings.minBytesPerSecond() < 0
        || (settings.minBytesPerSecond() > 0 && settings.rateWindow().toSeconds() < 1)) {
      throw new IllegalArgumentException("FHIRBOX_INGEST_MIN_BYTES_PER_SECOND must be 0 (no minimum) or more, over"
          + " FHIRBOX_INGEST_MIN_RATE_SECONDS of at least 1");
    }
    this.policy = policy;
    this.settings = settings;
    this.resolver = resolver;
  }

  /** The HTTP client, made and started on first use: most servers never ingest, and it costs start-up time. */
  private synchronized HttpClient client() {
    if (client != null) {
      return client;
    }
    if (closed) {
      throw new IllegalStateException("the ingestion HTTP client is closed");
    }
    QueuedThreadPool threads = new QueuedThreadPool(32, 2);
    threads.setName("fhirbox-ingest-http");
    threads.setDaemon(true);
    HttpClient c = new HttpClient();
    c.setExecutor(threads);
    c.setFollowRedirects(false);
    c.setConnectTimeout(settings.connectTimeout().toMillis());
    c.setIdleTimeout(settings.readTimeout().toMillis());
    c.setMaxResponseHeadersSize(MAX_RESPONSE_HEAD_BYTES);
    c.setUserAgentField(new HttpField(HttpHeader.USER_AGENT, "fhirbox-ingest"));
    // One client fetches for every project: Jetty's default store would send a cookie one fetch
    // was given (RFC 6265 §5.3) on any later fetch to that host, whoever asked for it.
    c.setHttpCookieStore(new HttpCookieStore.Empty());
    // the scheme of the connection's origin: an allow-list prefix lifts the guard for its scheme only
    c.setSocketAddressResolver((host, port, context, promise) -> resolve(
        context.get(Destination.CONTEXT_KEY) instanceof Destination d ? d.getOrigin().getScheme() : null,
        host, port, promise));
    ThreadPoolExecutor l = new ThreadPoolExecutor(MAX_LOOKUPS, MAX_LOOKUPS, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "fhirbox-ingest-dns");
          t.setDaemon(true);
          return t;
        });
    l.allowCoreThreadTimeOut(true);
    lookups = l;
    try {
      c.start();
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the ingestion HTTP client", e);
    }
    // Jetty 12's doStart() fills an empty decoder list from ServiceLoader<Compression> (gzip is on
    // the classpath), and a client with decoders both sends Accept-Encoding and inflates matching
    // responses before we see them, dropping Content-Length and Content-Encoding, so past the
    // expansion guard. Emptied after the start, the list stays empty: the client is never started again.
    c.getContentDecoderFactories().clear();
    client = c;
    return c;
  }

  public UrlPolicy policy() {
    return policy;
  }

  /**
   * Resolves {@code host} and judges its addresses, off Jetty's threads and within the connect
   * timeout. The system resolver cannot be interrupted and waits as long as the OS lets it
   * (resolv.conf's timeout times its attempts times its servers), and Jetty's connect timeout
   * starts only after it: without this bound a slow resolver would hold a fetch, and a thread,
   * that long. A lookup that ran out of time still holds its thread, which cannot be stopped, until
   * the resolver gives up: so at most {@link #MAX_LOOKUPS} are in flight, counted until their
   * threads are free, and one more fails at once ({@link LookupsBusy}) instead of waiting for a
   * thread or starting another. An IP literal is not looked up.
   */
  private void resolve(String scheme, String host, int port, Promise<List<InetSocketAddress>> promise) {
    String bare = UrlPolicy.bare(host);
    if (AddressGuard.isLiteral(bare)) {
      try {
        promise.succeeded(checkedAddresses(scheme, host, port, List.of(AddressGuard.literal(bare))));
      } catch (IOException | RuntimeException e) {
        promise.failed(e);
      }
      return;
    }
    if (!lookupSlots.tryAcquire()) {
      promise.failed(new LookupsBusy(MAX_LOOKUPS + " DNS lookups are in flight already, the most one fetch client"
          + " runs at once (the resolver is slow or does not answer); host " + bare + " was not looked up"));
      return;
    }
    CompletableFuture<List<InetSocketAddress>> answer = new CompletableFuture<>();
    try {
      lookups.execute(() -> {
        try {
          answer.complete(checkedAddresses(scheme, host, port, resolver.resolve(bare)));
        } catch (Throwable t) {
          answer.completeExceptionally(t);
        } finally {
          lookupSlots.release();
        }
      });
    } catch (RejectedExecutionException e) {
      lookupSlots.release();
      promise.failed(e); // the fetcher is closing
      return;
    }
    String late = "host " + bare + " could not be resolved within " + settings.connectTimeout().toSeconds() + " s";
    answer.orTimeout(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((addresses, failure) -> answered(promise, addresses, failure, late));
  }

  /**
   * Hands a lookup's outcome to Jetty; one that ran out of time is told as {@code late}, and its
   * thread left to the resolver (not interrupted: the JDK's lookup does not heed it).
   */
  private static void answered(Promise<List<InetSocketAddress>> promise, List<InetSocketAddress> addresses,
      Throwable failure, String late) {
    if (failure == null) {
      promise.succeeded(addresses);
      return;
    }
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    if (cause instanceof TimeoutException) {
      cause = new ResolutionTimedOut(late);
    }
    promise.failed(cause);
  }

  private List<InetSocketAddress> checkedAddresses(String scheme, String host, int port, List<InetAddress> all)
      throws IOException {
    if (all.isEmpty()) {
      throw new UnknownHostException(host);
    }
    List<InetSocketAddress> ok = new ArrayList<>();
    String reason = null;
    for (InetAddress a : all) {
      String r = policy.addressRefusal(scheme, host, port, a);
      if (r == null) {
        ok.add(new InetSocketAddress(a, port));
      } else {
        reason = r;
      }
    }
    if (ok.isEmpty()) {
      throw new AddressRefused("host " + host + " resolves to a " + reason + ", which is not fetched");
    }
    return ok;
  }

  /** {@link #open(String, Cancellation)} without a way to stop it from outside. */
  public Fetched open(String url) throws FetchException {
    return open(url, new Cancellation());
  }

  /**
   * Opens {@code url}, following up to {@code maxRedirects} redirects. Throws REFUSED when the
   * policy or the address guard says no (before any traffic to that target), PERMANENT for 4xx,
   * a 2xx other than 200 and 203, declared sizes over the limit and a response head over {@link #MAX_RESPONSE_HEAD_BYTES},
   * TRANSIENT for 5xx, 408, 429, timeouts, I/O failures and a transfer below the minimum rate
   * (timeouts and the minimum rate with {@link FetchException.Detail#UPSTREAM_TIMED_OUT}),
   * and the reason given to {@code cancellation} when it was cancelled. Reads of the body fail
   * the same way, their cause a {@link Cancellation.Stopped}, or for a timeout the failure
   * {@link #timedOut(Throwable)} finds.
   */
  public Fetched open(String url, Cancellation cancellation) throws FetchException {
    MinimumRate rate = new MinimumRate(settings.minBytesPerSecond(), settings.rateWindow(),
        client().getScheduler(), cancellation).start();
    try {
      return open(url, cancellation, rate);
    } catch (FetchException | RuntimeException e) {
      rate.close();
      throw e;
    }
  }

  private Fetched open(String url, Cancellation cancellation, MinimumRate rate) throws FetchException {
    String current = url;
    // one deadline for the whole fetch, redirects included: each hop gets what is left of it
    long deadline = System.nanoTime() + settings.totalTimeout().toNanos();
    for (int hop = 0; ; hop++) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        throw FetchException.upstreamTimedOut(totalTimeout(), null);
      }
      UrlPolicy.Verdict verdict = policy.judge(current);
      if (verdict instanceof UrlPolicy.Refused r) {
        // the target came from the upstream and may carry credentials: named without them
        throw FetchException.refused(hop == 0 ? r.reason()
            : "redirect to " + RedactedUrl.of(current) + " refused: " + r.reason());
      }
      // The normalised URL that was judged, not the string: a server that resolves "..", "%2e"
      // or "//" its own way never sees them.
      URI uri = ((UrlPolicy.Allowed) verdict).url().uri();
      InputStreamResponseListener listener = new InputStreamResponseListener();
      Request request = client().newRequest(uri)
          .method("GET")
          .timeout(left, TimeUnit.MILLISECONDS)
          .idleTimeout(settings.readTimeout().toMillis(), TimeUnit.MILLISECONDS)
          // one response per connection: an upstream may close a persistent one after any response
          // without saying so (RFC 9112 §9.6), and a redirect's next request sent on it would fail
          .headers(h -> h.put(HttpHeader.ACCEPT, "*/*").put(HttpHeader.ACCEPT_ENCODING, "identity")
              .put(HttpHeader.CONNECTION, "close"));
      cancellation.attach(request);
      rate.waiting();
      request.send(listener);
      Response response = awaitHeaders(request, listener, left, deadline, cancellation);
      rate.arrived(0);
      int status = response.getStatus();
      if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
        List<String> locations = response.getHeaders().getValuesList(HttpHeader.LOCATION);
        String location = locations.isEmpty() ? null : locations.get(0);
        ResponseEnds.discard(response, listener);
        if (location == null || location.isBlank()) {
          throw FetchException.permanent("upstream answered " + status + " without a Location");
        }
        if (locations.stream().map(String::strip).distinct().count() > 1) {
          // a singleton field (RFC 9110 §5.3, §10.2.2): no one target to follow
          throw FetchException.permanent("upstream answered " + status
              + " with Location on more than one line with different values");
        }
        if (hop >= settings.maxRedirects()) {
          throw FetchException.permanent("more than " + settings.maxRedirects() + " redirects");
        }
        try {
          current = uri.resolve(location.trim()).toString();
        } catch (IllegalArgumentException e) {
          throw FetchException.permanent("upstream redirected to an invalid URL");
        }
        continue;
      }
      if (status != 200 && status != 203) {
        // No Range is sent, so only a 200 (or a transforming proxy's 203) carries the whole
        // representation (RFC 9110 §15.3): 206 is a part of it, 202 a note that it is not ready,
        // 204 and 205 have no content. Each of those is permanent, as any other 4xx.
        ResponseEnds.discard(response, listener);
        String msg = "upstream answered HTTP " + status + (status / 100 == 2 ? ", not 200 with the content" : "");
        throw status >= 500 || status == 408 || status == 429
            ? FetchException.upstreamBusy(msg, retryAfter(response)) : FetchException.permanent(msg);
      }
      long length = response.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
      if (length > settings.maxBytes()) {
        ResponseEnds.discard(response, listener);
        throw FetchException.tooLarge("Binary content exceeds the limit of " + settings.maxBytes()
            + " bytes: the upstream declared " + length + " bytes");
      }
      List<String> types = response.getHeaders().getValuesList(HttpHeader.CONTENT_TYPE);
      if (types.stream().map(String::strip).distinct().count() > 1) {
        // a singleton field (RFC 9110 §5.3, §8.3): lines that disagree leave the type unknown
        ResponseEnds.discard(response, listener);
        throw FetchException.permanent("the upstream sent Content-Type on more than one line with different values");
      }
      // a list field (RFC 9110 §8.4): the codings of every line, in order, not the first line's alone
      List<String> codings = new ArrayList<>(response.getHeaders().getValuesList(HttpHeader.CONTENT_ENCODING));
      codings.addAll(transferCodings(response));
      return new Fetched(uri, types.isEmpty() ? null : types.get(0),
          codings.isEmpty() ? null : String.join(", ", codings), length,
          rate.counted(timed(ResponseEnds.endingOnClose(listener.getInputStream(), response), deadline)));
    }
  }

  /**
   * The transfer codings of {@code response} other than chunked (RFC 9112 §6.1, §7), in the order
   * they were applied: after its content codings. Jetty's client undoes chunked only and hands the
   * rest on, still encoded; they are decoded as content codings are (so, with {@code gzip}, under
   * the expansion guard), never stored as if they were the content.
   */
  private static List<String> transferCodings(Response response) {
    List<String> out = new ArrayList<>();
    for (String line : response.getHeaders().getValuesList(HttpHeader.TRANSFER_ENCODING)) {
      for (String coding : line.split(",")) {
        String c = coding.strip();
        if (!c.isEmpty() && !c.equalsIgnoreCase("chunked")) {
          out.add(c);
        }
      }
    }
    return out;
  }

  /**
   * The wait a {@code Retry-After} field of {@code response} asks for (RFC 9110 §10.2.3), in
   * delta-seconds or as an HTTP-date in any of its three forms ({@link HttpDate}), or null when it
   * has none that reads as either. A date in the past asks for no wait.
   */
  static Duration retryAfter(Response response) {
    String v = response.getHeaders().get(HttpHeader.RETRY_AFTER);
    if (v == null || v.isBlank()) {
      return null;
    }
    String s = v.strip();
    if (s.matches("[0-9]{1,9}")) {
      return Duration.ofSeconds(Long.parseLong(s));
    }
    return HttpDate.parse(s).map(at -> Duration.between(Instant.now(), at))
        .map(d -> d.isNegative() ? Duration.ZERO : d).orElse(null);
  }

  private Response awaitHeaders(Request request, InputStreamResponseListener listener, long timeoutMillis,
      long deadline, Cancellation cancellation) throws FetchException {
    try {
      return listener.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      FetchException cancelled = cancellation.failure(e.getCause());
      if (cancelled != null) {
        throw cancelled;
      }
      throw failure(request, e, deadline);
    } catch (TimeoutException e) {
      // the wait was what is left of the total timeout
      request.abort(e);
      throw FetchException.upstreamTimedOut(totalTimeout(), e);
    } catch (InterruptedException e) {
      request.abort(e);
      Thread.currentThread().interrupt();
      throw FetchException.transientFailure("interrupted", e);
    }
  }

  /** What a request that failed before its response head is reported as. */
  private FetchException failure(Request request, ExecutionException e, long deadline) {
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t instanceof AddressRefused r) {
        return FetchException.addressRefused(r.getMessage());
      }
      if (t instanceof LookupsBusy b) {
        return FetchException.resolverBusy(b.getMessage());
      }
      if (t instanceof ResolutionTimedOut r) {
        return FetchException.resolverTimedOut(r.getMessage(), r);
      }
      if (t instanceof HostResolver.TemporaryFailure f) {
        return FetchException.resolverFailed("the DNS resolver failed to look up host " + request.getHost() + ": "
            + f.reason(), f);
      }
      if (t instanceof UnknownHostException) {
        return FetchException.unresolved("unknown host " + request.getHost(), t);
      }
      if (t instanceof HttpException h && h.getReason() != null && h.getReason().contains("Header Bytes Too Large")) {
        // Jetty's parser stopped at the limit; the same upstream would send the same head again
        return FetchException.permanent("the upstream's response head (status line and header fields) is larger"
            + " than " + MAX_RESPONSE_HEAD_BYTES + " bytes");
      }
    }
    Throwable cause = e.getCause() == null ? e : e.getCause();
    if (cause instanceof SocketTimeoutException) {
      // Jetty's connect timeout; the resolution's own is ResolutionTimedOut above
      return FetchException.upstreamTimedOut("the upstream did not accept a connection within "
          + settings.connectTimeout().toSeconds() + " s (FHIRBOX_INGEST_CONNECT_TIMEOUT)", cause);
    }
    if (cause instanceof TimeoutException) {
      return FetchException.upstreamTimedOut(pastDeadline(deadline) ? totalTimeout()
          : "no response from the upstream within " + settings.readTimeout().toSeconds()
              + " s (FHIRBOX_INGEST_READ_TIMEOUT)", cause);
    }
    // OWASP SSRF prevention: which of refused, unreachable, reset, a TLS handshake or a reply that
    // is not HTTP stopped the fetch would tell a caller whether a port is open and what listens
    // there. The operator's log keeps the detail.
    LOG.info("fetch of {} failed before an answer: {}: {}", RedactedUrl.of(request.getURI()),
        cause.getClass().getSimpleName(), cause.getMessage());
    return FetchException.transientFailure("the upstream could not be reached or sent no valid HTTP answer", cause);
  }

  private String totalTimeout() {
    return "the fetch did not finish within " + settings.totalTimeout().toSeconds() + " s (FHIRBOX_INGEST_TIMEOUT)";
  }

  /** Whether a timeout that fired now was the total timeout's, which ends at {@code deadline}. */
  private static boolean pastDeadline(long deadline) {
    return deadline - System.nanoTime() <= TOTAL_TIMEOUT_MARGIN_NANOS;
  }

  /**
   * {@code body}, whose reads that fail for a timeout (Jetty's idle or total timeout) fail with a
   * {@link BodyTimedOut} that says which ran out.
   */
  private InputStream timed(InputStream body, long deadline) {
    return new FilterInputStream(body) {
      @Override
      public int read() throws IOException {
        try {
          return super.read();
        } catch (IOException e) {
          throw bodyFailure(e, deadline);
        }
      }

      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        try {
          return super.read(buf, off, len);
        } catch (IOException e) {
          throw bodyFailure(e, deadline);
        }
      }
    };
  }

  private IOException bodyFailure(IOException failure, long deadline) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof TimeoutException) {
        return new BodyTimedOut(FetchException.upstreamTimedOut(pastDeadline(deadline) ? totalTimeout()
            : "the upstream sent no content for " + settings.readTimeout().toSeconds()
                + " s (FHIRBOX_INGEST_READ_TIMEOUT)", t), failure);
      }
    }
    return failure;
  }

  /**
   * The failure a fetch whose body could not be read for {@code failure} fails with, when a
   * timeout stopped the read; null otherwise.
   */
  static FetchException timedOut(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof BodyTimedOut b) {
        return b.reason;
      }
    }
    return null;
  }

  @Override
  public void close() throws Exception {
    HttpClient c;
    synchronized (this) {
      closed = true;
      c = client;
    }
    if (c != null) {
      c.stop();
      lookups.shutdownNow();
    }
  }
}
