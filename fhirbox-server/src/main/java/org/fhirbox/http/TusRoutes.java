package org.fhirbox.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.fhirbox.auth.Principal;
import org.fhirbox.binary.BinaryAttributes;
import org.fhirbox.binary.ResumableUploads;
import org.fhirbox.binary.ResumableUploads.Checksum;
import org.fhirbox.binary.ResumableUploads.Creation;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.model.ResumableUpload;

/**
 * Resumable uploads with the tus protocol 1.0.0 (https://tus.io/protocols/resumable-upload): the
 * core protocol and the creation, creation-with-upload, creation-defer-length, termination,
 * expiration and checksum extensions, at {@code /fhir/R4/Binary/$upload} (creation, OPTIONS) and
 * {@code /fhir/R4/Binary/$upload/{id}} (HEAD, PATCH, DELETE).
 *
 * <p>Beyond the protocol: every request but OPTIONS needs the credentials and scopes of a raw
 * {@code POST /Binary}. {@code Upload-Metadata} names what the Binary will be: {@code contentType}
 * or {@code filetype} (tus-js-client, Uppy), {@code filename}, {@code securityContext} and
 * {@code binaryId} (a new version of that Binary). Once the last byte is stored, the response
 * (and every later HEAD) names the Binary version in {@code Content-Location}. Errors carry an
 * OperationOutcome as everywhere, with the status the protocol asks for; a tus client reads only
 * the status. {@code X-HTTP-Method-Override} on a POST is honoured (tus 1.0.0 core), as clients
 * without PATCH (Java's HttpURLConnection, and so tus-java-client) send it; on another method,
 * naming another method, it is refused (see {@link #effectiveMethod}).
 */
public final class TusRoutes {
  static final String VERSION = "1.0.0";
  static final String EXTENSIONS = "creation,creation-with-upload,creation-defer-length,termination,expiration,"
      + "checksum";
  static final String CHECKSUM_ALGORITHMS = "sha1,sha256";
  static final String OFFSET_OCTETS = "application/offset+octet-stream";
  /** What Upload-Metadata may hold, as stored (VARCHAR(4000), V11 migration). */
  static final int MAX_METADATA_CHARS = 4000;
  /** The Upload-Metadata keys whose values become part of the Binary; the others are only repeated. */
  private static final Set<String> READ_KEYS = Set.of("contentType", "filetype", "filename", "securityContext",
      "binaryId");
  /** RFC 9110 §5.6.7 IMF-fixdate, which tus 1.0.0 asks for in Upload-Expires (as RFC 7231). */
  private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter
      .ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

  private final ResumableUploads uploads;

  public TusRoutes(ResumableUploads uploads) {
    this.uploads = uploads;
  }

  /** Whether the decoded path segments {@code path} name a tus route ({@code /fhir/R4/Binary/$upload...}). */
  static boolean handles(List<String> path) {
    return path.size() >= 4 && path.subList(0, 4).equals(List.of("fhir", "R4", "Binary", "$upload"));
  }

  /** {@code rest}: the path segments after {@code /fhir/R4/Binary/$upload}. */
  public void handle(Exchange ex, FhirboxServlet.Authenticator authenticator, List<String> rest)
      throws IOException {
    ex.response().setHeader("Tus-Resumable", VERSION);
    ex.response().setHeader("Cache-Control", "no-store");
    String method = effectiveMethod(ex);
    if (method.equals("OPTIONS")) {
      options(ex);
      return;
    }
    if (rest.size() > 1) {
      throw FhirException.notFound("no route for " + ex.request().getRequestURI());
    }
    requireVersion(ex);
    Principal principal = authenticator.authenticate(ex);
    if (method.equals("POST") || method.equals("PATCH")) {
      refuseIfMatch(ex);
    }
    if (rest.isEmpty()) {
      if (!method.equals("POST")) {
        throw FhirException.methodNotAllowed(method + " is not allowed on Binary/$upload; create an upload with POST",
            "POST", "OPTIONS");
      }
      create(ex, principal);
      return;
    }
    String id = rest.get(0);
    switch (method) {
      case "HEAD" -> head(ex, principal, uploadId(id));
      case "PATCH" -> patch(ex, principal, uploadId(id));
      case "DELETE" -> {
        uploads.terminate(principal, uploadId(id));
        ex.response().setStatus(204);
      }
      default -> throw FhirException.methodNotAllowed(method + " is not allowed on an upload; use HEAD, PATCH,"
          + " DELETE or OPTIONS", "HEAD", "PATCH", "DELETE", "OPTIONS");
    }
  }

