package org.fhirbox.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A conditional update or delete of Binaries by a caller who may not read some that match: the
 * Binaries it may not read are not matched, whichever order the database lists them in, and
 * those it may read are all matched, so two of them are 412 and none of them creates.
 */
class ConditionalHiddenBinariesTest {
  private static final String PROJECT = "conditional-hidden";
  private static TestServer server;
  private static TestClient admin;
  private static TestClient writer;
  private static String patient;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    ProjectClients clients = new ProjectClients(server);
    admin = clients.client(PROJECT, "system/*.cruds");
    // reads no Patient, so no Binary filed under one
    writer = clients.client(PROJECT, "system/Binary.cruds");
    patient = TestClient.createdId(admin.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static String binary(String tag, boolean hidden) {
    return "{\"resourceType\":\"Binary\",\"meta\":{\"tag\":[{\"system\":\"urn:t\",\"code\":\"" + tag + "\"}]},"
        + "\"contentType\":\"text/plain\",\"data\":\"eA==\""
        + (hidden ? ",\"securityContext\":{\"reference\":\"Patient/" + patient + "\"}" : "") + "}";
  }

  private static String create(String tag, boolean hidden) {
    return TestClient.createdId(admin.postJson("fhir/R4/Binary", binary(tag, hidden)));
  }

  private static int count(String tag) {
    HttpResponse<String> r = admin.get("fhir/R4/Binary?_tag=urn:t%7C" + tag + "&_summary=count");
    return Integer.parseInt(r.body().replaceAll("(?s).*\"total\":(\\d+).*", "$1"));
  }

  @Test
  void twoReadableMatchesAmongHiddenOnesAre412AndDeleteNothing() {
    // hidden ones first and last: whichever way the rows are ordered, a hidden one comes first
    create("del", true);
    String a = create("del", false);
    String b = create("del", false);
    create("del", true);
    HttpResponse<String> r = writer.delete("fhir/R4/Binary?_tag=urn:t%7Cdel");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(412);
    assertThat(admin.get("fhir/R4/Binary/" + a).statusCode()).isEqualTo(200);
    assertThat(admin.get("fhir/R4/Binary/" + b).statusCode()).isEqualTo(200);
    assertThat(count("del")).isEqualTo(4);
  }

  @Test
  void oneReadableMatchBehindHiddenOnesIsUpdatedNotDuplicated() {
    create("upd", true);
    create("upd", true);
    String a = create("upd", false);
    create("upd", true);
    create("upd", true);
    HttpResponse<String> r = writer.send(writer.request("fhir/R4/Binary?_tag=urn:t%7Cupd")
        .header("Content-Type", "application/fhir+json")
        .PUT(HttpRequest.BodyPublishers.ofString(binary("upd", false))));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"id\":\"" + a + "\"");
    assertThat(count("upd")).isEqualTo(5);
  }
}
