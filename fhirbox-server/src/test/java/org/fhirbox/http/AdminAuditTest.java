package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/**
 * Changes made through the admin API become AuditEvents (DICOM 110137 User Security Attributes
 * Changed) in the project of the client or user changed, naming the admin client, and never a
 * secret or a set-password link.
 */
class AdminAuditTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static List<JsonNode> events(TestClient admin) throws Exception {
    HttpResponse<String> r = admin.get("fhir/R4/AuditEvent?_count=100&type=110137");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<JsonNode> out = new ArrayList<>();
    JSON.readTree(r.body()).path("entry").forEach(e -> out.add(e.get("resource")));
    return out;
  }

  private static JsonNode ok(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isBetween(200, 201);
    return JSON.readTree(r.body());
  }

  @Test
  void clientAndUserChangesAreAuditedWithTheAdminClientAndNoSecret() throws Exception {
    try (TestServer server = TestServer.start()) {
      ProjectClients clients = new ProjectClients(server);
      ProjectClients.Credentials adminCred = clients.create("adm-audit", "system/*.cruds", true);
      TestClient admin = clients.bearer(adminCred);

      JsonNode created = ok(admin.postJson("admin/clients", "{\"scope\":\"system/*.rs\"}"));
      String id = created.get("clientId").asText();
      JsonNode rotated = ok(admin.postJson("admin/clients/" + id + "/rotate-secret", ""));
      ok(admin.putJson("admin/clients/" + id + "/scope", "{\"scope\":\"system/Patient.rs\"}"));
      ok(admin.putJson("admin/clients/" + id + "/redirect-uris", "{\"redirectUris\":[\"https://app.example/cb\"]}"));
      ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k-audit").generate();
      ok(admin.putJson("admin/clients/" + id + "/jwks", new JWKSet(key.toPublicJWK()).toString()));
      ok(admin.postJson("admin/clients/" + id + "/disable", ""));
      JsonNode user = ok(admin.postJson("admin/users", "{\"email\":\"audit@example.org\",\"name\":\"Au Dit\","
          + "\"fhirUser\":\"Practitioner/au-1\",\"scope\":\"user/*.rs\"}"));
      String userId = user.get("id").asText();
      JsonNode reset = ok(admin.postJson("admin/users/" + userId + "/reset-password", ""));
      ok(admin.postJson("admin/users/" + userId + "/disable", ""));

      List<JsonNode> events = Poll.until("admin audit events", () -> events(admin), e -> e.size() >= 10);
      Map<String, JsonNode> bySubtype = events.stream()
          .collect(Collectors.toMap(e -> e.at("/subtype/0/code").asText(), e -> e, (a, b) -> a));
      assertThat(bySubtype.keySet()).containsExactlyInAnyOrder("client-created", "client-secret-rotated",
          "client-scope-changed", "client-redirect-uris-changed", "client-jwks-changed", "client-disabled",
          "user-created", "user-password-reset", "user-disabled");
      assertThat(events).hasSize(10);
      // the project admin itself was created by the server's admin, and that joins the project too
      assertThat(events.stream().filter(e -> e.at("/entity/0/what/identifier/value").asText()
          .equals(adminCred.clientId())).map(e -> e.at("/agent/0/altId").asText()))
          .containsExactly(TestServer.ADMIN_ID);

      JsonNode rotation = bySubtype.get("client-secret-rotated");
      assertThat(rotation.at("/action").asText()).isEqualTo("U");
      assertThat(rotation.at("/outcome").asText()).isEqualTo("0");
      assertThat(rotation.at("/agent/0/altId").asText()).isEqualTo(adminCred.clientId());
      assertThat(rotation.at("/agent/0/requestor").asBoolean()).isTrue();
      assertThat(rotation.at("/agent/0/network/address").asText()).isEqualTo("127.0.0.1");
      assertThat(rotation.at("/entity/0/what/identifier/value").asText()).isEqualTo(id);
      assertThat(rotation.at("/entity/0/what/identifier/system").asText()).isEqualTo("urn:fhirbox:client-id");
      assertThat(bySubtype.get("client-scope-changed").at("/entity/0/detail/0/valueString").asText())
          .contains("system/Patient.rs");
      assertThat(bySubtype.get("client-jwks-changed").at("/entity/0/detail/0/valueString").asText())
          .contains("k-audit");
      JsonNode userCreated = bySubtype.get("user-created");
      assertThat(userCreated.at("/action").asText()).isEqualTo("C");
      assertThat(userCreated.at("/entity/0/what/reference").asText()).isEqualTo("Practitioner/au-1");
      assertThat(userCreated.at("/entity/0/what/identifier/value").asText()).isEqualTo(userId);
      assertThat(bySubtype.get("user-password-reset").at("/agent/0/altId").asText()).isEqualTo(adminCred.clientId());

      String all = JSON.writeValueAsString(events);
      String link = user.get("setPasswordUrl").asText();
      String resetLink = reset.get("setPasswordUrl").asText();
      assertThat(all).doesNotContain(created.get("clientSecret").asText(), rotated.get("clientSecret").asText(),
          adminCred.clientSecret(), link.substring(link.indexOf("token=") + 6),
          resetLink.substring(resetLink.indexOf("token=") + 6), "set-password");
      // other projects' admins do not see them
      TestClient stranger = clients.bearer(clients.create("adm-other", "system/*.cruds", true));
      assertThat(events(stranger).stream().map(e -> e.at("/entity/0/what/identifier/value").asText()))
          .doesNotContain(id, userId);
    }
  }

  @Test
  void aClientMadeAnAdminByItsScopeIsRecordedAsOne() throws Exception {
    try (TestServer server = TestServer.start()) {
      ProjectClients clients = new ProjectClients(server);
      TestClient admin = clients.bearer(clients.create("adm-by-scope", "system/*.cruds", true));

      String id = ok(admin.postJson("admin/clients", "{\"scope\":\"system/*.rs admin\"}")).get("clientId").asText();

      JsonNode created = Poll.until("the creation's event", () -> events(admin).stream()
          .filter(e -> e.at("/entity/0/what/identifier/value").asText().equals(id)).toList(), l -> !l.isEmpty()).get(0);
      assertThat(created.at("/entity/0/detail/0/valueString").asText()).endsWith("admin: true; public: false");
    }
  }
}