  /**
   * {@code id} when it has the form of the ids uploads get; else 404 at once, without a look in the
   * database and without repeating what the client sent.
   */
  private static String uploadId(String id) {
    if (!ResumableUploads.isUploadId(id)) {
      throw FhirException.notFound("no such upload; an upload's id is the 32 hexadecimal digits its Location ends with");
    }
    return id;
  }

  /**
   * The request's method, read from {@code X-HTTP-Method-Override} on a POST. tus 1.0.0 core
   * ("X-HTTP-Method-Override"): the header "MUST be interpreted as the request's method", and "the
   * Client SHOULD use this header if its environment does not support the PATCH or DELETE methods":
   * such a client sends a POST. On any other method an override that names another method is
   * refused (400), not followed and not ignored: a GET or HEAD is safe (RFC 9110 §9.2.1), sent by
   * links, prefetches and caches, and must never become a PATCH or DELETE of an upload; and a
   * request whose two methods disagree is ambiguous, so its client learns it rather than getting
   * an answer to the method it did not mean.
   */
  private static String effectiveMethod(Exchange ex) {
    // two lines (PATCH and DELETE, say) would leave the request's method to whichever came first
    String override = singleton(ex, "X-HTTP-Method-Override");
    if (override == null || override.isBlank()) {
      return ex.method();
    }
    String named = override.trim().toUpperCase(Locale.ROOT);
    if (ex.method().equals("POST") || named.equals(ex.method())) {
      return named;
    }
    throw FhirException.badRequest("X-HTTP-Method-Override is followed on a POST only (tus 1.0.0, for clients"
        + " without PATCH or DELETE); this " + ex.method() + " names " + abbreviate(named)
        + ": send the request with the method it means");
  }

  private void options(Exchange ex) {
    ex.response().setHeader("Tus-Version", VERSION);
    ex.response().setHeader("Tus-Extension", EXTENSIONS);
    ex.response().setHeader("Tus-Max-Size", Long.toString(uploads.maxBytes()));
    ex.response().setHeader("Tus-Checksum-Algorithm", CHECKSUM_ALGORITHMS);
    ex.response().setStatus(204);
  }

  /**
   * RFC 9110 §13.1.1: If-Match is evaluated, not ignored, and neither {@code Binary/$upload} nor
   * an upload has an entity tag that could match, so it is false: 412. Ignored, it would let a
   * client that means "only over version 1" of a {@code binaryId} upload replace whatever version
   * is current when the upload completes.
   */
  private static void refuseIfMatch(Exchange ex) {
    if (ex.request().getHeader("If-Match") != null) {
      throw FhirException.preconditionFailed("If-Match: a tus upload has no entity tag to match, and a binaryId"
          + " upload becomes the next version of the Binary as it is when the upload completes; send no If-Match,"
          + " or PUT to the URL of Binary/{id}/$presigned-url?upload=true, which takes only the version it was"
          + " issued for");
    }
  }

  /** tus 1.0.0: a version the server does not speak gets 412 with the versions it does. */
  private static void requireVersion(Exchange ex) {
    String v = ex.header("Tus-Resumable");
    if (!VERSION.equals(v == null ? null : v.trim())) {
      throw FhirException.preconditionFailed(v == null ? "the Tus-Resumable header is missing; this server speaks tus "
          + VERSION : "tus version '" + v + "' is not supported; this server speaks " + VERSION)
          .withHeader("Tus-Version", VERSION);
    }
  }

