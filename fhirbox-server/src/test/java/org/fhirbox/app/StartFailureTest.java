package org.fhirbox.app;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;

/** A start that cannot go on stops with an error that names what is wrong, not what failed next. */
class StartFailureTest {
  @Test
  void aDatabaseThatCannotBeReachedIsWhatTheFailedStartReports() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = s.getLocalPort();
    }
    Path dir = Files.createTempDirectory("fhirbox-start");
    try {
      FhirboxConfig config = FhirboxConfig.of(Map.of("FHIRBOX_DATA_DIR", dir.toString(), "FHIRBOX_PORT", "0",
          "FHIRBOX_DATABASE_URL", "jdbc:postgresql://127.0.0.1:" + closed + "/fhirbox",
          "FHIRBOX_DATABASE_PASSWORD", "the-database-password"));

      assertThatThrownBy(() -> new FhirboxServer(config, TestServer.FHIR).close())
          .hasMessageContaining("127.0.0.1:" + closed).hasMessageContaining("refused")
          .hasMessageNotContaining("signing key").hasMessageNotContaining("the-database-password");
    } finally {
      TestServer.deleteTree(dir);
    }
  }

  @Test
  void aDataDirectoryWhoseDatabaseAnotherProcessHoldsIsWhatTheFailedStartReports() throws Exception {
    Path dir = Files.createTempDirectory("fhirbox-start");
    try {
      FhirboxConfig config = FhirboxConfig.of(Map.of("FHIRBOX_DATA_DIR", dir.toString(), "FHIRBOX_PORT", "0"));
      new FhirboxServer(config, TestServer.FHIR).close();
      // the lock another fhirbox's H2 holds on the file while it runs
      try (FileChannel held = FileChannel.open(dir.resolve("db").resolve("fhirbox.mv.db"), StandardOpenOption.READ,
          StandardOpenOption.WRITE); FileLock lock = held.lock()) {

        assertThatThrownBy(() -> new FhirboxServer(config, TestServer.FHIR).close())
            .hasMessageContaining("in use by another process").hasMessageContaining(dir.toString())
            .hasMessageNotContaining("signing key");
      }
    } finally {
      TestServer.deleteTree(dir);
    }
  }
}
