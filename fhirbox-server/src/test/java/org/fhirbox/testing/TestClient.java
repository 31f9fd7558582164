package org.fhirbox.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;

/** Plain HTTP against a test server, so tests see the wire format. Adds credentials once auth exists. */
public final class TestClient {
  private final String baseUrl;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Map<String, String> defaultHeaders = new LinkedHashMap<>();

  public TestClient(String baseUrl) {
    this.baseUrl = baseUrl;
  }

  public TestClient withHeader(String name, String value) {
    TestClient c = new TestClient(baseUrl);
    c.defaultHeaders.putAll(defaultHeaders);
    c.defaultHeaders.put(name, value);
    return c;
  }

  public String baseUrl() {
    return baseUrl;
  }

  public HttpClient http() {
    return http;
  }

  /** A request builder for a path relative to the server root ("fhir/R4/Patient") or an absolute URL. */
  public HttpRequest.Builder request(String pathOrUrl) {
    String url = pathOrUrl.startsWith("http") ? pathOrUrl : baseUrl + pathOrUrl;
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5));
    defaultHeaders.forEach(b::header);
    return b;
  }

  public HttpResponse<String> send(HttpRequest.Builder req) {
    try {
      return http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public HttpResponse<byte[]> sendBytes(HttpRequest.Builder req) {
    try {
      return http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public HttpResponse<String> get(String path) {
    return send(request(path).header("Accept", "application/fhir+json").GET());
  }

  public HttpResponse<String> postJson(String path, String json) {
    return send(request(path).header("Content-Type", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  public HttpResponse<String> putJson(String path, String json) {
    return send(request(path).header("Content-Type", "application/fhir+json")
        .PUT(HttpRequest.BodyPublishers.ofString(json)));
  }

  public HttpResponse<String> delete(String path) {
    return send(request(path).DELETE());
  }

  public HttpResponse<String> postBytes(String path, String contentType, byte[] body) {
    HttpRequest.Builder b = request(path).POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return send(b);
  }

  /** Posts the batch or transaction {@code json} to the base; its answer, which must be 200. */
  public Bundle postBundle(String json) {
    HttpResponse<String> r = postJson("fhir/R4", json);
    if (r.statusCode() != 200) {
      throw new AssertionError("expected 200 for the Bundle, got " + r.statusCode() + ": " + r.body());
    }
    return parse(r, Bundle.class);
  }

  public <T extends IBaseResource> T parse(HttpResponse<String> resp, Class<T> type) {
    return TestServer.FHIR.newJsonParser().parseResource(type, resp.body());
  }

  public String json(IBaseResource r) {
    return TestServer.FHIR.newJsonParser().encodeResourceToString(r);
  }

  /** The id of a resource this request created; fails unless it answered 201. */
  public static String createdId(HttpResponse<String> r) {
    org.assertj.core.api.Assertions.assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("id").asText();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Creates {@code json}, whose {@code resourceType} comes first, and returns its id; fails unless
   * the server answered 201.
   */
  public String create(String json) {
    String type = json.substring(17, json.indexOf('"', 17));
    return createdId(postJson("fhir/R4/" + type, json));
  }

  /** The ids on the first page of a search ({@code Patient?name=x}); fails unless it answered 200. */
  public List<String> foundIds(String query) {
    HttpResponse<String> r = get("fhir/R4/" + query);
    org.assertj.core.api.Assertions.assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(200);
    return parse(r, org.hl7.fhir.r4.model.Bundle.class).getEntry().stream()
        .map(e -> e.getResource().getIdElement().getIdPart()).toList();
  }

  /**
   * Uploads {@code body} raw to {@code path} ({@code fhir/R4/Binary?_filename=a.pdf}) under the
   * {@code securityContext} reference and returns the Binary's id; fails unless it answered 201.
   */
  public String createBinary(String path, String contentType, String securityContext, byte[] body) {
    return createdId(send(request(path).header("Content-Type", contentType)
        .header("X-Security-Context", securityContext).POST(HttpRequest.BodyPublishers.ofByteArray(body))));
  }

  /** The status of a raw (non-FHIR) read of a Binary's content. */
  public int rawBinaryStatus(String binaryId) {
    return sendBytes(request("fhir/R4/Binary/" + binaryId).GET()).statusCode();
  }
}