  private void create(Exchange ex, Principal principal) throws IOException {
    long declared = ex.request().getContentLengthLong();
    String encoding = ex.header("Transfer-Encoding");
    boolean hasBody = declared > 0 || declared < 0 && encoding != null && encoding.toLowerCase(Locale.ROOT)
        .contains("chunked");
    if (hasBody) {
      requireOffsetOctets(ex);
    }
    Long length = creationLength(ex);
    // tus 1.0.0 creation: Upload-Metadata "MUST consist of one or more comma-separated key-value
    // pairs", so a blank one is none, and HEAD, which repeats it, leaves it out
    String metadata = blankToNull(singleton(ex, "Upload-Metadata"));
    Map<String, String> meta = parseMetadata(metadata);
    String contentType = meta.get("contentType") != null ? meta.get("contentType") : meta.get("filetype");
    requireHeaderSafe("contentType", contentType);
    requireHeaderSafe("securityContext", meta.get("securityContext"));
    if (meta.containsKey("securityContext") && meta.get("securityContext").isBlank()) {
      // named, but with no value (often an unset variable): taken for none, the Binary would be
      // stored unguarded where a guard was meant
      throw FhirException.badRequest("Upload-Metadata names securityContext without a value; give the resource"
          + " the Binary belongs to (Patient/123, base64-encoded), or leave the key out for none");
    }
    requireHeaderSafe("binaryId", meta.get("binaryId"));
    Checksum checksum = hasBody ? checksum(ex) : null;
    RequestBody body = ex.requestBody();
    ResumableUpload created = ex.readingBody(() -> uploads.create(principal, new Creation(length, metadata,
        contentType, meta.get("filename"), meta.get("securityContext"), blankToNull(meta.get("binaryId")))));
    ResumableUpload u = created;
    if (hasBody) {
      u = ex.readingBody(() -> {
        try {
          return uploads.append(principal, created.id(), 0, null, declared, body, checksum, new ExchangeFacts(ex));
        } catch (RuntimeException e) {
          // the client never learnt where the upload is, so nothing could resume it
          uploads.terminate(principal, created.id());
          if (e instanceof FhirException f && f.kind() == IssueKind.INCOMPLETE) {
            // not "what arrived is stored" (at an offset of an upload no client can name)
            throw new FhirException(IssueKind.INCOMPLETE, "the body was interrupted before all of it arrived, and"
                + " its upload was ended with what had arrived, as its URL was never sent: create the upload again",
                f.getCause());
          }
          if (e instanceof FhirException f && !f.issues().isEmpty()) {
            // not "the offset stays 0" (of an upload no client can name); another try helps only
            // where the piece itself was refused (its checksum, more bytes than its length), not
            // where its completion was (the Binary's rules, the issuer's rights)
            boolean piece = f.status() == 460 || f.status() == 413;
            List<FhirException.Issue> issues = new ArrayList<>(f.issues());
            FhirException.Issue first = issues.get(0);
            issues.set(0, new FhirException.Issue(first.severity(), first.type(), first.diagnostics()
                .replaceFirst("; it was discarded and the offset stays 0$", "")
                + "; the upload this request created was ended, as its URL was never sent"
                + (piece ? ": create the upload again" : ""), first.expression()));
            throw new FhirException(f.kind(), issues, f.headers(), f.getCause());
          }
          throw e;
        }
      });
    } else if (u.complete()) {
      u = uploads.status(principal, u.id(), new ExchangeFacts(ex));
    }
    ex.response().setHeader("Location", ex.fhirBase() + "/Binary/$upload/" + u.id());
    ex.response().setHeader("Upload-Offset", Long.toString(u.offset()));
    progressHeaders(ex, u);
    ex.response().setStatus(201);
  }

  private void head(Exchange ex, Principal principal, String id) {
    ResumableUpload u = uploads.status(principal, id, new ExchangeFacts(ex));
    ex.response().setHeader("Upload-Offset", Long.toString(u.offset()));
    if (u.length() != null) {
      ex.response().setHeader("Upload-Length", Long.toString(u.length()));
    } else {
      ex.response().setHeader("Upload-Defer-Length", "1");
    }
    if (u.metadata() != null) {
      ex.response().setHeader("Upload-Metadata", u.metadata());
    }
    progressHeaders(ex, u);
    ex.response().setStatus(200);
  }

