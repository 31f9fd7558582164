package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every route answers a method it does not take with 405 and an {@code Allow} header naming the
 * ones it does (RFC 9110 §15.5.6: the origin server must send it), in an OperationOutcome where the
 * route speaks FHIR.
 */
class MethodNotAllowedTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  static Stream<Arguments> routes() {
    return Stream.of(
        Arguments.of("PROPFIND", "fhir/R4/Patient", "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS", true),
        Arguments.of("POST", "fhir/R4/Patient/p1", "GET, HEAD, PUT, DELETE, PATCH", true),
        Arguments.of("PUT", "fhir/R4/Patient/p1/_history", "GET, HEAD", true),
        Arguments.of("DELETE", "fhir/R4/_history", "GET, HEAD", true),
        Arguments.of("POST", "fhir/R4/Patient/_history", "GET, HEAD", true),
        Arguments.of("DELETE", "fhir/R4/metadata", "GET, HEAD", true),
        Arguments.of("POST", "fhir/R4/metadata", "GET, HEAD", true),
        Arguments.of("PUT", "fhir/R4/$versions", "GET, HEAD", true),
        Arguments.of("GET", "fhir/R4", "POST, OPTIONS", true),
        Arguments.of("OPTIONS", "fhir/R4/Patient/p1", "GET, HEAD, PUT, DELETE, PATCH", true),
        Arguments.of("OPTIONS", "fhir/R4/metadata", "GET, HEAD", true),
        Arguments.of("GET", "fhir/R4/Binary/$upload-url", "POST", true),
        Arguments.of("DELETE", "fhir/R4/Binary/b1/$presigned-url", "GET, HEAD, POST", true),
        Arguments.of("PUT", "fhir/R4/Binary/$upload", "POST, OPTIONS", true),
        Arguments.of("GET", "fhir/R4/Binary/$upload/0123456789abcdef0123456789abcdef", "HEAD, PATCH, DELETE, OPTIONS",
            true),
        Arguments.of("PUT", "admin/clients", "GET, HEAD, POST", true),
        Arguments.of("DELETE", "admin/users", "GET, HEAD, POST", true),
        Arguments.of("DELETE", "admin/jobs", "GET, HEAD", true),
        Arguments.of("POST", "storage/b1/1", "GET, HEAD", true),
        Arguments.of("PUT", "account/set-password", "GET, HEAD, POST", false),
        Arguments.of("POST", "app/config.json", "GET, HEAD", false),
        Arguments.of("GET", "oauth2/token", "POST", false),
        Arguments.of("PUT", "oauth2/authorize", "GET, HEAD, POST", false),
        Arguments.of("POST", "metrics", "GET, HEAD", false),
        Arguments.of("PUT", "healthz", "GET, HEAD", false),
        Arguments.of("DELETE", "readyz", "GET, HEAD", false));
  }

  @ParameterizedTest(name = "{0} /{1}")
  @MethodSource("routes")
  void aMethodTheRouteDoesNotTakeGets405WithAllow(String method, String path, String allow, boolean fhir) {
    HttpResponse<String> r = http().send(http().request(path).header("Tus-Resumable", "1.0.0")
        .method(method, HttpRequest.BodyPublishers.noBody()));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(405);
    assertThat(r.headers().firstValue("Allow")).hasValue(allow);
    if (fhir) {
      assertThat(r.body()).contains("\"resourceType\":\"OperationOutcome\"").contains("not allowed");
    }
  }

  /**
   * A plain OPTIONS of the FHIR base or of a type, without credentials, is 200 with {@code Allow}
   * naming the methods the path takes (RFC 9110 §9.3.7); the base's carries the CapabilityStatement,
   * as HAPI FHIR's does. A CORS preflight of the same path is still answered as one (204).
   */
  @ParameterizedTest(name = "OPTIONS /{0}")
  @CsvSource(delimiter = ';', value = {"fhir/R4;POST, OPTIONS",
      "fhir/R4/Patient;GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS",
      "fhir/R4/Binary;GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS"})
  void aPlainOptionsOfTheBaseOrATypeIs200WithAllow(String path, String allow) {
    TestClient anonymous = new TestClient(http().baseUrl());
    HttpResponse<String> r = anonymous.send(anonymous.request(path)
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Allow")).hasValue(allow);
    if (path.equals("fhir/R4")) {
      assertThat(r.body()).contains("\"resourceType\":\"CapabilityStatement\"");
    } else {
      assertThat(r.body()).isEmpty();
    }
    HttpResponse<String> preflight = anonymous.send(anonymous.request(path).header("Origin", "https://app.example.org")
        .header("Access-Control-Request-Method", "POST").method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
    assertThat(preflight.statusCode()).isEqualTo(204);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Methods").orElseThrow()).contains("POST");
    assertThat(anonymous.send(anonymous.request("fhir/R4/Nonsense").method("OPTIONS",
        HttpRequest.BodyPublishers.noBody())).statusCode()).isEqualTo(404);
  }

  /**
   * RFC 9110 §9.1: HEAD on the OAuth routes, the set-password page and the health checks is
   * answered as GET is, without a body.
   */
  @ParameterizedTest(name = "HEAD /{0}")
  @ValueSource(strings = {"oauth2/authorize?client_id=nobody", "oauth2/userinfo", "account/set-password?token=unknown",
      "account/set-password", "healthz", "readyz"})
  void headIsAnsweredWhereGetIsOnThePagesAndChecks(String path) {
    HttpResponse<String> get = new TestClient(http().baseUrl()).send(new TestClient(http().baseUrl()).request(path)
        .GET());
    HttpResponse<String> head = new TestClient(http().baseUrl()).send(new TestClient(http().baseUrl()).request(path)
        .method("HEAD", HttpRequest.BodyPublishers.noBody()));

    assertThat(head.statusCode()).isEqualTo(get.statusCode()).isNotEqualTo(405);
    assertThat(head.headers().firstValue("Content-Type")).isEqualTo(get.headers().firstValue("Content-Type"));
    assertThat(head.body()).isEmpty();
  }

  /** RFC 9110 §9.1: the admin API's lists answer HEAD as GET, with its headers and no body. */
  @ParameterizedTest(name = "HEAD /{0}")
  @ValueSource(strings = {"admin/clients", "admin/users", "admin/jobs"})
  void headIsAnsweredWhereGetIsOnTheAdminRoutes(String path) {
    HttpResponse<String> get = http().send(http().request(path).GET());
    HttpResponse<String> head = http().send(http().request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()));

    assertThat(head.statusCode()).as(head.body()).isEqualTo(get.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("Content-Type")).isEqualTo(get.headers().firstValue("Content-Type"));
    assertThat(head.headers().firstValue("Cache-Control")).hasValue("no-store");
    assertThat(head.body()).isEmpty();
  }

  /** RFC 9110 §9.1: wherever GET is allowed, so is HEAD, with GET's headers and no body. */
  @ParameterizedTest(name = "HEAD /{0}")
  @ValueSource(strings = {"fhir/R4/Patient", "fhir/R4/Patient?name=nobody", "fhir/R4/_history",
      "fhir/R4/Patient/_history", "fhir/R4/$versions", "fhir/R4/metadata"})
  void headIsAnsweredWhereGetIs(String path) {
    HttpResponse<String> r = http().send(http().request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()));

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+json");
    assertThat(r.body()).isEmpty();
  }

  /**
   * HEAD of a read or vread, of a resource and of a Binary as FHIR JSON or XML, sends the
   * Content-Length its GET sends, or none: RFC 9110 §8.6 forbids any other value (a HEAD that said
   * 0 told a client the resource is empty).
   */
  @ParameterizedTest(name = "HEAD {0}")
  @ValueSource(strings = {"Patient/{p}", "Patient/{p}/_history/1", "Patient/{p}?_elements=photo",
      "Binary/{b}?_format=json", "Binary/{b}/_history/1?_format=json", "Binary/{b}?_format=xml"})
  void headOfAReadSendsTheContentLengthOfItsGet(String template) {
    String binary = TestClient.createdId(http().postBytes("fhir/R4/Binary", "text/plain", "hello".getBytes()));
    String patient = http().create("{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"Binary/" + binary + "\"}]}");
    String path = "fhir/R4/" + template.replace("{p}", patient).replace("{b}", binary);
    HttpResponse<String> get = http().get(path);
    HttpResponse<String> head = http().send(http().request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()));

    assertThat(get.statusCode()).as(get.body()).isEqualTo(200);
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("Content-Type")).isEqualTo(get.headers().firstValue("Content-Type"));
    head.headers().firstValue("Content-Length").ifPresent(length -> assertThat(Long.parseLong(length))
        .as(path).isEqualTo(get.body().getBytes(StandardCharsets.UTF_8).length));
    assertThat(head.body()).isEmpty();
  }

  /** HEAD of a Binary's {@code $presigned-url}, plain and for an upload: GET's status and headers, no body. */
  @ParameterizedTest(name = "HEAD $presigned-url{0}")
  @ValueSource(strings = {"", "?upload=true", "?download=true"})
  void headIsAnsweredOnPresignedUrl(String query) {
    String id = TestClient.createdId(http().postBytes("fhir/R4/Binary", "text/plain", "hello".getBytes()));
    String path = "fhir/R4/Binary/" + id + "/$presigned-url" + query;
    HttpResponse<String> get = http().get(path);
    HttpResponse<String> head = http().send(http().request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()));

    assertThat(head.statusCode()).as(get.body()).isEqualTo(get.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+json");
    assertThat(head.body()).isEmpty();
  }

  /** HEAD of a read refuses what GET refuses, with its status: here _summary with _elements. */
  @ParameterizedTest(name = "HEAD {0}")
  @ValueSource(strings = {"?_summary=true&_elements=id", "?_summary=maybe"})
  void headOfAReadRefusesWhatGetRefuses(String query) {
    String id = http().create("{\"resourceType\":\"Patient\"}");
    String path = "fhir/R4/Patient/" + id + query;
    HttpResponse<String> get = http().get(path);
    HttpResponse<String> head = http().send(http().request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()));

    assertThat(get.statusCode()).as(get.body()).isEqualTo(400);
    assertThat(head.statusCode()).isEqualTo(400);
    assertThat(head.body()).isEmpty();
  }

  /**
   * PUT, DELETE or PATCH on a type with no search criteria is a conditional update, delete or patch
   * that names nothing to match: 400, not a 405 whose Allow would list the very method refused.
   */
  @ParameterizedTest(name = "{0} /fhir/R4/Patient")
  @ValueSource(strings = {"PUT", "DELETE", "PATCH"})
  void aConditionalWriteWithoutCriteriaIs400(String method) {
    HttpResponse<String> r = http().send(http().request("fhir/R4/Patient").header("Content-Type", "application/fhir+json")
        .method(method, HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\"}")));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("\"resourceType\":\"OperationOutcome\"").contains("search criteria");
  }

  /**
   * An operation the server does not have, at any level (system, type, instance, version), is 404
   * naming it, whatever the method: not a 400 that reads it as an invalid id, nor a 405 whose Allow
   * names a method that would 404 too. /metadata lists the operations there are.
   */
  @ParameterizedTest(name = "{0} /fhir/R4/{1}")
  @CsvSource({"GET,$meta", "POST,$meta", "GET,Patient/$validate", "POST,Patient/$validate", "POST,Binary/$nothing",
      "GET,Patient/p1/$everything", "POST,Patient/p1/$everything", "POST,Patient/p1/_history/1/$meta",
      "GET,Patient/p1/_history/1/$meta"})
  void anUnknownOperationIs404NamingIt(String method, String path) {
    HttpResponse<String> r = http().send(http().request("fhir/R4/" + path).header("Content-Type", "application/fhir+json")
        .method(method, HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Parameters\"}")));

    String operation = path.substring(path.lastIndexOf('$'));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(404);
    assertThat(r.body()).contains("\"resourceType\":\"OperationOutcome\"")
        .contains("unknown operation " + operation).contains("metadata");
  }
  /** A type R4 does not have is named as such before any operation after it, $graphql's own diagnostic too. */
  @ParameterizedTest(name = "GET /fhir/R4/{0}")
  @ValueSource(strings = {"Foo/$graphql", "Foo/1/$graphql", "Foo/$nothing"})
  void anOperationOnATypeR4DoesNotHaveNamesTheType(String path) {
    HttpResponse<String> r = http().send(http().request("fhir/R4/" + path).GET());

    assertThat(r.statusCode()).as(r.body()).isEqualTo(404);
    assertThat(r.body()).contains("Foo").doesNotContain("GraphQL").doesNotContain("unknown operation");
  }
}
