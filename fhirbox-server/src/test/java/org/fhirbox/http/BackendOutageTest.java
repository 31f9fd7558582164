package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.h2.tools.Server;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A database that goes away is the server's trouble, not the caller's: 503 with Retry-After. */
class BackendOutageTest {
  @Test
  void unreachableDatabaseAnswers503WithRetryAfter(@TempDir Path dir) throws Exception {
    // A real database server on a real socket, stopped in the middle of the test.
    Server h2 = Server.createTcpServer("-tcpPort", "0", "-baseDir", dir.toString(), "-ifNotExists").start();
    try (TestServer server = TestServer.start(Map.of(
        "FHIRBOX_DATABASE_URL", "jdbc:h2:tcp://127.0.0.1:" + h2.getPort() + "/fhirbox",
        "FHIRBOX_DATABASE_CONNECT_TIMEOUT", "1000"))) {
      HttpResponse<String> created = server.client().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}");
      assertThat(created.statusCode()).isEqualTo(201);

      h2.stop();
      HttpResponse<String> r = server.client().get("fhir/R4/Patient/" + TestClient.createdId(created));

      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.headers().firstValue("Retry-After")).contains("10");
      OperationOutcome oo = server.client().parse(r, OperationOutcome.class);
      assertThat(oo.getIssueFirstRep().getCode()).isEqualTo(IssueType.TRANSIENT);
      assertThat(oo.getIssueFirstRep().getDiagnostics()).startsWith("the database is unavailable")
          .contains("try again later; reference ");
    } finally {
      h2.stop();
    }
  }
}