  private void patch(Exchange ex, Principal principal, String id) throws IOException {
    RequestBody body = ex.requestBody();
    ResumableUpload u = ex.readingBody(() -> {
      requireOffsetOctets(ex);
      long offset = requiredLong(ex, "Upload-Offset");
      Long length = optionalLong(ex, "Upload-Length");
      return uploads.append(principal, id, offset, length, ex.request().getContentLengthLong(), body,
          checksum(ex), new ExchangeFacts(ex));
    });
    ex.response().setHeader("Upload-Offset", Long.toString(u.offset()));
    progressHeaders(ex, u);
    ex.response().setStatus(204);
  }

  /** Upload-Expires on every answer (tus expiration), and the Binary once there is one. */
  private static void progressHeaders(Exchange ex, ResumableUpload u) {
    ex.response().setHeader("Upload-Expires", HTTP_DATE.format(u.expires()));
    if (u.finished()) {
      ex.response().setHeader("Content-Location",
          ex.fhirBase() + "/Binary/" + u.resultId() + "/_history/" + u.resultVersion());
    }
  }

  private static void requireOffsetOctets(Exchange ex) {
    String ct = ex.contentType();
    String base = ct == null ? "" : ct.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    if (!base.equals(OFFSET_OCTETS)) {
      throw FhirException.unsupportedMediaType("upload bytes must be sent as Content-Type: " + OFFSET_OCTETS
          + ", got '" + (ct == null ? "" : ct) + "'");
    }
    // Upload-Offset and Upload-Length count the upload's own bytes: a coded piece would put the
    // coding's bytes into the Binary and count them, so it is refused as an upload URL refuses it
    String coding = ex.header("Content-Encoding");
    if (coding != null && !coding.isBlank() && !coding.trim().equalsIgnoreCase("identity")) {
      throw FhirException.unsupportedMediaType("a tus piece is the upload's bytes themselves; send it without"
          + " Content-Encoding (got '" + coding + "'); nothing was stored");
    }
  }

  /** tus creation: exactly one of Upload-Length and {@code Upload-Defer-Length: 1}. */
  private Long creationLength(Exchange ex) {
    Long length = optionalLong(ex, "Upload-Length");
    String defer = singleton(ex, "Upload-Defer-Length");
    if (defer != null && !defer.trim().equals("1")) {
      throw FhirException.badRequest("Upload-Defer-Length must be 1, got '" + defer + "'");
    }
    if ((length == null) == (defer == null)) {
      throw FhirException.badRequest("send either Upload-Length or Upload-Defer-Length: 1 to create an upload");
    }
    return length;
  }

  private long requiredLong(Exchange ex, String header) {
    Long v = optionalLong(ex, header);
    if (v == null) {
      throw FhirException.badRequest("the " + header + " header is required");
    }
    return v;
  }

  /**
   * A tus number header's value, or null when it is not sent. Digits beyond any number of bytes
   * (2^63 - 1) are over the largest upload: an {@code Upload-Length} as any length over it (413),
   * an {@code Upload-Offset} 400 naming it.
   */
  private Long optionalLong(Exchange ex, String header) {
    String v = singleton(ex, header);
    if (v == null) {
      return null;
    }
    String digits = v.trim();
    if (!digits.isEmpty() && digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
      try {
        return Long.parseLong(digits);
      } catch (NumberFormatException beyondLong) {
        String named = header + " " + abbreviate(digits);
        throw header.equals("Upload-Length")
            ? FhirException.tooLarge(named + " exceeds the limit of " + uploads.maxBytes() + " bytes")
            : FhirException.badRequest(named + " is larger than the largest upload, " + uploads.maxBytes()
                + " bytes (Tus-Max-Size)");
      }
    }
    throw FhirException.badRequest(header + " must be a non-negative whole number, got '"
        + (v.length() > 40 ? v.substring(0, 40) : v) + "'");
  }

  /**
   * The value of a tus header that carries one (Upload-Offset, Upload-Length, Upload-Defer-Length,
   * Upload-Checksum, Upload-Metadata, X-HTTP-Method-Override), or null. The servlet API would answer the first of several
   * lines; none of these is defined as a list whose lines a recipient may join (RFC 9110 §5.3), so
   * two lines, even equal ones, leave the request ambiguous (which offset, which checksum to check)
   * and it is refused rather than read by one of them.
   */
  private static String singleton(Exchange ex, String header) {
    Enumeration<String> lines = ex.request().getHeaders(header);
    if (lines == null || !lines.hasMoreElements()) {
      return null;
    }
    String value = lines.nextElement();
    if (lines.hasMoreElements()) {
      throw FhirException.badRequest("the " + header + " header appears more than once; send it once");
    }
    return value;
  }

