package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An allow-list prefix that names its host by name: the name is judged by what it resolves to,
 * so it reaches an internal address only inside FHIRBOX_INGEST_ALLOWED_INTERNAL_CIDRS. The name
 * here is {@code localhost}, which resolves to loopback without DNS, as a name an attacker
 * rebinds to an internal address would.
 */
class IngestionAllowListTest {
  private Upstream upstream;
  private String prefix;

  @BeforeEach
  void start() throws Exception {
    upstream = new Upstream();
    upstream.serve("/files/a.txt", "text/plain", "internal".getBytes(StandardCharsets.UTF_8));
    prefix = upstream.origin().replace("127.0.0.1", "localhost") + "/files/";
  }

  @AfterEach
  void stop() {
    upstream.close();
  }

  private static HttpResponse<String> importUrl(TestServer server, String url) throws Exception {
    TestClient c = server.client();
    return c.send(c.request("fhir/R4/Binary/$import?url=" + URLEncoder.encode(url, StandardCharsets.UTF_8))
        .POST(HttpRequest.BodyPublishers.noBody()));
  }

  @Test
  void anAllowListedNameThatResolvesToLoopbackIsNotFetched() throws Exception {
    try (TestServer s = TestServer.start(Map.of("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", prefix))) {
      HttpResponse<String> r = importUrl(s, prefix + "a.txt");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(s.client().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .isEqualTo("the URL is not fetched: its host does not resolve to a public address this server fetches from");
    }
    assertThat(upstream.hits("/files/a.txt")).isZero();
  }

  @Test
  void anAllowListedNameReachesTheInternalBlocksAllowedForIt() throws Exception {
    try (TestServer s = TestServer.start(Map.of("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", prefix,
        "FHIRBOX_INGEST_ALLOWED_INTERNAL_CIDRS", "127.0.0.0/8, ::1/128"))) {
      HttpResponse<String> r = importUrl(s, prefix + "a.txt");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }
    assertThat(upstream.hits("/files/a.txt")).isEqualTo(1);
  }

  @Test
  void internalBlocksWithoutAnAllowListStopTheStart() {
    assertThatThrownBy(() -> TestServer.start(Map.of("FHIRBOX_INGEST_ALLOWED_INTERNAL_CIDRS", "10.0.0.0/8")))
        .hasMessageContaining("FHIRBOX_INGEST_ALLOWED_INTERNAL_CIDRS")
        .hasMessageContaining("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES");
  }
}
