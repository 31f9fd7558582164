package org.fhirbox.http;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.eclipse.jetty.ee10.servlet.HttpOutput;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.HttpDate;
import org.fhirbox.fhir.QueryLimits;
import org.fhirbox.binary.MissingContent;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.model.ServedType;
import org.fhirbox.http.RangeRequest.Full;
import org.fhirbox.http.RangeRequest.Partial;
import org.fhirbox.http.RangeRequest.Unsatisfiable;
import org.fhirbox.storage.BlobStore;
import org.fhirbox.storage.ShortBlobException;

/**
 * Sends one Binary version's bytes for GET and HEAD: validators, conditional requests
 * (RFC 9110 §13), single and multiple ranges (RFC 9110 §14), a safe Content-Disposition, and
 * a streamed body that never holds the whole content in memory.
 *
 * <p>Errors leave as {@link FhirException} before any header is set: 412 for a failed
 * {@code If-Match}/{@code If-Unmodified-Since}, 416 (with {@code Content-Range: bytes *}/len)
 * for an unsatisfiable range; and 500 for a blob missing from the store, which HEAD asks the store
 * about as GET finds out by reading it (before any byte of the body leaves), so both agree.
 */
public final class StorageResponder {
  // RFC 9110 §5.6.7 IMF-fixdate; Jetty's HttpDateTime.format drops the leading zero of the day.
  static final DateTimeFormatter IMF_FIXDATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);
  private final SecureRandom random = new SecureRandom();

  /** The Fetch destinations of a frame: what a page embeds, never what the user opened. */
  private static final Set<String> FRAMES = Set.of("iframe", "frame", "embed", "object", "fencedframe");

  /**
   * Refuses (403) an answer that would start a download in a frame ({@code Sec-Fetch-Dest}, Fetch
   * Metadata): an Attachment's {@code contentType} is its writer's, so one saying
   * {@code application/pdf} over an HTML Binary gets a frame in a page that previews PDFs (the web
   * app's), and would download the writer's file to whoever opens that page, unasked. A download
   * starts from a link the user follows; a frame shows only what is shown as it is.
   */
  private static void refuseDownloadInFrame(HttpServletRequest req, boolean download, String servedType) {
    String dest = req.getHeader("Sec-Fetch-Dest");
    if (download && dest != null && FRAMES.contains(dest.strip().toLowerCase(Locale.ROOT))) {
      throw FhirException.forbidden("this file (" + QueryLimits.shorten(servedType)
          + ") is served only as a download, which a frame does not start (Sec-Fetch-Dest: " + QueryLimits.shorten(dest)
          + "); open its URL itself, or link to it");
    }
  }

  /**
   * Answers {@code req} (GET or HEAD) with the bytes of {@code content}.
   *
   * @param dispositionFilename serve as an attachment with this filename; null for inline
   * @param maxAgeSeconds how long the browser may reuse the response privately
   * @return false when the answer is 304 Not Modified and carries no content, else true
   * @throws FhirException 412 or 416 as described on the class
   */
  public boolean respond(HttpServletRequest req, HttpServletResponse resp, BinaryContent content,
      BlobStore store, String dispositionFilename, long maxAgeSeconds) throws IOException {
    return respond(req, resp, content, store, dispositionFilename, maxAgeSeconds, true);
  }

  /**
   * As {@link #respond(HttpServletRequest, HttpServletResponse, BinaryContent, BlobStore, String, long)},
   * choosing whether dates validate as strongly as the entity tag.
   *
   * @param strongDates whether a date is a strong validator: true only where the URL names one
   *     immutable version. {@code Last-Modified} has one-second resolution, so on a URL whose next
   *     version may be written within the same second, a date cannot tell the two apart (RFC 9110
   *     §8.8.2.2): an {@code If-Range} date never validates a range there (§13.1.5, it would splice
   *     two versions' bytes), and a version of the date's own second counts as modified since it, so
   *     {@code If-Modified-Since} gets the content rather than a 304 that keeps the older version, and
   *     {@code If-Unmodified-Since} gets 412 rather than bytes that may be another version's.
   */
  public boolean respond(HttpServletRequest req, HttpServletResponse resp, BinaryContent content,
      BlobStore store, String dispositionFilename, long maxAgeSeconds, boolean strongDates) throws IOException {
    boolean head = "HEAD".equalsIgnoreCase(req.getMethod());
    ServedType served = ServedType.of(content.contentType());
    boolean download = served.attachment() || dispositionFilename != null;
    refuseDownloadInFrame(req, download, served.contentType());
    long length = content.size();
    EntityTag etag = EntityTag.tryParse(content.etag())
        .orElseThrow(() -> new IllegalStateException("Binary content has no valid entity tag"));
    Instant lastModified = content.lastUpdated().truncatedTo(ChronoUnit.SECONDS);

    boolean notModified = evaluatePreconditions(req, etag, lastModified, strongDates);
    // RFC 9110 §14.2: Range is defined for GET only; HEAD and others ignore it.
    RangeRequest range = head || !ifRangeHolds(req, etag, strongDates ? lastModified : null)
        ? new Full() : RangeRequest.parse(singleField(req, "Range"), length);
    if (!notModified && range instanceof Unsatisfiable) {
      throw FhirException.rangeNotSatisfiable(length);
    }

    if (download) {
      // the answer depends on Sec-Fetch-Dest (refused to a frame): a cache must not give a frame
      // the download that a navigation got
      resp.addHeader("Vary", "Sec-Fetch-Dest");
    }
    resp.setHeader("ETag", content.etag());
    resp.setHeader("Last-Modified", IMF_FIXDATE.format(lastModified));
    resp.setHeader("Cache-Control", "private, max-age=" + Math.max(0, maxAgeSeconds));
    if (notModified) {
      resp.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
      // RFC 9110 §8.6: a 304 may carry the Content-Length of the 200 it stands for, and no other;
      // without it the container would say 0
      resp.setContentLengthLong(length);
      return false;
    }
    if (head || length == 0) {
      // GET finds a lost or shortened blob by reading it; HEAD (and an empty body, which reads nothing) asks.
      Optional<Long> held = store.size(content.blobKey());
      if (held.isEmpty()) {
        throw MissingContent.of(content, null);
      }
      if (held.get() < length) {
        throw MissingContent.shortened(content, held.get(), null);
      }
    }

    String contentType = served.contentType();
    ContentDisposition disposition = dispositionFilename != null
        ? ContentDisposition.attachment(dispositionFilename)
        : ContentDisposition.inline(content.filename());
    if (served.attachment()) {
      // Only types that are shown as they are (ServedType.isInline) open in the browser: anything
      // else served from our origin (HTML, SVG, XML, a multipart/x-mixed-replace stream, a type
      // no list names yet) could run script with the user's session, so navigation downloads it.
      disposition = disposition.asAttachment();
    }
    // Everything else is sandboxed too: a PDF opened from our origin (the web app's) runs in an
    // opaque origin, as if framed with <iframe sandbox>, yet Chromium's viewer still shows it
    // (it refuses PDFs in sandboxed frames). Images and media ignore a subresource's CSP.
    resp.setHeader("Content-Security-Policy", "sandbox");
    resp.setHeader("Accept-Ranges", "bytes");
    resp.setHeader("X-Content-Type-Options", "nosniff");
    resp.setHeader("Content-Disposition", disposition.headerValue());

    OutputStream out = head ? null : resp.getOutputStream();
    if (range instanceof Partial partial && partial.ranges().size() == 1) {
      ByteRange r = partial.ranges().get(0);
      resp.setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
      resp.setContentType(contentType);
      resp.setHeader("Content-Range", r.contentRange(length));
      resp.setContentLengthLong(r.length());
      if (out != null) {
        copy(store, content, r.first(), r.length(), out);
      }
    } else if (range instanceof Partial partial) {
      resp.setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
      writeMultipart(resp, out, partial.ranges(), contentType, content, store);
    } else {
      resp.setStatus(HttpServletResponse.SC_OK);
      resp.setContentType(contentType);
      resp.setContentLengthLong(length);
      if (out != null && length > 0) {
        copy(store, content, 0, length, out);
      }
    }
    return true;
  }

  /**
   * RFC 9110 §13.2.2 steps 1–4 for GET/HEAD: true when the answer is 304.
   *
   * @param strongDates whether {@code lastModified} tells this representation from every other one
   *     the URL may have had (see {@code strongDates} of {@link #respond})
   * @throws FhirException 412 when If-Match or If-Unmodified-Since fails
   */
  private static boolean evaluatePreconditions(HttpServletRequest req, EntityTag etag, Instant lastModified,
      boolean strongDates) {
    String ifMatch = listField(req, "If-Match");
    if (ifMatch != null) {
      if (!matchesAny(ifMatch, etag, true)) {
        throw FhirException.preconditionFailed("If-Match does not match the current entity tag");
      }
    } else {
      Optional<Instant> since = dateField(req, "If-Unmodified-Since");
      if (since.isPresent() && modifiedSince(lastModified, since.get(), strongDates)) {
        throw FhirException.preconditionFailed("content was modified after If-Unmodified-Since");
      }
    }
    return notModified(req, etag, lastModified, strongDates);
  }

  /**
   * RFC 9110 §13.2.2 steps 3 and 4 for a {@code GET}: {@code If-None-Match} names {@code etag}
   * ({@link #ifNoneMatchHolds}), or, only without it, {@code If-Modified-Since} is a date after
   * which nothing changed ({@code strongDates} as for {@link #modifiedSince}); a field that is no
   * list of entity tags or no HTTP date is ignored (§13.1.2, §13.1.3).
   */
  static boolean notModified(HttpServletRequest req, EntityTag etag, Instant lastModified, boolean strongDates) {
    return notModified(listField(req, "If-None-Match"), dateField(req, "If-Modified-Since").orElse(null), etag,
        lastModified, strongDates);
  }

  /**
   * {@link #notModified(HttpServletRequest, EntityTag, Instant, boolean)} of the field values
   * themselves: {@code ifNoneMatch} every line joined (null: none sent), {@code ifModifiedSince}
   * the date (null: none, or one to ignore).
   */
  static boolean notModified(String ifNoneMatch, Instant ifModifiedSince, EntityTag etag, Instant lastModified,
      boolean strongDates) {
    if (ifNoneMatch != null) {
      return matchesAny(ifNoneMatch, etag, false);
    }
    return ifModifiedSince != null && !modifiedSince(lastModified, ifModifiedSince, strongDates);
  }

  /**
   * Whether content last modified at {@code lastModified} (whole seconds) changed after {@code date}.
   * Where the date is no strong validator, a version of the date's own second may have followed the
   * one the client has, so it counts as changed.
   */
  private static boolean modifiedSince(Instant lastModified, Instant date, boolean strongDates) {
    return strongDates ? lastModified.isAfter(date) : !lastModified.isBefore(date);
  }

  /**
   * Every field line of a list-valued header joined by commas, which RFC 9110 §5.3 makes the same
   * field value (a proxy may split or join them); null when there is none.
   */
  static String listField(HttpServletRequest req, String name) {
    List<String> lines = Collections.list(req.getHeaders(name));
    return lines.isEmpty() ? null : String.join(", ", lines);
  }

  /**
   * Whether {@code If-None-Match} names {@code etag}: every field line read as one list, each
   * entity tag compared weakly (RFC 9110 §13.1.2), {@code *} matching any; a value that is no list
   * of entity tags names none. Empty when the request has no {@code If-None-Match}.
   */
  static Optional<Boolean> ifNoneMatchHolds(HttpServletRequest req, EntityTag etag) {
    String ifNoneMatch = listField(req, "If-None-Match");
    return ifNoneMatch == null ? Optional.empty() : Optional.of(matchesAny(ifNoneMatch, etag, false));
  }

  /**
   * Whether {@code If-Match} names {@code etag}: every field line read as one list, compared strongly
   * (RFC 9110 §13.1.1), {@code *} matching any. Empty when the request has no {@code If-Match}.
   */
  static Optional<Boolean> ifMatchHolds(HttpServletRequest req, EntityTag etag) {
    String ifMatch = listField(req, "If-Match");
    return ifMatch == null ? Optional.empty() : Optional.of(matchesAny(ifMatch, etag, true));
  }

  /** Whether {@code If-None-Match} is {@code *}, which holds for any representation there is. */
  static boolean ifNoneMatchIsAny(HttpServletRequest req) {
    String ifNoneMatch = listField(req, "If-None-Match");
    return ifNoneMatch != null && ifNoneMatch.strip().equals("*");
  }

  /** {@code *} matches any current representation; If-Match compares strongly (§13.1.1). */
  private static boolean matchesAny(String header, EntityTag etag, boolean strong) {
    if (header.strip().equals("*")) {
      return true;
    }
    return EntityTag.parseList(header).orElse(List.of()).stream()
        .anyMatch(t -> strong ? t.strongMatch(etag) : t.weakMatch(etag));
  }

  /**
   * RFC 9110 §13.1.5: without If-Range the Range applies; with it, only when the validator is
   * a strongly matching entity tag or exactly our Last-Modified date ({@code lastModified}, null
   * where a date is not strong enough). Anything else (weak tag, other date, garbage) means "send
   * the whole current representation".
   */
  private static boolean ifRangeHolds(HttpServletRequest req, EntityTag etag, Instant lastModified) {
    List<String> lines = Collections.list(req.getHeaders("If-Range"));
    if (lines.isEmpty()) {
      return true;
    }
    // Field lines that would be joined into one value (RFC 9110 §5.3) make no single validator; a
    // cache or proxy may read them otherwise than by the first, so none of them holds.
    if (lines.size() > 1) {
      return false;
    }
    String ifRange = lines.get(0);
    String v = ifRange.strip();
    if (v.startsWith("\"") || v.startsWith("W/")) {
      return EntityTag.tryParse(v).map(t -> t.strongMatch(etag)).orElse(false);
    }
    return lastModified != null && HttpDate.parse(v).map(lastModified::equals).orElse(false);
  }

  /**
   * The value of a field that is no list ({@code Range}): null when absent, and when sent on more
   * than one field line, which joined make a value its grammar does not allow (RFC 9110 §5.3) and
   * which a cache or proxy may read otherwise than by its first line; an invalid Range is ignored
   * (§14.2).
   */
  private static String singleField(HttpServletRequest req, String name) {
    List<String> lines = Collections.list(req.getHeaders(name));
    return lines.size() == 1 ? lines.get(0) : null;
  }

  /**
   * The HTTP date of the date-valued field {@code name} (If-Modified-Since, If-Unmodified-Since):
   * empty when there is none, when it is no HTTP date ({@link HttpDate}: any of the three forms
   * RFC 9110 §5.6.7 has a recipient accept, the whole value one date), and when it is sent on more
   * than one line, which makes a value of more than one member that RFC 9110 §13.1.3 and §13.1.4
   * say to ignore.
   */
  static Optional<Instant> dateField(HttpServletRequest req, String name) {
    List<String> lines = Collections.list(req.getHeaders(name));
    return lines.size() == 1 ? HttpDate.parse(lines.get(0)) : Optional.empty();
  }

  /** RFC 9110 §14.6: multipart/byteranges with an exact Content-Length known before writing. */
  private void writeMultipart(HttpServletResponse resp, OutputStream out, List<ByteRange> ranges,
      String contentType, BinaryContent content, BlobStore store) throws IOException {
    byte[] b = new byte[16];
    random.nextBytes(b);
    String boundary = "fhirbox-" + HexFormat.of().formatHex(b);
    List<byte[]> heads = new ArrayList<>(ranges.size());
    long total = 0;
    for (int i = 0; i < ranges.size(); i++) {
      ByteRange r = ranges.get(i);
      String head = (i == 0 ? "" : "\r\n") + "--" + boundary + "\r\n"
          + "Content-Type: " + contentType + "\r\n"
          + "Content-Range: " + r.contentRange(content.size()) + "\r\n\r\n";
      byte[] bytes = head.getBytes(StandardCharsets.US_ASCII);
      heads.add(bytes);
      total += bytes.length + r.length();
    }
    byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
    total += tail.length;
    resp.setContentType("multipart/byteranges; boundary=" + boundary);
    resp.setContentLengthLong(total);
    if (out == null) {
      return;
    }
    for (int i = 0; i < ranges.size(); i++) {
      out.write(heads.get(i));
      copy(store, content, ranges.get(i).first(), ranges.get(i).length(), out);
    }
    out.write(tail);
  }

  private static void copy(BlobStore store, BinaryContent content, long offset, long length, OutputStream out)
      throws IOException {
    try {
      store.transferTo(content.blobKey(), offset, length, channel(out));
    } catch (NoSuchFileException e) {
      throw MissingContent.of(content, e);
    } catch (ShortBlobException e) {
      throw MissingContent.shortened(content, e.held(), e);
    }
  }

  /**
   * The response body as a channel. Jetty's {@link HttpOutput#write(ByteBuffer)} blocks until
   * the connection took the buffer and sends a large buffer straight to it, skipping its
   * aggregation buffer (so a store's direct buffer reaches the socket without another copy);
   * any other stream gets the JDK's adapter.
   */
  static WritableByteChannel channel(OutputStream out) {
    if (!(out instanceof HttpOutput jetty)) {
      return Channels.newChannel(out);
    }
    return new WritableByteChannel() {
      @Override
      public int write(ByteBuffer src) throws IOException {
        int n = src.remaining();
        if (src.hasArray()) {
          // A small range's heap buffer: Jetty aggregates it with the headers, as for any write.
          jetty.write(src.array(), src.arrayOffset() + src.position(), n);
        } else {
          jetty.write(src);
        }
        src.position(src.limit());
        return n;
      }

      @Override
      public boolean isOpen() {
        return !jetty.isClosed();
      }

      @Override
      public void close() throws IOException {
        jetty.close();
      }
    };
  }
}
