package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import org.fhirbox.testing.PostgresSchema;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A batch entry whose write the database fails (here a trigger on PostgreSQL raising "disk full",
 * SQLSTATE 53100, for one Patient) answers 503 for itself alone; the entries before and after it
 * keep their answers and what they wrote (FHIR R4 http.html#brules).
 */
@SlowTest
class PostgresBatchFailureTest {
  @RegisterExtension
  static final PostgresSchema postgres = new PostgresSchema();
  static TestServer server;
  static TestClient http;

  @BeforeAll
  static void start() throws Exception {
    Map<String, String> settings = new HashMap<>(postgres.serverSettings());
    server = TestServer.start(settings);
    http = server.client();
    try (Connection c = DriverManager.getConnection(postgres.url()); Statement s = c.createStatement()) {
      s.execute("""
          CREATE FUNCTION fail_one() RETURNS trigger AS $$
          BEGIN
            IF NEW.content LIKE '%FailsHere%' THEN
              RAISE EXCEPTION 'no space left' USING ERRCODE = '53100';
            END IF;
            RETURN NEW;
          END $$ LANGUAGE plpgsql""");
      s.execute("CREATE TRIGGER fail_one BEFORE INSERT ON resource_version FOR EACH ROW EXECUTE FUNCTION fail_one()");
    }
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void anEntryTheDatabaseFailsAnswers503AndTheOthersStand() {
    String batch = """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient","name":[{"family":"BatchBefore"}]},"request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Patient","name":[{"family":"FailsHere"}]},"request":{"method":"POST","url":"Patient"}},
          {"resource":{"resourceType":"Patient","name":[{"family":"BatchAfter"}]},"request":{"method":"POST","url":"Patient"}}
        ]}""";
    var r = http.postJson("fhir/R4", batch);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Bundle out = http.parse(r, Bundle.class);
    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("201", "503", "201");
    assertThat(((OperationOutcome) out.getEntry().get(1).getResponse().getOutcome()).getIssueFirstRep()
        .getDiagnostics()).contains("database is unavailable");
    for (String family : new String[] {"BatchBefore", "BatchAfter"}) {
      assertThat(http.parse(http.get("fhir/R4/Patient?family=" + family + "&_summary=count"), Bundle.class)
          .getTotal()).as(family).isEqualTo(1);
    }
  }
}
