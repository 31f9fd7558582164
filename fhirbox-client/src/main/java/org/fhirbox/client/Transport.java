package org.fhirbox.client;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodySubscribers;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome;

/**
 * Sends {@link Call}s: adds credentials, retries what may be retried, refreshes a rejected
 * token once, and turns every error answer into a {@link FhirboxException}.
 */
final class Transport {
  private static final int MAX_ERROR_BODY = 1 << 20;
  /** How much of an answer's body that nobody reads is read before the connection is closed instead. */
  static final int MAX_DISCARDED_BODY = 64 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http;
  private final FhirContext fhir;
  private final Authorizer auth;
  private final Retrier retrier;
  private final Endpoints endpoints;
  /** A body is given the time it takes at this pace (64 kbit/s) on top of the request timeout. */
  static final long SLOWEST_UPLOAD_BYTES_PER_SECOND = 8 * 1024;
  private final Duration timeout;
  /**
   * Every answer's body, guarded by {@link IdleWatchdog}: the JDK's request timeout ends with the
   * headers, so a body that stalls would otherwise block its reader for as long as the connection
   * stays open; for a token, that would be every caller waiting for one.
   */
  private final BodyHandler<InputStream> guardedBody;

  Transport(HttpClient http, FhirContext fhir, Authorizer auth, Retrier retrier, Duration timeout,
      Endpoints endpoints) {
    this.http = http;
    this.endpoints = endpoints;
    this.fhir = fhir;
    this.auth = auth;
    this.retrier = retrier;
    this.timeout = timeout;
    this.guardedBody = info -> BodySubscribers.mapping(new InterruptibleBody(),
        body -> IdleWatchdog.guard(body, timeout));
  }

  Retrier retrier() {
    return retrier;
  }

  /**
   * {@code call} failed without an answer: the exception names where it went ({@link Endpoints#where})
   * and, when that was not the server, the other host ({@link FhirboxException#otherHost}).
   */
  FhirboxException unanswered(Call call, IOException cause) {
    return unanswered(call, cause, 1, isTimeout(cause) ? 1 : 0);
  }

  /** A request that waited its whole timeout for an answer (not a connect timeout). */
  private static boolean isTimeout(IOException e) {
    return e instanceof HttpTimeoutException && !(e instanceof HttpConnectTimeoutException);
  }

