package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import com.sun.net.httpserver.HttpServer;
import org.apache.commons.io.input.BoundedInputStream;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Moves a file larger than the server's heap (192 MiB, three times the {@code -Xmx64m}) up and down,
 * over the raw Binary API and over the signed URL, and compares SHA-256: proof that no path
 * holds the content in memory. One server process takes every transfer of the class, one after
 * another, so that what one left in memory would count against the next.
 */
@SlowTest
class LargeFileTest {
  /** The server's heap: small, so that a file three times as large moves quickly. */
  static final String HEAP = "64m";
  static final long SIZE = 192L << 20;
  private static HttpServer upstream;
  private static String origin;
  /** What the upstream served last. */
  private static final AtomicReference<Generated> served = new AtomicReference<>();
  private static ServerProcess server;

  /**
   * An upstream on loopback serving the file, and the server that may import from it (loopback is
   * refused by default, so it is allowed explicitly).
   */
  @BeforeAll
  static void start() throws Exception {
    upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    upstream.createContext("/files/big.mp4", exchange -> {
      Generated content = new Generated(SIZE);
      served.set(content);
      exchange.getResponseHeaders().set("Content-Type", "video/mp4");
      exchange.sendResponseHeaders(200, SIZE);
      try (OutputStream out = exchange.getResponseBody()) {
        content.transferTo(out);
      }
    });
    upstream.start();
    origin = "http://127.0.0.1:" + upstream.getAddress().getPort();
    server = new ServerProcess(Files.createTempDirectory("fhirbox-proc"), HEAP,
        Map.of("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", origin + "/files/"));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (server != null) {
        server.close();
      }
    } finally {
      upstream.stop(0);
    }
  }

  /** Deterministic content generated on the fly: 1 MiB random blocks, each stamped with its index. */
  static final class Generated extends InputStream {
    private final byte[] block = new byte[1 << 20];
    private final MessageDigest sha = sha256();
    private long pos;
    private final long size;

    Generated(long size) {
      this.size = size;
      new Random(42).nextBytes(block);
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos >= size) {
        return -1;
      }
      int inBlock = (int) (pos % block.length);
      if (inBlock == 0) {
        long index = pos / block.length;
        for (int i = 0; i < 8; i++) {
          block[i] = (byte) (index >>> (8 * i));
        }
      }
      int n = (int) Math.min(Math.min(len, block.length - inBlock), size - pos);
      System.arraycopy(block, inBlock, b, off, n);
      sha.update(b, off, n);
      pos += n;
      return n;
    }

    String hex() {
      return HexFormat.of().formatHex(sha.digest());
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String download(HttpClient http, HttpRequest req) throws IOException, InterruptedException {
    HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValueAsLong("Content-Length")).hasValue(SIZE);
    MessageDigest sha = sha256();
    long total = 0;
    try (InputStream in = r.body()) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) >= 0) {
        sha.update(buf, 0, n);
        total += n;
      }
    }
    assertThat(total).isEqualTo(SIZE);
    return HexFormat.of().formatHex(sha.digest());
  }

  /**
   * Ingestion from an external URL streams too: a 192 MiB body served by the upstream is imported
   * by the server with a 64 MiB heap, and reads back with the same SHA-256.
   */
  @Test
  void importOfAFileLargerThanHeapStreams() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String params = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"url\",\"valueUrl\":\""
        + origin + "/files/big.mp4\"}]}";
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(
            URI.create(server.baseUrl + "fhir/R4/Binary/$import"))
        .header("Content-Type", "application/fhir+json").header("Authorization", server.authorization())
        .POST(HttpRequest.BodyPublishers.ofString(params)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(created.statusCode()).as(created.body() + server.stderr()).isEqualTo(201);
    assertThat(created.body()).contains("\"contentType\":\"video/mp4\"");
    Matcher id = Pattern.compile("\"id\":\"([^\"]+)\"").matcher(created.body());
    assertThat(id.find()).isTrue();
    String raw = download(http, HttpRequest.newBuilder(URI.create(server.baseUrl + "fhir/R4/Binary/" + id.group(1)))
        .header("Accept", "*/*").header("Authorization", server.authorization()).build());
    assertThat(raw).isEqualTo(served.get().hex());
    assertThat(server.process.isAlive()).as(server.stderr()).isTrue();
  }

  /** The next {@code n} bytes of {@code in}, leaving it open. */
  static InputStream slice(InputStream in, long n) throws IOException {
    return BoundedInputStream.builder().setInputStream(in).setMaxCount(n).setPropagateClose(false).get();
  }

  /**
   * The same through tus: a 192 MiB upload in three PATCHes of 64 MiB to a server with a 64 MiB
   * heap, each piece appended to the upload's file as it arrives, the digests kept between pieces.
   */
  @Test
  void tusUploadLargerThanHeapStreams() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(
            URI.create(server.baseUrl + "fhir/R4/Binary/$upload"))
        .header("Tus-Resumable", "1.0.0").header("Upload-Length", Long.toString(SIZE))
        .header("Upload-Metadata", "filetype dmlkZW8vbXA0").header("Authorization", server.authorization())
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(created.statusCode()).as(created.body() + server.stderr()).isEqualTo(201);
    String url = created.headers().firstValue("Location").orElseThrow();
    Generated content = new Generated(SIZE);
    long piece = SIZE / 3;
    HttpResponse<String> last = null;
    for (long offset = 0; offset < SIZE; offset += piece) {
      InputStream body = slice(content, Math.min(piece, SIZE - offset));
      last = http.send(HttpRequest.newBuilder(URI.create(url)).header("Tus-Resumable", "1.0.0")
          .header("Content-Type", "application/offset+octet-stream").header("Upload-Offset", Long.toString(offset))
          .header("Authorization", server.authorization())
          .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> body)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(last.statusCode()).as(last.body() + server.stderr()).isEqualTo(204);
    }
    String expected = content.hex();
    String location = last.headers().firstValue("Content-Location").orElseThrow();
    HttpResponse<InputStream> head = http.send(HttpRequest.newBuilder(URI.create(location))
        .header("Accept", "*/*").header("Authorization", server.authorization())
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofInputStream());
    // the content's ETag names its blob (32 hex digits); the bytes are compared by their SHA-256
    assertThat(head.headers().firstValue("ETag")).hasValueSatisfying(e -> assertThat(e).matches(TestBytes.BLOB_ETAG));
    String raw = download(http, HttpRequest.newBuilder(URI.create(location)).header("Accept", "*/*")
        .header("Authorization", server.authorization()).build());
    assertThat(raw).isEqualTo(expected);
    assertThat(server.process.isAlive()).as(server.stderr()).isTrue();
  }

  @Test
  void uploadLargerThanHeapStreamsUpAndDown() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    Generated content = new Generated(SIZE);
    HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(server.baseUrl + "fhir/R4/Binary"))
        .header("Content-Type", "video/mp4").header("Authorization", server.authorization())
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> content)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(created.statusCode()).as(created.body() + server.stderr()).isEqualTo(201);
    String expected = content.hex();
    Matcher id = Pattern.compile("\"id\":\"([^\"]+)\"").matcher(created.body());
    assertThat(id.find()).isTrue();
    Matcher url = Pattern.compile("\"url\":\"([^\"]+)\"").matcher(created.body());
    assertThat(url.find()).isTrue();

    String raw = download(http, HttpRequest.newBuilder(URI.create(server.baseUrl + "fhir/R4/Binary/" + id.group(1)))
        .header("Accept", "*/*").header("Authorization", server.authorization()).build());
    assertThat(raw).isEqualTo(expected);
    String signed = download(http, HttpRequest.newBuilder(URI.create(url.group(1))).build());
    assertThat(signed).isEqualTo(expected);
    assertThat(server.process.isAlive()).as(server.stderr()).isTrue();
  }
}
