package org.fhirbox.app;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.PostgresSchema;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/** Blobs in local files beside a database other nodes may use: the start says what that means. */
@SlowTest
class UnsharedBlobsTest {
  @RegisterExtension
  final PostgresSchema postgres = new PostgresSchema();

  @Test
  void aStartWithFileBlobsOnPostgresqlWarnsThatOtherNodesCannotReadThem() throws Exception {
    List<String> warnings = warningsOfAStart(postgres.serverSettings());

    assertThat(warnings).anySatisfy(w -> assertThat(w).contains("FHIRBOX_BLOB_STORE=file")
        .contains("other nodes").contains("FHIRBOX_BLOB_STORE=s3"));
  }

  @Test
  void aStartWithFileBlobsOnTheEmbeddedDatabaseDoesNot() throws Exception {
    List<String> warnings = warningsOfAStart(Map.of());

    assertThat(warnings).noneMatch(w -> w.contains("FHIRBOX_BLOB_STORE"));
  }

  /** The WARNs fhirbox logs while a server with {@code settings} starts (and stops). */
  private static List<String> warningsOfAStart(Map<String, String> settings) throws Exception {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    Logger fhirbox = (Logger) LoggerFactory.getLogger("org.fhirbox");
    fhirbox.addAppender(log);
    try (TestServer server = TestServer.start(settings)) {
      assertThat(server.client().get("readyz").statusCode()).isEqualTo(200);
    } finally {
      fhirbox.detachAppender(log);
    }
    return log.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .map(ILoggingEvent::getFormattedMessage).toList();
  }
}
