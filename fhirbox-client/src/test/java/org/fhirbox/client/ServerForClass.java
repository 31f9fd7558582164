package org.fhirbox.client;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.io.FileUtils;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link TestServer} for a test class, on a data folder of its own: the folder is made and the
 * server started before the class's {@code @BeforeAll} methods and first test; after its last test
 * and {@code @AfterAll} methods the server is closed and the folder deleted.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final ServerForClass fhirbox = new ServerForClass();
 *
 * @Test
 * void readsWhatItCreates() {
 *   String id = fhirbox.client().createResource(new Patient()).getIdElement().getIdPart();
 *   assertThat(fhirbox.client().readResource(Patient.class, id).getIdElement().getIdPart()).isEqualTo(id);
 * }
 * }</pre>
 */
final class ServerForClass implements BeforeAllCallback, AfterAllCallback {
  private Path dataDir;
  private TestServer server;
  private FhirboxClient client;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    dataDir = Files.createTempDirectory("fhirbox-client-test");
    server = TestServer.start(dataDir);
    client = server.client();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    try {
      if (server != null) {
        server.close();
      }
    } finally {
      if (dataDir != null) {
        FileUtils.deleteDirectory(dataDir.toFile());
      }
    }
  }

  TestServer server() {
    return server;
  }

  /** The bootstrap admin's client, one for the whole class. */
  FhirboxClient client() {
    return client;
  }
}