  /** tus checksum: {@code Upload-Checksum: <algorithm> <base64 digest>}; 400 for another algorithm. */
  static Checksum checksum(Exchange ex) {
    String h = singleton(ex, "Upload-Checksum");
    if (h == null) {
      return null;
    }
    String[] parts = h.trim().split(" ", 2);
    String algorithm = switch (parts[0]) {
      case "sha1" -> "SHA-1";
      case "sha256" -> "SHA-256";
      default -> throw FhirException.badRequest("checksum algorithm '" + parts[0] + "' is not supported; use one of "
          + CHECKSUM_ALGORITHMS);
    };
    byte[] expected;
    try {
      expected = parts.length == 2 ? Base64.getDecoder().decode(parts[1].trim()) : new byte[0];
    } catch (IllegalArgumentException e) {
      expected = new byte[0];
    }
    if (expected.length != (algorithm.equals("SHA-1") ? 20 : 32)) {
      throw FhirException.badRequest("Upload-Checksum must be '" + parts[0] + " <base64 digest>'");
    }
    return new Checksum(algorithm, expected);
  }

  /**
   * tus creation, Upload-Metadata: comma-separated pairs of a key and a base64 value (which may
   * be left out), keys unique, printable ASCII and without spaces or commas. Values decoded as
   * UTF-8; a key without value maps to "".
   */
  static Map<String, String> parseMetadata(String header) {
    Map<String, String> out = new LinkedHashMap<>();
    if (header == null || header.isBlank()) {
      return out;
    }
    if (header.length() > MAX_METADATA_CHARS) {
      throw FhirException.badRequest("Upload-Metadata has " + header.length() + " characters; at most "
          + MAX_METADATA_CHARS + " are kept");
    }
    String[] pairs = header.split(",");
    for (int i = 0; i < pairs.length; i++) {
      String[] kv = pairs[i].trim().split(" ", 2);
      String key = kv[0];
      if (key.isEmpty() || kv.length == 2 && kv[1].trim().contains(" ")) {
        throw FhirException.badRequest("Upload-Metadata must be comma-separated 'key base64value' pairs");
      }
      // tus 1.0.0: a key SHOULD be ASCII; HEAD repeats it in a header, which takes printable ASCII.
      // The key is named by its place, as repeating it would send back what is refused.
      if (!BinaryAttributes.printableAscii(key)) {
        throw FhirException.badRequest("Upload-Metadata key " + (i + 1) + " (counting from 1) is not printable"
            + " ASCII; a key is printable ASCII without spaces or commas");
      }
      byte[] raw;
      try {
        raw = kv.length == 2 ? Base64.getDecoder().decode(kv[1].trim()) : new byte[0];
      } catch (IllegalArgumentException e) {
        throw FhirException.badRequest("the Upload-Metadata value of '" + abbreviate(key) + "' is not base64");
      }
      // a value is any bytes (tus 1.0.0); one that names what the Binary becomes must be text, not
      // bytes each replaced by U+FFFD on their way into a file name or content type
      String value = !READ_KEYS.contains(key) ? new String(raw, StandardCharsets.UTF_8)
          : StrictUtf8.tryDecode(raw).orElseThrow(() -> FhirException.badRequest(
              "the Upload-Metadata value of '" + key + "' is not UTF-8 text"));
      if (out.put(key, value) != null) {
        throw FhirException.badRequest("Upload-Metadata names '" + abbreviate(key) + "' twice");
      }
    }
    return out;
  }

  /**
   * A content type, reference or id that a response may carry as a header later: metadata values
   * are arbitrary bytes (tus 1.0.0 warns of header smuggling), a header takes printable ASCII.
   */
  private static void requireHeaderSafe(String key, String value) {
    if (value != null && !BinaryAttributes.printableAscii(value)) {
      throw FhirException.badRequest("the Upload-Metadata value of '" + key + "' must be printable ASCII");
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "…" : s;
  }
}
