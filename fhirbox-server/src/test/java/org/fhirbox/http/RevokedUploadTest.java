package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.testing.TestBytes.random;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.User;
import org.fhirbox.model.ResumableUpload;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.ProjectClients.Credentials;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Upload URLs and resumable uploads store nothing once the client that issued or began them, or
 * the user they were issued to, is disabled or loses the Binary scope, however long the URL still
 * lives or the upload has run.
 */
class RevokedUploadTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient ANONYMOUS = HttpClient.newHttpClient();
  static TestServer server;
  static ProjectClients clients;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    clients = new ProjectClients(server);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  /** {@code $upload-url} for {@code size} bytes of text/plain; the Binary id and the URL. */
  private static String[] issue(TestClient client, long size) {
    Parameters in = new Parameters();
    in.addParameter("contentType", "text/plain");
    in.addParameter().setName("size").setValue(new IntegerType((int) size));
    in.addParameter("expiresIn", "3600");
    HttpResponse<String> r = client.postJson("fhir/R4/Binary/$upload-url", client.json(in));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Parameters p = client.parse(r, Parameters.class);
    return new String[] {((Reference) p.getParameter("binary").getValue()).getReference().substring(7),
        p.getParameter("url").getValue().primitiveValue()};
  }

  private static HttpResponse<String> put(String url, byte[] body) throws Exception {
    return ANONYMOUS.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "text/plain")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void disable(Credentials c) {
    HttpResponse<String> r = server.client().send(server.client().request("admin/clients/" + c.clientId()
        + "/disable").POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  private static void setScope(Credentials c, String scope) throws Exception {
    HttpResponse<String> r = server.client().send(server.client().request("admin/clients/" + c.clientId() + "/scope")
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("scope", scope)))));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  private static String diagnostics(HttpResponse<String> r) {
    return server.client().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics();
  }

  @Test
  void anUploadUrlOfADisabledClientStoresNothing() throws Exception {
    Credentials uploader = clients.create("revoke-disabled", "system/Binary.cruds", false);
    TestClient reader = clients.client("revoke-disabled", "system/Binary.r");
    byte[] bytes = "written after the client was disabled".getBytes(StandardCharsets.UTF_8);
    String[] issued = issue(clients.bearer(uploader), bytes.length);
    long blobs = server.blobFiles(false);

    disable(uploader);
    HttpResponse<String> r = put(issued[1], bytes);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(diagnostics(r)).contains("the client that issued this upload").contains("disabled");
    assertThat(reader.get("fhir/R4/Binary/" + issued[0]).statusCode()).isEqualTo(404);
    assertThat(server.blobFiles(false)).isEqualTo(blobs);
  }

  @Test
  void anUploadUrlOfAClientThatLostTheBinaryCreateScopeStoresNothing() throws Exception {
    Credentials uploader = clients.create("revoke-scope", "system/Binary.cruds", false);
    TestClient reader = clients.client("revoke-scope", "system/Binary.r");
    byte[] bytes = "written after the scope was removed".getBytes(StandardCharsets.UTF_8);
    String[] issued = issue(clients.bearer(uploader), bytes.length);

    setScope(uploader, "system/Binary.rs");
    HttpResponse<String> r = put(issued[1], bytes);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(diagnostics(r)).contains("the client that issued this upload").contains("lost the scope");
    assertThat(reader.get("fhir/R4/Binary/" + issued[0]).statusCode()).isEqualTo(404);

    // given the scope back, the URL stores the bytes: nothing was used up by the refusal
    setScope(uploader, "system/Binary.cruds");
    assertThat(put(issued[1], bytes).statusCode()).isEqualTo(201);
    assertThat(reader.get("fhir/R4/Binary/" + issued[0]).statusCode()).isEqualTo(200);
  }

  @Test
  void medplumsUploadUrlOfADisabledClientStoresNoNewVersion() throws Exception {
    Credentials uploader = clients.create("revoke-medplum", "system/Binary.cruds", false);
    TestClient client = clients.bearer(uploader);
    TestClient reader = clients.client("revoke-medplum", "system/Binary.r");
    String id = TestClient.createdId(client.postBytes("fhir/R4/Binary", "text/plain",
        "first".getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> issued = client.get("fhir/R4/Binary/" + id + "/$presigned-url?upload=true");
    assertThat(issued.statusCode()).as(issued.body()).isEqualTo(200);
    String url = JSON.readTree(issued.body()).at("/parameter/0/valueUri").asText();

    disable(uploader);
    HttpResponse<String> r = put(url, "second".getBytes(StandardCharsets.UTF_8));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(reader.get("fhir/R4/Binary/" + id + "/_history/2").statusCode()).isEqualTo(404);
  }

  @Test
  void aResumableUploadWhoseClientIsDisabledBeforeItsLastPieceMakesNoBinary() throws Exception {
    Credentials uploader = clients.create("revoke-tus", "system/Binary.cruds", false);
    TestClient reader = clients.client("revoke-tus", "system/Binary.rs");
    Tus tus = new Tus(clients.bearer(uploader));
    byte[] content = random(20_000, 7);
    String url = tus.upload(content.length, null);
    HttpResponse<String> first = tus.patch(url, 0, Arrays.copyOfRange(content, 0, 10_000));
    assertThat(first.statusCode()).as(first.body()).isEqualTo(204);

    // the token stays accepted for a while (its client's status is cached): the commit looks again
    disable(uploader);
    HttpResponse<String> last = tus.patch(url, 10_000, Arrays.copyOfRange(content, 10_000, content.length));
    assertThat(last.statusCode()).as(last.body()).isEqualTo(401);
    assertThat(diagnostics(last)).contains("disabled");
    assertThat(last.headers().firstValue("Content-Location")).isEmpty();
    assertThat(reader.foundIds("Binary")).isEmpty();
  }

  @Test
  void aResumableUploadWhoseClientLostTheScopeIsNotCommittedByAHeadEither() throws Exception {
    Credentials uploader = clients.create("revoke-tus-scope", "system/Binary.cruds", false);
    TestClient reader = clients.client("revoke-tus-scope", "system/Binary.rs");
    Tus tus = new Tus(clients.bearer(uploader));
    byte[] content = random(5_000, 8);
    String url = tus.upload(content.length, null);

    setScope(uploader, "system/Binary.rs");
    HttpResponse<String> last = tus.patch(url, 0, content);
    assertThat(last.statusCode()).as(last.body()).isEqualTo(403);
    assertThat(diagnostics(last)).contains("lost the scope");
    HttpResponse<String> head = tus.head(url);
    assertThat(head.statusCode()).as(head.body()).isEqualTo(403);
    assertThat(reader.foundIds("Binary")).isEmpty();
  }

  /** A person signed in to an app of {@code project}: the user, and a client with their access token. */
  private record Person(User user, TestClient client) {}

  private static Person signIn(String project, String email) {
    var auth = server.server().auth();
    OAuthClient app = auth.clients().find(auth.clients().create(project, "user/Binary.cruds", false)
        .clientId()).orElseThrow();
    User user = server.server().signIn().users().create(project, email, "Nurse", "Practitioner/nurse",
        "user/Binary.cruds", false).orElseThrow();
    return new Person(user, new TestClient(server.baseUrl()).withHeader("Authorization", "Bearer " + auth.tokens()
        .issue(app, Scopes.parse("user/Binary.cruds"), Optional.of(user.id()), Optional.empty()).accessToken()));
  }

  private static void disable(User user) {
    HttpResponse<String> r = server.client().send(server.client().request("admin/users/" + user.id() + "/disable")
        .POST(HttpRequest.BodyPublishers.noBody()));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  /** Sets what {@code user} may be granted, as the database holds it (no admin route changes it). */
  private static void setScope(User user, String scope) throws Exception {
    try (Connection c = DriverManager.getConnection(server.server().config().databaseUrl());
        PreparedStatement ps = c.prepareStatement("UPDATE app_user SET scopes = ? WHERE id = ?")) {
      ps.setString(1, scope);
      ps.setString(2, user.id());
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
  }

  @Test
  void aPersonsUploadUrlStoresNothingOnceTheUserIsDisabledOrLosesTheBinaryCreateScope() throws Exception {
    Person disabled = signIn("revoke-user-url", "disabled@example.org");
    Person rescoped = signIn("revoke-user-url", "rescoped@example.org");
    TestClient reader = clients.client("revoke-user-url", "system/Binary.r");
    byte[] bytes = "written after the user was disabled".getBytes(StandardCharsets.UTF_8);
    String[] first = issue(disabled.client(), bytes.length);
    String[] second = issue(rescoped.client(), bytes.length);
    long blobs = server.blobFiles(false);

    assertThat(first[1]).contains("&User=" + disabled.user().id());
    assertThat(put(first[1].replace("&User=" + disabled.user().id(), ""), bytes).statusCode())
        .as("the user is part of the signature").isEqualTo(403);
    disable(disabled.user());
    setScope(rescoped.user(), "user/Binary.rs");
    HttpResponse<String> off = put(first[1], bytes);
    HttpResponse<String> lost = put(second[1], bytes);

    assertThat(off.statusCode()).as(off.body()).isEqualTo(401);
    assertThat(diagnostics(off)).contains("the user who began this upload").contains("disabled");
    assertThat(lost.statusCode()).as(lost.body()).isEqualTo(403);
    assertThat(diagnostics(lost)).contains("the user who began this upload").contains("lost the scope");
    assertThat(reader.get("fhir/R4/Binary/" + first[0]).statusCode()).isEqualTo(404);
    assertThat(reader.get("fhir/R4/Binary/" + second[0]).statusCode()).isEqualTo(404);
    assertThat(server.blobFiles(false)).isEqualTo(blobs);
  }

  @Test
  void aPersonsResumableUploadWhoseUserLostTheScopeIsNotCommittedAndStays() throws Exception {
    Person person = signIn("revoke-user-scope", "nurse@example.org");
    Tus tus = new Tus(person.client());
    TestClient reader = clients.client("revoke-user-scope", "system/Binary.rs");
    byte[] content = random(3_000, 10);
    String url = tus.upload(content.length, null);
    assertThat(tus.patch(url, 0, Arrays.copyOfRange(content, 0, 1_000)).statusCode()).isEqualTo(204);

    setScope(person.user(), "user/Binary.rs");
    HttpResponse<String> last = tus.patch(url, 1_000, Arrays.copyOfRange(content, 1_000, content.length));

    assertThat(last.statusCode()).as(last.body()).isEqualTo(403);
    assertThat(diagnostics(last)).contains("user").contains("lost the scope");
    assertThat(last.headers().firstValue("Content-Location")).isEmpty();
    assertThat(reader.foundIds("Binary")).isEmpty();
    // the upload is still there, holding every byte, until it expires
    HttpResponse<String> head = tus.head(url);
    assertThat(head.statusCode()).as(head.body()).isEqualTo(403);
    String id = url.substring(url.lastIndexOf('/') + 1);
    Optional<ResumableUpload> kept = server.server().store().read(tx -> tx.uploads().find(id));
    assertThat(kept.map(ResumableUpload::offset)).contains((long) content.length);
  }

  @Test
  void aPersonsResumableUploadWhoseUserIsDisabledBeforeItsLastPieceMakesNoBinary() throws Exception {
    Person person = signIn("revoke-user", "nurse@example.org");
    User nurse = person.user();
    Tus tus = new Tus(person.client());
    TestClient reader = clients.client("revoke-user", "system/Binary.rs");
    byte[] content = random(4_000, 9);
    String url = tus.upload(content.length, null);
    assertThat(tus.patch(url, 0, Arrays.copyOfRange(content, 0, 1_000)).statusCode()).isEqualTo(204);

    disable(nurse);
    HttpResponse<String> last = tus.patch(url, 1_000, Arrays.copyOfRange(content, 1_000, content.length));

    assertThat(last.statusCode()).as(last.body()).isEqualTo(401);
    assertThat(diagnostics(last)).contains("user").contains("disabled");
    assertThat(reader.foundIds("Binary")).isEmpty();
  }
}
