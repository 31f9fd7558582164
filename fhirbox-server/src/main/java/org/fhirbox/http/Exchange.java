package org.fhirbox.http;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.jetty.ee10.servlet.ServletChannel;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.EofException;
import org.fhirbox.binary.ContentCodings;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.QueryLimits;
import org.fhirbox.fhir.QueryString;
import org.fhirbox.fhir.FhirFormat;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.WritePreconditions;

/** One request and its response, with the FHIR conventions every route needs. */
public final class Exchange {
  private final HttpServletRequest req;
  private final HttpServletResponse resp;
  private final String baseUrl;
  private final RequestBody requestBody;
  private Map<String, List<String>> params;
  private Preferences preferences;
  private boolean drainAfterAnswer;
  private boolean bodyIsContent;

  public Exchange(HttpServletRequest req, HttpServletResponse resp, String baseUrl) {
    this.req = req;
    this.resp = resp;
    this.baseUrl = baseUrl;
    this.requestBody = new RequestBody(req);
  }

  public HttpServletRequest request() {
    return req;
  }

  public HttpServletResponse response() {
    return resp;
  }

  /**
   * The request's body, opened when first read. Every read of the body goes through it, so that an
   * error answer knows whether the client was told to send it ({@link RequestBody#touched}).
   */
  RequestBody requestBody() {
    return requestBody;
  }

  /** The server's public base URL, ending in '/'. */
  public String baseUrl() {
    return baseUrl;
  }

  /** The FHIR base, e.g. {@code http://localhost:8103/fhir/R4} (no trailing slash). */
  public String fhirBase() {
    return baseUrl + "fhir/R4";
  }

  public String method() {
    return req.getMethod();
  }

  public String header(String name) {
    return req.getHeader(name);
  }

  /**
   * Query parameters in order, parsed from the query string only: the servlet container would
   * otherwise read form bodies, and a Binary body is never a form.
   */
  public Map<String, List<String>> params() {
    if (params == null) {
      // parsed on first use, inside the servlet's error handling: a malformed query is a 400
      params = QueryString.parse(req.getQueryString());
    }
    return params;
  }

  /**
   * From now on the request's parameters are {@code all}: a search's as it takes them (a POST
   * {@code _search}'s query and form body together, empty ones left out), so that the answer's
   * format, subset and paging links follow the body's {@code _format}, {@code _pretty},
   * {@code _summary} and {@code _elements} as the search followed its criteria (FHIR R4
   * http.html#search).
   */
  void useParams(Map<String, List<String>> all) {
    params = all;
  }

  /**
   * The first value of {@code name} that is not empty. An empty one ({@code _format=},
   * {@code _count=}) is as if absent, on every route as in a search (R4 search.html#errors:
   * "Empty parameters are not an error - they are just ignored by the server").
   */
  public Optional<String> param(String name) {
    return values(name).stream().findFirst();
  }

  /**
   * The last value of {@code name} that is not empty: the one used of a parameter that takes one
   * value and may come twice ({@code _summary}, {@code _elements}), as a search uses the last of a
   * repeated {@code _sort} and names that one in its self link.
   */
  public Optional<String> lastParam(String name) {
    List<String> v = values(name);
    return v.isEmpty() ? Optional.empty() : Optional.of(v.get(v.size() - 1));
  }

