package org.fhirbox.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.testing.TestBytes.random;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/** tus 1.0.0 requests, written out by hand so that tests see the wire format. */
public final class Tus {
  public static final String CREATE = "fhir/R4/Binary/$upload";
  public static final String OCTETS = "application/offset+octet-stream";
  private final TestClient client;

  public Tus(TestClient client) {
    this.client = client;
  }

  public TestClient client() {
    return client;
  }

  /** {@code Upload-Metadata} of key/value pairs, values base64-encoded. */
  public static String metadata(String... keyValues) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < keyValues.length; i += 2) {
      if (b.length() > 0) {
        b.append(',');
      }
      b.append(keyValues[i]).append(' ')
          .append(Base64.getEncoder().encodeToString(keyValues[i + 1].getBytes(StandardCharsets.UTF_8)));
    }
    return b.toString();
  }

  /** {@code Upload-Checksum} of {@code bytes} with {@code algorithm} (sha1 or sha256). */
  public static String checksum(String algorithm, byte[] bytes) {
    try {
      MessageDigest md = MessageDigest.getInstance(algorithm.equals("sha1") ? "SHA-1" : "SHA-256");
      return algorithm + " " + Base64.getEncoder().encodeToString(md.digest(bytes));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public HttpRequest.Builder request(String pathOrUrl) {
    return client.request(pathOrUrl).header("Tus-Resumable", "1.0.0");
  }

  public HttpResponse<String> create(long length, String metadata) {
    HttpRequest.Builder b = request(CREATE).header("Upload-Length", Long.toString(length))
        .POST(HttpRequest.BodyPublishers.noBody());
    if (metadata != null) {
      b.header("Upload-Metadata", metadata);
    }
    return client.send(b);
  }

  public HttpResponse<String> createDeferred(String metadata) {
    HttpRequest.Builder b = request(CREATE).header("Upload-Defer-Length", "1")
        .POST(HttpRequest.BodyPublishers.noBody());
    if (metadata != null) {
      b.header("Upload-Metadata", metadata);
    }
    return client.send(b);
  }

  /** Creates an upload; its URL. */
  public String upload(long length, String metadata) {
    HttpResponse<String> r = create(length, metadata);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return r.headers().firstValue("Location").orElseThrow();
  }

  public HttpResponse<String> patch(String url, long offset, byte[] bytes, String... headers) {
    HttpRequest.Builder b = request(url).header("Content-Type", OCTETS)
        .header("Upload-Offset", Long.toString(offset))
        .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(bytes));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b);
  }

  public HttpResponse<String> head(String url) {
    return client.send(request(url).method("HEAD", HttpRequest.BodyPublishers.noBody()));
  }

  public HttpResponse<String> delete(String url) {
    return client.send(request(url).DELETE());
  }

  /** The current offset (asserts HEAD answered 200). */
  public long offset(String url) {
    HttpResponse<String> r = head(url);
    assertThat(r.statusCode()).isEqualTo(200);
    return Long.parseLong(r.headers().firstValue("Upload-Offset").orElseThrow());
  }

  /** Sends {@code content} from {@code from} in pieces of {@code piece} bytes; the last response. */
  public HttpResponse<String> send(String url, byte[] content, int from, int piece) {
    HttpResponse<String> last = null;
    for (int at = from; at < content.length; at += piece) {
      byte[] part = java.util.Arrays.copyOfRange(content, at, Math.min(content.length, at + piece));
      last = patch(url, at, part);
      assertThat(last.statusCode()).as(last.body()).isEqualTo(204);
      assertThat(last.headers().firstValue("Upload-Offset")).contains(Long.toString(at + part.length));
    }
    return last;
  }

  /** {@code Binary/{id}/_history/{v}} named by a response's Content-Location, relative to the FHIR base. */
  public static String binaryVersion(HttpResponse<?> r) {
    String loc = r.headers().firstValue("Content-Location").orElseThrow();
    return loc.substring(loc.indexOf("/fhir/R4/") + "/fhir/R4/".length());
  }

  /** The Binary id a response's Content-Location names. */
  public static String binaryId(HttpResponse<?> r) {
    return binaryVersion(r).split("/")[1];
  }
}
