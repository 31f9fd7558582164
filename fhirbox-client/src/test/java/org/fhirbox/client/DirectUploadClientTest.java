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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link FhirboxClient#uploadViaUrl} against a real server: the presigned PUT, then the Binary. */
class DirectUploadClientTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  @TempDir
  Path work;

  @Test
  void aFileGoesThroughAPresignedUrlAndComesBackTheSame() throws Exception {
    byte[] bytes = new byte[300_000];
    new Random(7).nextBytes(bytes);
    Path file = work.resolve("scan.bin");
    Files.write(file, bytes);
    BinaryTransferTest.Recorder progress = new BinaryTransferTest.Recorder();

    Binary b = fhirbox.client().uploadViaUrl(Upload.of(file, "application/octet-stream").withProgress(progress));

    assertThat(b.getContentType()).isEqualTo("application/octet-stream");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    fhirbox.client().download("Binary/" + b.getIdElement().getIdPart(), out);
    assertThat(out.toByteArray()).isEqualTo(bytes);
    assertThat(fhirbox.client().contentFilename("Binary/" + b.getIdElement().getIdPart())).hasValue("scan.bin");
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
    assertThatThrownBy(() -> fhirbox.client().uploadViaUrl(Upload.of(in, 3, "text/plain")))
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
    assertThatThrownBy(() -> fhirbox.client().uploadResumably(Upload.of(in, 3, "text/plain")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a file");
    assertThat(closed).as("the refused stream was closed, as after any upload of it").isTrue();
  }
}