  /** The first value of {@code name} as sent, empty or not: for a parameter whose empty value means something. */
  public Optional<String> paramAsSent(String name) {
    List<String> v = params().get(name);
    return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.get(0));
  }

  private List<String> values(String name) {
    List<String> v = params().get(name);
    return v == null ? List.of() : v.stream().filter(s -> !s.isEmpty()).toList();
  }

  /**
   * The response format: {@code _format}, then Accept, then the format of the FHIR body sent, then
   * JSON (FHIR R4 http.html#mime-type; {@link AnswerFormat#of}). An Accept that takes neither FHIR
   * JSON nor XML, nor a wildcard either satisfies ({@code Accept: text/turtle}), is 406
   * (RFC 9110 §12.5.1), its OperationOutcome in JSON ({@link #formatForErrors}). A Binary read
   * with such an Accept never asks: it answers the raw content (R4 binary.html#rest).
   */
  public FhirFormat format() {
    return AnswerFormat.of(this);
  }

  /** Like {@link #format()} but never throws: for writing errors. */
  public FhirFormat formatForErrors() {
    return AnswerFormat.forErrors(this);
  }

  /**
   * Marks the request's body as a Binary's raw content (R4 binary.html#rest), not a FHIR body:
   * the answer's format does not follow its Content-Type, XML or not.
   */
  void bodyIsContent(boolean content) {
    bodyIsContent = content;
  }

  /** Whether {@link #bodyIsContent(boolean)} marked the body as raw content. */
  boolean bodyIsContent() {
    return bodyIsContent;
  }

  /** True when the client asked for a FHIR format: {@code _format}, or an Accept that prefers one to anything else. */
  public boolean wantsFhirFormat() {
    return param("_format").isPresent() || FhirFormat.preferredIn(header("Accept"));
  }

  public boolean pretty() {
    return AnswerFormat.pretty(this);
  }

  /**
   * The request's format from Content-Type, if it is a FHIR one; one that names another
   * {@code fhirVersion} than R4's is 415 (R4 http.html#version-parameter), never taken for
   * content of another kind (a Binary's raw bytes).
   */
  public Optional<FhirFormat> bodyFormat() {
    Optional<FhirFormat> f = FhirFormat.of(contentType());
    if (f.isPresent()) {
      requireSpokenFhirVersion();
      BodyCharset.requireUtf8(contentType());
    }
    return f;
  }

  /** 415 when the Content-Type names another {@code fhirVersion} than R4's (R4 http.html#version-parameter). */
  void requireSpokenFhirVersion() {
    FhirFormat.fhirVersion(contentType()).filter(v -> !FhirFormat.speaks(v)).ifPresent(v -> {
      throw FhirException.unsupportedMediaType("the body is FHIR version " + QueryLimits.shorten(v)
          + " (Content-Type fhirVersion); this server reads FHIR R4 only (fhirVersion=" + FhirFormat.VERSION + ")");
    });
  }

  /**
   * The Content-Type header as sent. The container's {@code getContentType()} fails on a charset
   * the JVM does not know, before any route could answer 415. 400 when it is sent on several lines
   * that disagree.
   */
  public String contentType() {
    Enumeration<String> lines = req.getHeaders("Content-Type");
    String first = lines.hasMoreElements() ? lines.nextElement() : null;
    while (lines.hasMoreElements()) {
      // a singleton field (RFC 9110 §5.3, §8.3): lines that disagree (a client's and a proxy's, say)
      // leave the body's type unknown, rather than the first taken
      if (!lines.nextElement().strip().equals(first.strip())) {
        throw FhirException.badRequest("Content-Type is sent on more than one line with different values;"
            + " send it once, naming the body's one media type");
      }
    }
    return first;
  }

  /** The request's {@code Prefer} preferences, from all its fields (RFC 7240 §2). */
  Preferences preferences() {
    if (preferences == null) {
      preferences = Preferences.of(req.getHeaders("Prefer"));
    }
    return preferences;
  }

  /**
   * What a write answers with, by {@code Prefer: return=} (FHIR R4 http.html#ops), in lower case:
   * {@code minimal}, {@code operationoutcome} or, by default, {@code representation}. The caller
   * answers so; a preference the client stated is named back in {@code Preference-Applied}
   * (RFC 7240 §3), so the client can tell it was honoured.
   */
  public String applyReturnPreference() {
    Optional<String> stated = preferences().returnPreference();
    stated.ifPresent(v -> resp.setHeader("Preference-Applied", "return=" + v));
    return stated.orElse("representation").toLowerCase(Locale.ROOT);
  }

  /** {@code Prefer: handling=strict}, in any {@code Prefer} field. */
  public boolean prefersStrictHandling() {
    return preferences().strictHandling();
  }

  /** Reads the whole body as UTF-8 text, failing with 413 beyond {@code limit} bytes; 400 when there is none. */
  public String body(long limit) throws IOException {
    String body = bodyOrEmpty(limit);
    if (body.isEmpty()) {
      throw FhirException.badRequest("the request has no body");
    }
    return body;
  }

  /**
   * {@link #body}, but a request without a body, or with an empty one, is "". A body sent with
   * {@code Content-Encoding: gzip} or {@code deflate} is decoded first, and {@code limit} holds for
   * the decoded bytes ({@link ContentCodings}); another coding is 415 before a byte is read.
   */
  public String bodyOrEmpty(long limit) throws IOException {
    String encoding = header("Content-Encoding");
    if (!ContentCodings.isIdentity(encoding)) {
      return decodedBody(limit, encoding);
    }
    refuseDeclaredLengthAbove(limit);
    long declared = req.getContentLengthLong();
    byte[] bytes;
    try (InputStream in = requestBody) {
      bytes = declared >= 0 && declared <= Integer.MAX_VALUE - 8 ? declaredBody(in, (int) declared)
          : chunkedBody(in, limit);
    } catch (IOException e) {
      throw ClientAbort.truncatedBody(e);
    }
    return bytes.length == 0 ? "" : StrictUtf8.decode(bytes);
  }

  private String decodedBody(long limit, String encoding) throws IOException {
    try {
      ContentCodings.requireSupported(encoding);
    } catch (FhirException e) {
      throw refuseUnread(e);
    }
    // deflate's stored blocks add 5 bytes per 64 KiB (RFC 1951 §3.2.4), gzip 18 bytes of frame (RFC 1952)
    refuseDeclaredLengthAbove(limit + limit / 1000 + 1024);
    byte[] bytes;
    try (InputStream in = requestBody) {
      bytes = ContentCodings.readDecoded(in, encoding, limit);
    } catch (FhirException e) {
      throw e.status() == 413 ? refuseMidBody(e) : e;
    } catch (IOException e) {
      throw ClientAbort.truncatedBody(e);
    }
    return bytes.length == 0 ? "" : StrictUtf8.decode(bytes);
  }

  /**
   * A body of {@code length} bytes (its Content-Length, within the limit): read into one array of
   * that size, with no buffer between. A resource create reads a few hundred bytes here, and an
   * 8 KiB chunk per request was most of what this method allocated.
   */
  private static byte[] declaredBody(InputStream in, int length) throws IOException {
    byte[] bytes = in.readNBytes(length);
    if (bytes.length < length) {
      throw new EofException("the body ended after " + bytes.length + " of its " + length + " declared bytes");
    }
    return bytes;
  }

  /** A body without Content-Length (chunked), up to {@code limit} bytes: 413 beyond. */
  private byte[] chunkedBody(InputStream in, long limit) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(8192);
    byte[] chunk = new byte[8192];
    int n;
    while ((n = in.read(chunk)) >= 0) {
      if (buf.size() + (long) n > limit) {
        throw refuseMidBody(FhirException.tooLarge("the body exceeds the limit of " + limit + " bytes"));
      }
      buf.write(chunk, 0, n);
    }
    return buf.toByteArray();
  }

  /**
   * Answers 413 at once when Content-Length declares more than {@code limit} bytes, before a byte
   * of the body is read ({@link #refuseUnread}).
   */
  public void refuseDeclaredLengthAbove(long limit) {
    long declared = req.getContentLengthLong();
    if (declared > limit) {
      throw refuseUnread(FhirException.tooLarge("the body has " + declared + " bytes; the limit is " + limit));
    }
  }

  /**
   * Makes {@code e} the answer to a request refused before a byte of its body was read (a declared
   * length over a limit, say), and returns it to be thrown. The connection closes after the answer
   * (RFC 9110 §15.5.14). A client that sends its body without waiting for an answer is still
   * sending then, and a close with its bytes unread resets the connection: it would see "connection
   * reset" and never our answer (RFC 9112 §9.6). So the answer is sent first, then up to
   * {@link #REFUSED_DRAIN_BYTES} or {@link #REFUSED_DRAIN_TIME} of the body are read and discarded
   * ({@link #drainRefusedBody}). A client waiting for {@code 100 Continue} is not invited: nothing
   * is read before the answer, which is its first and only one. But a client need not wait
   * (RFC 9110 §10.1.1): .NET's HttpClient sends the body after 350 ms without a 100, curl after 1 s,
   * so it is drained after the answer as well. Reading then sends no 100: once the final response
   * is committed, Jetty 12.1 fails the interim write ({@code ChannelResponse.writeInterim}, and
   * {@code HttpStreamOverHTTP1.send} refuses anything after a committed response).
   */
  public FhirException refuseUnread(FhirException e) {
    if (req.getContentLengthLong() == 0) {
      return e; // no body: nothing is left unread
    }
    drainAfterAnswer = true;
    return e.withHeader("Connection", "close");
  }

  /** Work on a request whose body it reads, as a route hands it to {@link #readingBody}. */
  interface BodyWork<T> {
    T run() throws IOException;
  }

  /** Runs {@code work}, which reads {@link #requestBody}; a refusal it throws is answered as {@link #refuse} says. */
  <T> T readingBody(BodyWork<T> work) throws IOException {
    try {
      return work.run();
    } catch (FhirException e) {
      throw refuse(e);
    }
  }

  /**
   * Makes {@code e} the answer to a request refused while its body may be partly or wholly unread,
   * and returns it to be thrown:
   * <ul>
   *   <li>nothing read it and the client waits for {@code 100 Continue}, or it declares more than
   *       {@link #DRAIN_LIMIT}, or no length at all: the answer goes first, uninvited, and what
   *       still comes is drained after it ({@link #refuseUnread});
   *   <li>otherwise the rest is read first, within bounds ({@link #refuseMidBody}), so that a small
   *       body leaves the connection open.
   * </ul>
   */
  FhirException refuse(FhirException e) {
    long declared = req.getContentLengthLong();
    if (!requestBody.touched() && (expectsContinue() || declared < 0 || declared > DRAIN_LIMIT)) {
      return refuseUnread(e);
    }
    return refuseMidBody(e);
  }

  /** True when the client waits for {@code 100 Continue} before it sends the body (RFC 9110 §10.1.1). */
  boolean expectsContinue() {
    String expect = header("Expect");
    return expect != null && expect.toLowerCase(Locale.ROOT).contains("100-continue");
  }

  /**
   * Bytes of a body refused unread that are read and discarded after the answer: more than a client
   * has in flight when the answer reaches it (its socket buffers and ours, a few MiB on Linux), far
   * less than the bodies such limits refuse.
   */
  static final long REFUSED_DRAIN_BYTES = 4L << 20;
  /**
   * How long a refused body is drained at most, before the answer and again after it: a slow or
   * stalled client holds a thread no longer.
   */
  static final Duration REFUSED_DRAIN_TIME = Duration.ofSeconds(2);

  /**
   * After the answer to a request refused by {@link #refuseUnread} or {@link #refuseMidBody}: sends
   * the answer, then reads and discards the body up to the bounds, so that the close that follows
   * meets no unread bytes from a client that had sent no more. Runs only on a connection that
   * closes after the answer; the idle timeout it shortens is put back all the same.
   */
  void drainRefusedBody() {
    if (!drainAfterAnswer) {
      return;
    }
    drainAfterAnswer = false;
    ServletContextRequest jetty = ServletContextRequest.getServletContextRequest(req);
    ServletChannel channel = jetty == null ? null : jetty.getServletChannel();
    long idleTimeout = channel == null ? -1 : channel.getIdleTimeout();
    try {
      resp.flushBuffer();
      discard(REFUSED_DRAIN_BYTES, System.nanoTime() + REFUSED_DRAIN_TIME.toNanos(), channel);
    } catch (IOException e) {
      // the client went away: the connection closes either way
    } finally {
      if (channel != null && idleTimeout >= 0) {
        channel.setIdleTimeout(idleTimeout);
      }
    }
  }

  /**
   * Before an error answer: reads and discards what is left of the request's body, up to
   * {@link #DRAIN_LIMIT} and for up to {@link #REFUSED_DRAIN_TIME}; false when the body goes on
   * past that (the answer must then close the connection). A route refused the request before it
   * read the body, or failed halfway: an answer written whole is sent as it is written, and Jetty,
   * finding body bytes unread once it is sent (they arrived after the head, or had not arrived
   * yet), would close a connection it had just answered as open, under the client's next request.
   * True at once for a request without a body, or one already answered with a close.
   *
   * <p>Nothing is read from a client that waits for {@code 100 Continue} before a body nothing has
   * asked for yet: reading would send the 100 and invite the body of a request already refused
   * (RFC 9110 §10.1.1). The client gets the refusal as its only answer, the connection closes, and
   * a body the client sends after all, having stopped waiting, is drained after the answer as for
   * {@link #refuseUnread}. A body that is still coming when the bounds are reached
   * is drained again after the answer, as for {@link #refuseMidBody}: the close would otherwise
   * reset the connection under the answer (RFC 9112 §9.6).
   */
  boolean settleUnreadBody() {
    if (drainAfterAnswer) {
      return true;
    }
    String length = req.getHeader("Content-Length");
    boolean chunked = req.getHeader("Transfer-Encoding") != null;
    if (!chunked && (length == null || length.strip().equals("0"))) {
      return true;
    }
    if (!requestBody.touched() && expectsContinue()) {
      drainAfterAnswer = true;
      return false;
    }
    ServletContextRequest jetty = ServletContextRequest.getServletContextRequest(req);
    ServletChannel channel = jetty == null ? null : jetty.getServletChannel();
    long idleTimeout = channel == null ? -1 : channel.getIdleTimeout();
    try {
      Drained drained = discard(DRAIN_LIMIT, System.nanoTime() + REFUSED_DRAIN_TIME.toNanos(), channel);
      drainAfterAnswer = drained == Drained.BOUNDED;
      // a body that stalled is one still owed: the connection cannot be reused after it
      return drained == Drained.ENDED;
    } finally {
      if (channel != null && idleTimeout >= 0) {
        channel.setIdleTimeout(idleTimeout);
      }
    }
  }

  /**
   * Answers, by {@code answer}, a request whose body the route leaves unread although it succeeded
   * (a raw Binary conditional create that matches: nothing is stored). The body is settled first as
   * for an error ({@link #settleUnreadBody}): one that ends within the bounds leaves the connection
   * open; one still coming gets the answer with {@code Connection: close} and is drained after it,
   * so that a client still sending reads the answer rather than a reset (RFC 9112 §9.6).
   */
  void answerLeavingBodyUnread(BodyWork<Void> answer) throws IOException {
    if (!settleUnreadBody()) {
      resp.setHeader("Connection", "close");
    }
    answer.run();
    drainRefusedBody();
  }

  /**
   * How much of a body refused partway is read and discarded before the answer, so that a client
   * that had little more to send gets the answer on a connection that stays open.
   */
  static final long DRAIN_LIMIT = 8L << 20;

  /**
   * Makes {@code e} the answer to a request refused after part of its body was read (a streamed
   * body over the limit, say), and returns it to be thrown. Up to {@link #DRAIN_LIMIT} of the rest,
   * for up to {@link #REFUSED_DRAIN_TIME}, is read and discarded first: a body that ends within
   * that is answered on a connection that stays open. A longer or slower body is still coming, and
   * a close with its bytes unread would reset the connection under the answer, so the answer then
   * closes the connection and the body is drained after it as for {@link #refuseUnread}.
   */
  public FhirException refuseMidBody(FhirException e) {
    if (discard(DRAIN_LIMIT, System.nanoTime() + REFUSED_DRAIN_TIME.toNanos(), null) != Drained.BOUNDED) {
      return e; // the body ended, or reading it failed and the connection is lost anyway
    }
    drainAfterAnswer = true;
    return e.withHeader("Connection", "close");
  }

  /** How a {@link #discard} ended. */
  private enum Drained {
    /** the body ended within the bounds */
    ENDED,
    /** the bounds were reached with the body still coming */
    BOUNDED,
    /** a read failed: the client stalled past the deadline or went away */
    FAILED
  }

  /**
   * Reads and discards up to {@code max} bytes of the body until the deadline, and says how that
   * ended. The deadline is checked between reads, and with {@code channel} also bounds each read (a
   * read that waits longer than what is left fails with an idle timeout), which only a connection
   * that closes afterwards may have done to it.
   */
  private Drained discard(long max, long deadlineNanos, ServletChannel channel) {
    byte[] scratch = new byte[16384];
    long read = 0;
    try {
      InputStream in = requestBody.open();
      for (long left = deadlineNanos - System.nanoTime(); read <= max && left > 0;
          left = deadlineNanos - System.nanoTime()) {
        if (channel != null) {
          channel.setIdleTimeout(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
        int n = in.read(scratch);
        if (n < 0) {
          return Drained.ENDED;
        }
        read += n;
      }
      return Drained.BOUNDED;
    } catch (IOException | IllegalStateException e) {
      // a read cut by the deadline's idle timeout, from a client that was sending, met the time
      // bound: its body is still coming. Otherwise it stalled or went away.
      return channel != null && read > 0 ? Drained.BOUNDED : Drained.FAILED;
    }
  }

  /**
   * The preconditions of an update, patch or delete: {@code If-Match} ({@link IfMatchField}),
   * {@code If-None-Match} and {@code If-Unmodified-Since} (RFC 9110 §13.1.2, §13.1.4), which the
   * write checks in its own transaction.
   */
  public WritePreconditions writePreconditions() {
    return writePreconditions(null);
  }

  /**
   * {@link #writePreconditions()} of a write that names what it writes: {@code If-Match} may then
   * be a list, or a Binary's content ETag, matched against {@code current} ({@link IfMatchField}).
   */
  WritePreconditions writePreconditions(Supplier<Optional<IfMatchField.Current>> current) {
    return new WritePreconditions(IfMatchField.version(this, current), ifNoneMatch(), ifUnmodifiedSince());
  }

  /**
   * The versions {@code If-None-Match} names, every field read as one list (RFC 9110 §5.3), or
   * {@link ResourceRepository#IF_MATCH_ANY} alone for {@code *}; a value that is no list of entity
   * tags is 400. A tag that names no version (none we issued) can match nothing and is left out.
   */
  private List<Long> ifNoneMatch() {
    String h = String.join(",", Collections.list(req.getHeaders("If-None-Match")));
    if (h.isBlank()) {
      return List.of();
    }
    if (h.trim().equals("*")) {
      return List.of(ResourceRepository.IF_MATCH_ANY);
    }
    List<EntityTag> tags = EntityTag.parseList(h).orElseThrow(() ->
        FhirException.badRequest("If-None-Match must be * or version ETags like W/\"3\""));
    List<Long> versions = new ArrayList<>();
    for (EntityTag tag : tags) {
      Long v = ResourceIds.ifMatch(tag.toString());
      if (v != null) {
        versions.add(v);
      }
    }
    return versions;
  }

  /** {@code If-Unmodified-Since}, or null; a value that is no HTTP date, or more than one, is ignored (RFC 9110 §13.1.4). */
  private Instant ifUnmodifiedSince() {
    return StorageResponder.dateField(req, "If-Unmodified-Since").orElse(null);
  }
}
