package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.model.ServedType;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.FileBlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Drives the responder over real HTTP: Jetty on 127.0.0.1:0, a FileBlobStore, HttpClient. */
class StorageResponderTest {
  private static final Instant UPDATED = Instant.parse("2024-03-05T07:08:09.654Z");
  private static final String LAST_MODIFIED = "Tue, 05 Mar 2024 07:08:09 GMT";
  private static final int SIZE = 300_000;

  @TempDir static Path dir;
  private static Server server;
  private static FileBlobStore store;
  private static URI base;
  private static final HttpClient client = HttpClient.newHttpClient();
  private static final Map<String, BinaryContent> contents = new ConcurrentHashMap<>();
  private static byte[] data;
  private static volatile Class<?> outputType;
  private static volatile FhirException lastError;

  /** The test route: /{name}[?download=filename], one stored BinaryContent per name. */
  static final class StorageServlet extends HttpServlet {
    private final StorageResponder responder = new StorageResponder();

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      BinaryContent content = contents.get(req.getPathInfo().substring(1));
      outputType = resp.getOutputStream().getClass();
      try {
        responder.respond(req, resp, content, store, req.getParameter("download"), 3600);
      } catch (FhirException e) {
        lastError = e;
        resp.reset(); // as ErrorMapper does: headers set before the error was found are dropped
        resp.setStatus(e.status());
        e.headers().forEach(resp::setHeader);
        resp.setContentType("application/fhir+json");
        resp.getOutputStream().write(("{\"resourceType\":\"OperationOutcome\"}")
            .getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  @BeforeAll
  static void start() throws Exception {
    store = new FileBlobStore(dir.resolve("blobs"));
    data = new byte[SIZE];
    new Random(42).nextBytes(data);
    put("big", data, "application/pdf", "report.pdf");
    put("empty", new byte[0], "application/pdf", null);
    put("svg", "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
        .getBytes(StandardCharsets.UTF_8), "image/svg+xml", "pic.svg");
    put("html", "<html><script>alert(1)</script></html>".getBytes(StandardCharsets.UTF_8),
        "text/html; charset=utf-8", null);
    put("text", "hello".getBytes(StandardCharsets.UTF_8), "text/plain", "hello.txt");
    put("mixed", "--x\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n".getBytes(StandardCharsets.UTF_8),
        "multipart/x-mixed-replace; boundary=x", "feed");
    put("untyped", "x".getBytes(StandardCharsets.UTF_8), null, null);
    put("bad-type", "x".getBytes(StandardCharsets.UTF_8), "text/plain\r\nX-Evil: 1", null);
    put("gone", "lost".getBytes(StandardCharsets.UTF_8), "text/plain", null);
    store.delete(contents.get("gone").blobKey());

    server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.addServlet(new ServletHolder(new StorageServlet()), "/b/*");
    server.setHandler(context);
    server.start();
    base = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/b/");
  }

  @AfterAll
  static void stop() throws Exception {
    server.stop();
    store.close();
  }

  private static void put(String name, byte[] bytes, String type, String filename) throws IOException {
    BlobInfo info = store.put(new ByteArrayInputStream(bytes), Long.MAX_VALUE);
    contents.put(name, new BinaryContent("p", name, 1, info.key(), info.size(), info.sha256Hex(),
        info.sha1Hex(), type, filename, null, UPDATED));
  }

  private static String etag(String name) {
    return contents.get(name).etag();
  }

  private static HttpResponse<byte[]> get(String path, String... headers) throws Exception {
    return send("GET", path, headers);
  }

  private static HttpResponse<byte[]> send(String method, String path, String... headers)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      b.headers(headers);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  private static byte[] slice(long first, long last) {
    return Arrays.copyOfRange(data, (int) first, (int) last + 1);
  }

  @Test
  void fullGetSendsBytesAndHeaders() throws Exception {
    HttpResponse<byte[]> r = get("big");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(data);
    assertThat(header(r, "Content-Length")).isEqualTo(Integer.toString(SIZE));
    assertThat(header(r, "Content-Type")).isEqualTo("application/pdf");
    assertThat(header(r, "Accept-Ranges")).isEqualTo("bytes");
    assertThat(header(r, "ETag")).isEqualTo(etag("big"));
    assertThat(header(r, "Last-Modified")).isEqualTo(LAST_MODIFIED);
    assertThat(header(r, "Cache-Control")).isEqualTo("private, max-age=3600");
    assertThat(header(r, "X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(header(r, "Content-Disposition"))
        .isEqualTo("inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
    // a PDF opened from our origin runs sandboxed, in an opaque origin
    assertThat(header(r, "Content-Security-Policy")).isEqualTo("sandbox");
  }

  @Test
  void headSendsHeadersOnly() throws Exception {
    HttpResponse<byte[]> r = send("HEAD", "big", "Range", "bytes=0-9");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEmpty();
    assertThat(header(r, "Content-Length")).isEqualTo(Integer.toString(SIZE));
    assertThat(header(r, "ETag")).isEqualTo(etag("big"));
    assertThat(header(r, "Accept-Ranges")).isEqualTo("bytes");
  }

  @Test
  void singleRangeReturnsPartialContent() throws Exception {
    HttpResponse<byte[]> r = get("big", "Range", "bytes=1000-1999");

    assertThat(r.statusCode()).isEqualTo(206);
    assertThat(header(r, "Content-Range")).isEqualTo("bytes 1000-1999/" + SIZE);
    assertThat(header(r, "Content-Length")).isEqualTo("1000");
    assertThat(header(r, "Content-Type")).isEqualTo("application/pdf");
    assertThat(r.body()).isEqualTo(slice(1000, 1999));
  }

  @Test
  void largeRangeIsSentFromTheMappedFile() throws Exception {
    HttpResponse<byte[]> r = get("big", "Range", "bytes=10-250009");

    assertThat(r.statusCode()).isEqualTo(206);
    assertThat(r.body()).isEqualTo(slice(10, 250_009));
  }

  @Test
  void jettyOutputAcceptsMappedBuffers() throws Exception {
    get("big", "Range", "bytes=0-99999");

    // The zero-copy path depends on this; a Jetty upgrade that wraps the output would lose it.
    assertThat(outputType).isEqualTo(org.eclipse.jetty.ee10.servlet.HttpOutput.class);
  }

  @Test
  void openRangeRunsToTheEnd() throws Exception {
    HttpResponse<byte[]> r = get("big", "Range", "bytes=299000-");

    assertThat(r.statusCode()).isEqualTo(206);
    assertThat(header(r, "Content-Range")).isEqualTo("bytes 299000-299999/" + SIZE);
    assertThat(r.body()).isEqualTo(slice(299_000, SIZE - 1));
  }

  @Test
  void suffixRangeReturnsLastBytes() throws Exception {
    HttpResponse<byte[]> r = get("big", "Range", "bytes=-500");

    assertThat(r.statusCode()).isEqualTo(206);
    assertThat(header(r, "Content-Range")).isEqualTo("bytes 299500-299999/" + SIZE);
    assertThat(r.body()).isEqualTo(slice(SIZE - 500, SIZE - 1));
  }

  @Test
  void multipleRangesReturnMultipartByteranges() throws Exception {
    HttpResponse<byte[]> r = get("big", "Range", "bytes=0-99, 100000-199999,-10");

    assertThat(r.statusCode()).isEqualTo(206);
    String type = header(r, "Content-Type");
    assertThat(type).startsWith("multipart/byteranges; boundary=");
    assertThat(header(r, "Content-Length")).isEqualTo(Integer.toString(r.body().length));
    assertThat(header(r, "Content-Range")).isNull();
    List<Part> parts = Part.parse(r.body(), type.substring(type.indexOf("boundary=") + 9));
    assertThat(parts).hasSize(3);
    assertThat(parts.get(0).contentRange()).isEqualTo("bytes 0-99/" + SIZE);
    assertThat(parts.get(0).body()).isEqualTo(slice(0, 99));
    assertThat(parts.get(1).contentRange()).isEqualTo("bytes 100000-199999/" + SIZE);
    assertThat(parts.get(1).body()).isEqualTo(slice(100_000, 199_999));
    assertThat(parts.get(2).contentRange()).isEqualTo("bytes 299990-299999/" + SIZE);
    assertThat(parts.get(2).body()).isEqualTo(slice(299_990, SIZE - 1));
    assertThat(parts).allSatisfy(p -> assertThat(p.contentType()).isEqualTo("application/pdf"));
  }

  @Test
  void overlappingRangesAreSentOnce() throws Exception {
    HttpResponse<byte[]> r = get("big", "Range", "bytes=100-199,150-299");

    assertThat(r.statusCode()).isEqualTo(206);
    assertThat(header(r, "Content-Range")).isEqualTo("bytes 100-299/" + SIZE);
    assertThat(r.body()).isEqualTo(slice(100, 299));
  }

  @Test
  void unsatisfiableRangeIs416WithContentRange() throws Exception {
    HttpResponse<byte[]> r = get("big", "Range", "bytes=300000-");

    assertThat(r.statusCode()).isEqualTo(416);
    assertThat(header(r, "Content-Range")).isEqualTo("bytes */" + SIZE);
  }

  @Test
  void aRangeFromAFirstPositionOfEmptyContentIs416AndASuffixGetsTheEmptyContent() throws Exception {
    HttpResponse<byte[]> r = get("empty", "Range", "bytes=0-");

    assertThat(r.statusCode()).isEqualTo(416);
    assertThat(header(r, "Content-Range")).isEqualTo("bytes */0");
    HttpResponse<byte[]> suffix = get("empty", "Range", "bytes=-5");
    assertThat(suffix.statusCode()).isEqualTo(200);
    assertThat(suffix.body()).isEmpty();
    assertThat(header(suffix, "Content-Length")).isEqualTo("0");
    HttpResponse<byte[]> full = get("empty");
    assertThat(full.statusCode()).isEqualTo(200);
    assertThat(full.body()).isEmpty();
    assertThat(header(full, "Content-Length")).isEqualTo("0");
  }

  @Test
  void invalidRangeIsIgnored() throws Exception {
    HttpResponse<byte[]> r = get("big", "Range", "bytes=5-1");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(data);
  }

  @Test
  void ifRangeWithCurrentEtagHonoursRange() throws Exception {
    HttpResponse<byte[]> r = get("big", "Range", "bytes=0-9", "If-Range", etag("big"));

    assertThat(r.statusCode()).isEqualTo(206);
    assertThat(r.body()).isEqualTo(slice(0, 9));
  }

  @Test
  void ifRangeWithOtherOrWeakEtagSendsEverything() throws Exception {
    for (String validator : List.of("\"other\"", "W/" + etag("big"), "garbage")) {
      HttpResponse<byte[]> r = get("big", "Range", "bytes=0-9", "If-Range", validator);

      assertThat(r.statusCode()).as(validator).isEqualTo(200);
      assertThat(r.body()).as(validator).isEqualTo(data);
    }
  }

  @Test
  void ifRangeWithLastModifiedDateHonoursRangeOtherDatesDoNot() throws Exception {
    HttpResponse<byte[]> same = get("big", "Range", "bytes=0-9", "If-Range", LAST_MODIFIED);
    HttpResponse<byte[]> later = get("big", "Range", "bytes=0-9", "If-Range",
        "Tue, 05 Mar 2024 07:08:10 GMT");

    assertThat(same.statusCode()).isEqualTo(206);
    assertThat(later.statusCode()).isEqualTo(200);
    assertThat(later.body()).isEqualTo(data);
  }

  @Test
  void ifNoneMatchWithCurrentEtagIs304() throws Exception {
    for (String value : List.of(etag("big"), "W/" + etag("big"), "\"x\", " + etag("big"), "*")) {
      HttpResponse<byte[]> r = get("big", "If-None-Match", value);

      assertThat(r.statusCode()).as(value).isEqualTo(304);
      assertThat(r.body()).isEmpty();
      assertThat(header(r, "ETag")).isEqualTo(etag("big"));
      assertThat(header(r, "Cache-Control")).isEqualTo("private, max-age=3600");
      // RFC 9110 §8.6: a 304's Content-Length, if any, is that of the 200 it stands for, never 0
      r.headers().firstValue("Content-Length").ifPresent(length -> assertThat(length).as(value)
          .isEqualTo(Integer.toString(SIZE)));
    }
  }

  @Test
  void ifNoneMatchWithOtherEtagSendsContent() throws Exception {
    HttpResponse<byte[]> r = get("big", "If-None-Match", "\"other\"",
        "If-Modified-Since", LAST_MODIFIED);

    // RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present.
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(data);
  }

  @Test
  void ifModifiedSinceIs304UnlessModifiedLater() throws Exception {
    assertThat(get("big", "If-Modified-Since", LAST_MODIFIED).statusCode()).isEqualTo(304);
    assertThat(get("big", "If-Modified-Since", "Tuesday, 05-Mar-24 07:08:09 GMT").statusCode())
        .isEqualTo(304);
    assertThat(get("big", "If-Modified-Since", "Tue, 05 Mar 2024 07:08:08 GMT").statusCode())
        .isEqualTo(200);
    assertThat(get("big", "If-Modified-Since", "not a date").statusCode()).isEqualTo(200);
  }

  @Test
  void notModifiedWinsOverAnUnsatisfiableRange() throws Exception {
    HttpResponse<byte[]> r = get("big", "If-None-Match", etag("big"), "Range", "bytes=999999-");

    assertThat(r.statusCode()).isEqualTo(304);
  }

  @Test
  void failedIfMatchIs412() throws Exception {
    assertThat(get("big", "If-Match", "\"other\"").statusCode()).isEqualTo(412);
    assertThat(get("big", "If-Match", "W/" + etag("big")).statusCode()).isEqualTo(412);
    assertThat(get("big", "If-Match", etag("big")).statusCode()).isEqualTo(200);
    assertThat(get("big", "If-Unmodified-Since", "Mon, 04 Mar 2024 00:00:00 GMT").statusCode())
        .isEqualTo(412);
  }

  @Test
  void svgIsSandboxedAndDownloaded() throws Exception {
    HttpResponse<byte[]> r = get("svg");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(header(r, "Content-Type")).isEqualTo("image/svg+xml");
    assertThat(header(r, "Content-Security-Policy")).isEqualTo("sandbox");
    assertThat(header(r, "Content-Disposition")).startsWith("attachment; filename=\"pic.svg\"");
  }

  @Test
  void htmlIsSandboxedAndDownloaded() throws Exception {
    HttpResponse<byte[]> r = get("html");

    assertThat(header(r, "Content-Type")).startsWith("text/html");
    assertThat(header(r, "Content-Security-Policy")).isEqualTo("sandbox");
    assertThat(header(r, "Content-Disposition")).isEqualTo("attachment");
    assertThat(header(r, "X-Content-Type-Options")).isEqualTo("nosniff");
  }

  @Test
  void aFileServedAsADownloadIsRefusedToAFrameThatWouldStartTheDownload() throws Exception {
    // an Attachment's contentType is the writer's: one saying application/pdf over an HTML Binary
    // gets a frame in a page that previews PDFs, which would download the file unasked
    for (String dest : List.of("iframe", "frame", "embed", "object", "fencedframe", "IFrame")) {
      for (String name : List.of("html", "svg", "mixed", "untyped")) {
        lastError = null;
        HttpResponse<byte[]> r = get(name, "Sec-Fetch-Dest", dest);

        assertThat(r.statusCode()).as(name + " in " + dest).isEqualTo(403);
        assertThat(lastError.getMessage()).as(name).contains("is served only as a download")
            .contains("Sec-Fetch-Dest: " + dest);
        assertThat(header(r, "Content-Disposition")).as(name).isNull();
      }
    }
    // shown as it is (a PDF preview, text), opened by navigating, or fetched by a script: served
    assertThat(get("text", "Sec-Fetch-Dest", "iframe").statusCode()).isEqualTo(200);
    assertThat(get("big", "Sec-Fetch-Dest", "embed").statusCode()).isEqualTo(200);
    for (String dest : List.of("document", "empty", "image", "video")) {
      HttpResponse<byte[]> r = get("html", "Sec-Fetch-Dest", dest);
      assertThat(r.statusCode()).as(dest).isEqualTo(200);
      assertThat(header(r, "Content-Disposition")).as(dest).isEqualTo("attachment");
      // a cache must not hand a frame the download it would refuse
      assertThat(r.headers().allValues("Vary")).as(dest).contains("Sec-Fetch-Dest");
    }
    assertThat(get("text", "Sec-Fetch-Dest", "iframe").headers().allValues("Vary")).doesNotContain("Sec-Fetch-Dest");
    // nor does a frame start a download that its URL asks for
    assertThat(get("big?download=report.pdf", "Sec-Fetch-Dest", "iframe").statusCode()).isEqualTo(403);
    assertThat(get("big?download=report.pdf", "Sec-Fetch-Dest", "document").statusCode()).isEqualTo(200);
  }

  @Test
  void aMissingBlobIsTheSameErrorForGetAndHead() throws Exception {
    for (String method : List.of("GET", "HEAD")) {
      lastError = null;
      HttpResponse<byte[]> r = send(method, "gone");

      assertThat(r.statusCode()).as(method).isEqualTo(500);
      assertThat(lastError).as(method).isNotNull();
      assertThat(lastError.issues().get(0).type().toCode()).isEqualTo("exception");
      assertThat(lastError.getMessage()).isEqualTo("the stored content of Binary/gone version 1 is missing");
    }
    assertThat(send("GET", "gone", "Range", "bytes=0-1").statusCode()).isEqualTo(500);
  }

  @Test
  void onlyTypesThatAreShownAsTheyAreServeInline() {
    for (String t : List.of("text/html", "TEXT/HTML; charset=utf-8", "application/xhtml+xml",
        "image/svg+xml", "IMAGE/SVG+XML; charset=utf-8", "application/xml", "text/xml", "application/atom+xml",
        "application/javascript", "text/javascript", "application/ecmascript", "text/markdown",
        "text/xsl", "application/x-shockwave-flash", "multipart/x-mixed-replace; boundary=x",
        "application/octet-stream", "application/dicom", "application/fhir+json", "text/vtt", "font/woff2")) {
      assertThat(ServedType.isInline(t)).as(t).isFalse();
      assertThat(ServedType.of(t).attachment()).as(t).isTrue();
    }
    for (String t : List.of("text/plain", "text/plain; charset=utf-8", "text/csv", "image/png", "IMAGE/JPEG",
        "image/webp", "application/pdf", "application/json", "video/mp4", "audio/mpeg")) {
      assertThat(ServedType.isInline(t)).as(t).isTrue();
      assertThat(ServedType.of(t).attachment()).as(t).isFalse();
    }
  }

  @Test
  void aTypeNoListNamesIsDownloaded() throws Exception {
    HttpResponse<byte[]> r = get("mixed");

    assertThat(header(r, "Content-Type")).startsWith("multipart/x-mixed-replace");
    assertThat(header(r, "Content-Disposition")).isEqualTo("attachment; filename=\"feed\"; filename*=UTF-8''feed");
    assertThat(header(r, "Content-Security-Policy")).isEqualTo("sandbox");
  }

  @Test
  void plainTextStaysInline() throws Exception {
    HttpResponse<byte[]> r = get("text");

    assertThat(header(r, "Content-Security-Policy")).isEqualTo("sandbox");
    assertThat(header(r, "Content-Disposition")).startsWith("inline;");
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("hello");
  }

  @Test
  void missingOrMalformedContentTypeIsOctetStream() throws Exception {
    assertThat(header(get("untyped"), "Content-Type")).isEqualTo("application/octet-stream");
    HttpResponse<byte[]> bad = get("bad-type");
    assertThat(header(bad, "Content-Type")).isEqualTo("application/octet-stream");
    assertThat(header(bad, "X-Evil")).isNull();
  }

  @Test
  void downloadFilenameWithNonAsciiCharactersIsEncoded() throws Exception {
    HttpResponse<byte[]> r = get("big?download=Bef%C3%BCnd%20%E2%82%AC%20%22x%22.pdf");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(header(r, "Content-Disposition")).isEqualTo(
        "attachment; filename=\"Bef_nd _ _x_.pdf\"; filename*=UTF-8''Bef%C3%BCnd%20%E2%82%AC%20%22x%22.pdf");
    assertThat(r.body()).isEqualTo(data);
  }

  /** One part of a multipart/byteranges body. */
  record Part(String contentType, String contentRange, byte[] body) {
    static List<Part> parse(byte[] body, String boundary) {
      String text = new String(body, StandardCharsets.ISO_8859_1);
      String delimiter = "--" + boundary;
      assertThat(text).startsWith(delimiter + "\r\n").endsWith("\r\n" + delimiter + "--\r\n");
      List<Part> parts = new ArrayList<>();
      Pattern header = Pattern.compile("Content-Type: (.*)\r\nContent-Range: (.*)\r\n\r\n");
      int at = 0;
      while (true) {
        int start = text.indexOf(delimiter, at) + delimiter.length();
        if (text.startsWith("--", start)) {
          return parts;
        }
        Matcher m = header.matcher(text);
        assertThat(m.find(start + 2)).isTrue();
        assertThat(m.start()).isEqualTo(start + 2);
        Matcher range = Pattern.compile("bytes (\\d+)-(\\d+)/\\d+").matcher(m.group(2));
        assertThat(range.matches()).isTrue();
        int length = (int) (Long.parseLong(range.group(2)) - Long.parseLong(range.group(1)) + 1);
        byte[] bytes = Arrays.copyOfRange(body, m.end(), m.end() + length);
        assertThat(text.substring(m.end() + length)).startsWith("\r\n" + delimiter);
        parts.add(new Part(m.group(1), m.group(2), bytes));
        at = m.end() + length;
      }
    }
  }
}