  /**
   * {@link #unanswered(Call, IOException)} after {@code attempts} attempts, {@code timeouts} of
   * which waited their whole timeout: a request timeout is told as the time waited, for each of
   * the attempts when all of them waited so, rather than as the JDK's "request timed out".
   */
  FhirboxException unanswered(Call call, IOException cause, int attempts, int timeouts) {
    Optional<Duration> waited = timeoutOf(call);
    String reason = null;
    if (isTimeout(cause) && waited.isPresent()) {
      long ms = waited.get().toMillis();
      reason = "no answer within " + (ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms")
          + (attempts == 1 ? "" : timeouts == attempts ? ", in each of " + attempts + " attempts"
              : " on the last of " + attempts + " attempts");
    }
    return FhirboxException.transport(call.method(), endpoints.where(call.uri()),
        endpoints.otherHost(call.uri()).orElse(null), reason, cause);
  }

  /**
   * How long the JDK waits for {@code call}'s answer, from the request's start until the answer's
   * headers, so that it covers sending the body too: a request with one gets the time its body
   * takes at the slowest pace a client is expected to keep, and one of unknown length no limit
   * (the server's idle timeout ends a stalled one).
   */
  private Optional<Duration> timeoutOf(Call call) {
    long length = call.body() == null ? 0 : call.body().contentLength();
    if (timeout == null || length < 0) {
      return Optional.empty();
    }
    return Optional.of(timeout.plusMillis(length * 1000 / SLOWEST_UPLOAD_BYTES_PER_SECOND));
  }

  /**
   * Sends {@code call}; the caller must read or close the body of the returned 1xx-2xx answer. A
   * redirect is an error naming where it points: the client follows none (credentials must not go
   * along), and a write answered so stored nothing.
   */
  HttpResponse<InputStream> exchange(Call call) {
    HttpResponse<InputStream> resp = exchangeOrRedirect(call);
    if (resp.statusCode() >= 300) {
      discard(resp);
      throw redirected(call, resp);
    }
    return resp;
  }

  /** {@link #exchange}, but a 3xx answer is returned too, for a caller that follows redirects itself. */
  HttpResponse<InputStream> exchangeOrRedirect(Call call) {
    int retries = 0;
    int timeouts = 0;
    boolean refreshed = false;
    while (true) {
      String authorization = call.authenticated() ? auth.header() : null;
      HttpResponse<InputStream> resp;
      try {
        resp = http.send(request(call, authorization), guardedBody);
      } catch (IOException e) {
        timeouts += isTimeout(e) ? 1 : 0;
        if (call.replayable() && (call.idempotent() || nothingSent(e)) && retrier.mayRetry(retries)) {
          retries++;
          retrier.sleep(retrier.delay(retries, Optional.empty()), call.method(), call.path());
          continue;
        }
        throw unanswered(call, e, retries + 1, timeouts);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw FhirboxException.client(call.method() + " " + call.path() + " was interrupted", e);
      }
      int status = resp.statusCode();
      // RFC 6750 §3.1: a 401 for a token means it expired or was revoked; one fresh token may help.
      // The token is dropped even when this body cannot be sent again, so the next call gets a new one.
      if (status == 401 && authorization != null && !refreshed && auth.invalidate(authorization)
          && call.replayable()) {
        discard(resp);
        refreshed = true;
        continue;
      }
      if (Retrier.retryableStatus(status) && call.idempotent() && call.replayable() && retrier.mayRetry(retries)) {
        discard(resp);
        retries++;
        retrier.sleep(retrier.delay(retries, resp.headers().firstValue("Retry-After")), call.method(), call.path());
        continue;
      }
      if (status >= 400) {
        throw error(call, resp).repeated(retries > 0);
      }
      return resp;
    }
  }

  private static FhirboxException redirected(Call call, HttpResponse<?> resp) {
    String where = resp.headers().firstValue("Location").map(location -> {
      try {
        // a Location's query may hold a signature, and one resolved against the base URL that
        // base's userinfo: named without either
        return "redirected to " + Endpoints.redact(call.uri().resolve(location.trim()).toString())
            .replaceFirst("\\?…$", "");
      } catch (IllegalArgumentException e) {
        return "redirected to a malformed Location";
      }
    }).orElse("a redirect without a Location");
    return FhirboxException.http(resp.statusCode(), null, where + "; the client follows no redirects, so that"
        + " credentials never go along: use the URL the server means (is the base URL http where the server is"
        + " https?)", call.method(), call.path());
  }

  /** A refused or timed-out connect: the server never saw the request, so even a POST may go again. */
  private static boolean nothingSent(IOException e) {
    return e instanceof ConnectException || e instanceof HttpConnectTimeoutException;
  }

  private HttpRequest request(Call call, String authorization) {
    HttpRequest.Builder b = HttpRequest.newBuilder(call.uri())
        .method(call.method(), call.body() == null ? HttpRequest.BodyPublishers.noBody() : call.body());
    timeoutOf(call).ifPresent(b::timeout);
    call.headers().forEach(b::header);
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return b.build();
  }

  /**
   * Leaves {@code resp}'s body, which nobody reads, with {@link #skip}: a failure to read it ends
   * only the connection, which is not reused then; nothing else depends on it.
   */
  static void discard(HttpResponse<InputStream> resp) {
    try {
      skip(resp.body());
    } catch (IOException ignored) {
      // the connection is not reused then; nothing else depends on it
    }
  }

  /**
   * Reads {@code body} to its end, but no more than {@link #MAX_DISCARDED_BODY} bytes, and closes
   * it. A short body (an OperationOutcome, a note) read to its end leaves the connection for the
   * next request (RFC 9112 §9.3, persistence needs the whole message read); a longer one is cut off
   * by closing, which closes the connection too, so a body that never ends (a broken server or
   * proxy) cannot hold the call for as long as it sends: the idle timeout ends only a silent one.
   */
  static void skip(InputStream body) throws IOException {
    try (body) {
      byte[] buffer = new byte[8192];
      long left = MAX_DISCARDED_BODY;
      while (left > 0) {
        int n = body.read(buffer, 0, (int) Math.min(buffer.length, left));
        if (n < 0) {
          return;
        }
        left -= n;
      }
    }
  }

  FhirboxException error(Call call, HttpResponse<InputStream> resp) {
    byte[] body;
    try (InputStream in = resp.body()) {
      body = in.readNBytes(MAX_ERROR_BODY);
    } catch (IOException e) {
      body = new byte[0];
    }
    OperationOutcome outcome = outcome(resp, body);
    String other = outcome == null ? oauthError(resp, body) : null;
    if (outcome == null && other == null) {
      other = s3Error(body);
    }
    return FhirboxException.http(resp.statusCode(), outcome, other, call.method(), call.path());
  }

  private static final java.util.regex.Pattern S3_CODE = java.util.regex.Pattern.compile("<Code>([^<]{1,100})</Code>");
  private static final java.util.regex.Pattern S3_MESSAGE =
      java.util.regex.Pattern.compile("<Message>([^<]{1,300})</Message>");

  /**
   * An S3 error document ({@code <Error><Code>AccessDenied</Code><Message>Request has
   * expired</Message>...}), as a bucket answers a presigned URL: its code and message (each
   * bounded), which say why when the status does not (403 for an expired URL as for a wrong
   * signature). Null for any other body. Other elements are left out: some echo the request.
   */
  static String s3Error(byte[] body) {
    String text = new String(body, 0, Math.min(body.length, 8192), StandardCharsets.UTF_8);
    if (!text.contains("<Error")) {
      return null;
    }
    java.util.regex.Matcher code = S3_CODE.matcher(text);
    if (!code.find()) {
      return null;
    }
    java.util.regex.Matcher message = S3_MESSAGE.matcher(text);
    return code.group(1).strip() + (message.find() ? ": " + message.group(1).strip() : "");
  }

  /**
   * The token endpoint answers errors as RFC 6749 §5.2 JSON ({@code error}, and optionally
   * {@code error_description}), not as an OperationOutcome; they say why (a disabled client, a
   * wrong secret), so they go into the message. Null for any other body.
   */
  private static String oauthError(HttpResponse<?> resp, byte[] body) {
    String type = resp.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
    if (body.length == 0 || !type.contains("json")) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(body);
      String error = node.path("error").isTextual() ? node.path("error").asText() : null;
      if (error == null) {
        return null;
      }
      String description = node.path("error_description").asText("");
      return description.isBlank() ? error : error + ": " + description;
    } catch (IOException e) {
      return null;
    }
  }

  private OperationOutcome outcome(HttpResponse<?> resp, byte[] body) {
    String type = resp.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
    if (body.length == 0 || !(type.contains("json") || type.contains("xml"))) {
      return null;
    }
    IParser parser = type.contains("xml") ? fhir.newXmlParser() : fhir.newJsonParser();
    try {
      IBaseResource r = parser.parseResource(new String(body, StandardCharsets.UTF_8));
      return r instanceof OperationOutcome oo ? oo : null;
    } catch (DataFormatException e) {
      return null;
    }
  }
}
