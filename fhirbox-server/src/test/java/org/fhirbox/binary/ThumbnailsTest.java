package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.FileBlobStore;
import org.fhirbox.testing.TestImages;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The thumbnail cache: kept by content, bounded in bytes. */
class ThumbnailsTest {
  private Path dir;
  private FileBlobStore blobs;

  @BeforeEach
  void open() throws IOException {
    dir = Files.createTempDirectory("fhirbox-thumbnails");
    blobs = new FileBlobStore(dir);
  }

  @AfterEach
  void close() throws IOException {
    blobs.close();
    TestServer.deleteTree(dir);
  }

  @Test
  void aThumbnailMadeOnceIsServedFromMemoryByItsContent() throws Exception {
    Thumbnails thumbnails = new Thumbnails(blobs, 1, 1 << 20);
    BinaryContent photo = stored(TestImages.small("png", 800, 600, false));
    byte[] first = thumbnails.make(photo).bytes();
    blobs.delete(photo.blobKey());
    assertThat(thumbnails.make(photo).bytes()).as("made again without the blob").isEqualTo(first);
  }

  @Test
  void theCacheKeepsNoMoreThanItsBytes() throws Exception {
    Thumbnails thumbnails = new Thumbnails(blobs, 1, 1);
    BinaryContent photo = stored(TestImages.small("png", 800, 600, false));
    thumbnails.make(photo);
    blobs.delete(photo.blobKey());
    // not kept: made again, its blob is found gone (the missing-content 500)
    assertThatThrownBy(() -> thumbnails.make(photo)).isInstanceOfSatisfying(FhirException.class,
        e -> assertThat(e.status()).isEqualTo(500));
  }

  @Test
  void aRefusalIsKeptByContentAndNotMadeAgain() throws Exception {
    Thumbnails thumbnails = new Thumbnails(blobs, 1, 1 << 20);
    BinaryContent text = stored("no image at all".getBytes(StandardCharsets.US_ASCII));
    assertThatThrownBy(() -> thumbnails.make(text)).isInstanceOfSatisfying(FhirException.class,
        e -> assertThat(e.status()).isEqualTo(422));
    String first = catchThrowable(() -> thumbnails.make(text)).getMessage();
    blobs.delete(text.blobKey());
    // not decoded again: a decoding would find the blob gone (the missing-content 500)
    assertThatThrownBy(() -> thumbnails.make(text)).isInstanceOfSatisfying(FhirException.class,
        e -> assertThat(e.status()).isEqualTo(422)).hasMessage(first);
  }

  private BinaryContent stored(byte[] image) throws IOException {
    BlobInfo info = blobs.put(new ByteArrayInputStream(image), Long.MAX_VALUE);
    return new BinaryContent("p", "b", 1, info.key(), info.size(), info.sha256Hex(), info.sha1Hex(), "image/png", null,
        null, Instant.now());
  }
}
