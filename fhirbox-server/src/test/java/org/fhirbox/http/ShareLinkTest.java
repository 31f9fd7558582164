package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.fhirbox.auth.Scopes;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Share links ({@code $presigned-url?expiresIn=}) in {@code server} mode: each use checks the Binary
 * and the resource its securityContext names, and the link ends with either.
 */
class ShareLinkTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  static TestServer server;
  static TestClient http;

  @BeforeAll
  static void start() {
    server = fhirbox.server();
    http = fhirbox.http();
  }

  /** A share link ({@code $presigned-url?expiresIn=}) of the Binary's current version. */
  static String shareLink(String id, int seconds) {
    HttpResponse<String> r = http.get("fhir/R4/Binary/" + id + "/$presigned-url?expiresIn=" + seconds);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return http.parse(r, Parameters.class).getParameter("url").getValue().primitiveValue();
  }

  static String diagnostics(HttpResponse<String> r) {
    return http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics();
  }

  /**
   * A share link serves its version only while the Binary stands as it was signed: a new version
   * under the same securityContext leaves it serving, another securityContext ends it (403), and
   * so does a delete (410), also for the shortest share link, which lives less than an ordinary URL.
   */
  @Test
  void aShareLinkEndsWithItsBinaryOrItsSecurityContext() {
    TestClient anonymous = new TestClient(server.baseUrl());
    for (String p : List.of("share1", "share2")) {
      assertThat(http.putJson("fhir/R4/Patient/" + p, "{\"resourceType\":\"Patient\",\"id\":\"" + p + "\"}")
          .statusCode()).isIn(200, 201);
    }
    HttpResponse<String> created = http.send(http.request("fhir/R4/Binary").header("Content-Type", "text/plain")
        .header("X-Security-Context", "Patient/share1").POST(HttpRequest.BodyPublishers.ofString("first")));
    String id = TestClient.createdId(created);
    String week = shareLink(id, 604_800);
    assertThat(week).contains("&Share=1");
    assertThat(anonymous.get(week.replace("&Share=1", "")).statusCode()).as("the mark is signed").isEqualTo(403);
    HttpResponse<String> sameContext = http.send(http.request("fhir/R4/Binary/" + id)
        .header("Content-Type", "text/plain").header("X-Security-Context", "Patient/share1")
        .PUT(HttpRequest.BodyPublishers.ofString("second")));
    assertThat(sameContext.statusCode()).as(sameContext.body()).isEqualTo(200);
    HttpResponse<String> stillServed = anonymous.get(week);
    assertThat(stillServed.statusCode()).isEqualTo(200);
    assertThat(stillServed.body()).isEqualTo("first");
    HttpResponse<String> moved = http.send(http.request("fhir/R4/Binary/" + id)
        .header("Content-Type", "text/plain").header("X-Security-Context", "Patient/share2")
        .PUT(HttpRequest.BodyPublishers.ofString("third")));
    assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
    HttpResponse<String> refused = anonymous.get(week);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
    assertThat(diagnostics(refused)).contains("securityContext of Binary/" + id + " changed");

    String other = TestClient.createdId(http.postBytes("fhir/R4/Binary", "text/plain", "to delete".getBytes()));
    List<String> links = List.of(shareLink(other, 604_800), shareLink(other, 60));
    for (String link : links) {
      assertThat(anonymous.get(link).statusCode()).isEqualTo(200);
    }
    assertThat(http.delete("fhir/R4/Binary/" + other).statusCode()).isEqualTo(200);
    for (String link : links) {
      HttpResponse<String> gone = anonymous.get(link);
      assertThat(gone.statusCode()).as(link).isEqualTo(410);
      assertThat(diagnostics(gone)).isEqualTo("Binary/" + other + " was deleted; its share links ended with it");
      assertThat(gone.body()).doesNotContain("to delete");
    }
  }

  /** A share link also ends once the resource its Binary's securityContext names is gone. */
  @Test
  void aShareLinkEndsWhenTheResourceOfItsSecurityContextIsDeleted() {
    TestClient anonymous = new TestClient(server.baseUrl());
    String patient = TestClient.createdId(http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String id = filed("Patient/" + patient, "chart");
    String link = shareLink(id, 86_400);
    assertThat(anonymous.get(link).statusCode()).isEqualTo(200);

    assertThat(http.delete("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(200);

    HttpResponse<String> refused = anonymous.get(link);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
    assertThat(diagnostics(refused)).isEqualTo("the resource named by the securityContext of Binary/" + id
        + " no longer exists; its share links ended with it");
    assertThat(refused.body()).doesNotContain("chart");
  }

  /**
   * A share link ended by the deletion of the resource its Binary's securityContext names stays
   * ended when a resource is created again under that id (an update as create): the new Patient is
   * not the one the link was made for. A link made after the re-creation serves.
   */
  @Test
  void aShareLinkStaysEndedWhenTheResourceOfItsSecurityContextIsCreatedAgain() {
    TestClient anonymous = new TestClient(server.baseUrl());
    String patient = "share-again-" + UUID.randomUUID();
    String body = "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}";
    assertThat(http.putJson("fhir/R4/Patient/" + patient, body).statusCode()).isEqualTo(201);
    String id = filed("Patient/" + patient, "old chart");
    String link = shareLink(id, 86_400);
    assertThat(anonymous.get(link).statusCode()).isEqualTo(200);
    assertThat(http.putJson("fhir/R4/Patient/" + patient, body.replace("}", ",\"active\":true}")).statusCode())
        .as("a new version of the Patient leaves the link serving").isEqualTo(200);
    assertThat(anonymous.get(link).statusCode()).isEqualTo(200);

    assertThat(http.delete("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(200);
    assertThat(http.putJson("fhir/R4/Patient/" + patient, body).statusCode()).isEqualTo(201);

    assertEndedForGoodWhileANewLinkServes(anonymous, link, id, "old chart");
  }

  /**
   * A share link of a Binary filed under another Binary is bound to every resource along that chain:
   * once the Patient the second Binary is filed under is deleted, the link stays ended after a
   * Patient is created again under that id. A link made after the re-creation serves.
   */
  @Test
  void aShareLinkThroughABinaryStaysEndedWhenThePatientAtTheEndOfTheChainIsCreatedAgain() {
    TestClient anonymous = new TestClient(server.baseUrl());
    String patient = "share-chain-" + UUID.randomUUID();
    String body = "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}";
    assertThat(http.putJson("fhir/R4/Patient/" + patient, body).statusCode()).isEqualTo(201);
    String b = filed("Patient/" + patient, "filed");
    String a = filed("Binary/" + b, "chained chart");
    String link = shareLink(a, 86_400);
    assertThat(anonymous.get(link).statusCode()).isEqualTo(200);

    assertThat(http.delete("fhir/R4/Patient/" + patient).statusCode()).isEqualTo(200);
    assertThat(anonymous.get(link).statusCode()).isEqualTo(403);
    assertThat(http.putJson("fhir/R4/Patient/" + patient, body).statusCode()).isEqualTo(201);

    assertEndedForGoodWhileANewLinkServes(anonymous, link, a, "chained chart");
    assertThat(link).as("the versions of Binary/" + b + " and of the Patient, signed").endsWith("&Context=1.1");
  }

  /**
   * A share link of a Binary filed under another Binary ends once that other Binary is filed under
   * another resource (403), as it ends once its own Binary is: the chain then leads to a record the
   * link was not made for. Filed back, the chain is the one the link was made under again.
   */
  @Test
  void aShareLinkThroughABinaryEndsWhenThatBinaryIsFiledElsewhere() {
    TestClient anonymous = new TestClient(server.baseUrl());
    String first = TestClient.createdId(http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String second = TestClient.createdId(http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String b = filed("Patient/" + first, "filed");
    String a = filed("Binary/" + b, "chained note");
    String link = shareLink(a, 86_400);
    assertThat(anonymous.get(link).statusCode()).isEqualTo(200);

    for (String[] move : List.of(new String[] {second, "elsewhere"}, new String[] {first, "back"})) {
      HttpResponse<String> moved = http.send(http.request("fhir/R4/Binary/" + b).header("Content-Type", "text/plain")
          .header("X-Security-Context", "Patient/" + move[0]).PUT(HttpRequest.BodyPublishers.ofString(move[1])));
      assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
      HttpResponse<String> answer = anonymous.get(link);
      if (move[0].equals(second)) {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(403);
        assertThat(diagnostics(answer)).isEqualTo("a Binary named along the securityContext of Binary/" + a
            + " has another securityContext since this share link was made; ask for a new link");
        assertThat(answer.body()).doesNotContain("chained note");
      } else {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("chained note");
      }
    }
  }

  /**
   * No share link for a token whose reads of the Binary, or of the resource its securityContext
   * names, are limited to a patient's compartment: a link could outlive that resource's place in it.
   */
  @Test
  void patientLimitedReadersGetNoShareLink() {
    String a = TestClient.createdId(http.postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String id = filed("Patient/" + a, "mine");
    var auth = server.server().auth();
    var app = auth.clients().find(auth.clients().create("default", "patient/*.rs", false).clientId()).orElseThrow();
    for (String scope : List.of("patient/*.rs", "system/Binary.rs patient/Patient.rs")) {
      TestClient asA = http.withHeader("Authorization", "Bearer " + auth.tokens()
          .issue(app, Scopes.parse(scope), Optional.empty(), Optional.of(a)).accessToken());
      assertThat(asA.get("fhir/R4/Binary/" + id + "/$presigned-url").statusCode()).as(scope).isEqualTo(200);

      HttpResponse<String> refused = asA.get("fhir/R4/Binary/" + id + "/$presigned-url?expiresIn=3600");

      assertThat(refused.statusCode()).as(scope + ": " + refused.body()).isEqualTo(403);
      assertThat(diagnostics(refused)).contains("share links", "patient");
    }
  }


  /** The id of a new text Binary holding {@code text}, filed under {@code securityContext}. */
  private static String filed(String securityContext, String text) {
    return TestClient.createdId(http.send(http.request("fhir/R4/Binary").header("Content-Type", "text/plain")
        .header("X-Security-Context", securityContext).POST(HttpRequest.BodyPublishers.ofString(text))));
  }

  /**
   * {@code link} to Binary {@code id} is refused, as made before the deletion of a resource on its
   * chain, while a link made now serves the Binary's {@code text}.
   */
  private static void assertEndedForGoodWhileANewLinkServes(TestClient anonymous, String link, String id, String text) {
    HttpResponse<String> refused = anonymous.get(link);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
    assertThat(diagnostics(refused)).isEqualTo("the resource named by the securityContext of Binary/" + id
        + " was deleted since this share link was made; its share links ended with it");
    assertThat(refused.body()).doesNotContain(text);
    HttpResponse<String> fresh = anonymous.get(shareLink(id, 86_400));
    assertThat(fresh.statusCode()).as("a link made under the new Patient").isEqualTo(200);
    assertThat(fresh.body()).isEqualTo(text);
  }
}
