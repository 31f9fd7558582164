package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.hl7.fhir.r4.model.Binary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link FhirboxClient#uploadViaUrl} against a real server: the presigned PUT, then the Binary. */
class DirectUploadClientTest {
  @TempDir
  static Path dataDir;
  @TempDir
  Path work;
  static TestServer server;
  static FhirboxClient client;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(dataDir);
    client = server.client();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void aFileGoesThroughAPresignedUrlAndComesBackTheSame() throws Exception {
    byte[] bytes = new byte[300_000];
    new Random(7).nextBytes(bytes);
    Path file = work.resolve("scan.bin");
    Files.write(file, bytes);
    BinaryTransferTest.Recorder progress = new BinaryTransferTest.Recorder();

    Binary b = client.uploadViaUrl(Upload.of(file, "application/octet-stream").withProgress(progress));

    assertThat(b.getContentType()).isEqualTo("application/octet-stream");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    client.download("Binary/" + b.getIdElement().getIdPart(), out);
    assertThat(out.toByteArray()).isEqualTo(bytes);
    assertThat(client.contentFilename("Binary/" + b.getIdElement().getIdPart())).hasValue("scan.bin");
    progress.assertMonotonicEndingAt(bytes.length);
  }

  @Test
  void aStreamIsRefusedBeforeAnythingIsSentAndClosed() {
    AtomicBoolean closed = new AtomicBoolean();
    InputStream in = new ByteArrayInputStream(new byte[3]) {
      @Override
      public void close() {
        closed.set(true);
      }
    };
    assertThatThrownBy(() -> client.uploadViaUrl(Upload.of(in, 3, "text/plain")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bytes or a file");
    assertThat(closed).as("the refused stream was closed, as after any upload of it").isTrue();
  }

  @Test
  void aStreamRefusedForAResumableUploadIsClosed() {
    AtomicBoolean closed = new AtomicBoolean();
    InputStream in = new ByteArrayInputStream(new byte[3]) {
      @Override
      public void close() {
        closed.set(true);
      }
    };
    assertThatThrownBy(() -> client.uploadResumably(Upload.of(in, 3, "text/plain")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a file");
    assertThat(closed).as("the refused stream was closed, as after any upload of it").isTrue();
  }
}
