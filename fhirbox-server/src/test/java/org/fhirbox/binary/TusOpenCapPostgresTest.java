package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.Postgres;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.Test;

/**
 * {@link TusOpenCapContract} on PostgreSQL, and creations at once on two nodes that share it: the
 * cap is counted in the database, whichever node a creation reaches.
 */
@SlowTest
class TusOpenCapPostgresTest extends TusOpenCapContract {
  private Postgres.Schema schema;

  @Override
  TestServer start(Map<String, String> settings) throws Exception {
    if (schema == null) {
      schema = Postgres.freshSchema();
    }
    Map<String, String> s = new HashMap<>(settings);
    s.put("FHIRBOX_DATABASE_URL", schema.url());
    return TestServer.start(s);
  }

  @Override
  void stopped() {
    if (schema != null) {
      schema.close();
      schema = null;
    }
  }

  @Test
  void creationsOfOneClientAtOnceOnTwoNodesFillItsLastPlaceOnce() throws Exception {
    Map<String, String> settings = Map.of("FHIRBOX_UPLOAD_MAX_OPEN", "3");
    TestServer a = started(settings);
    TestServer b = started(settings);
    Tus onA = new Tus(a.client());
    Tus onB = new Tus(b.client());
    onA.upload(3, null);
    onB.upload(3, null);
    holdTogether(AT_ONCE, List.of(a, b));

    List<Integer> statuses = createAtOnce(new ArrayList<>(List.of(onA, onB, onA, onB)));

    assertThat(created(statuses)).as("creations on two nodes that passed the cap of 3 with 2 open: " + statuses)
        .isEqualTo(1);
    assertThat(onB.create(3, null).statusCode()).isEqualTo(429);
  }
}
