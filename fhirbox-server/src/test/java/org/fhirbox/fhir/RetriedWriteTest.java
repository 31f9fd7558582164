package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.fhirbox.db.Database;
import org.fhirbox.db.JdbcResourceStore;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.StoreException;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobKey;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write that loses a race runs again on fresh data ({@link JdbcResourceStore#inTransaction}):
 * what the first run filled into the writer's Attachments is not taken for what the writer sent.
 */
class RetriedWriteTest {
  private static final FhirContext FHIR = FhirContext.forR4Cached();
  private static final String SHA1_3 = "a9993e364706816aba3e25717850c26c9cd0d89d"; // "abc"
  private static final String SHA1_5 = "03de6c570bfe24bfc328ccd7ca46b76eadaf4334"; // "abcde"

  private static BlobInfo blob(long size, String sha1) {
    return new BlobInfo(BlobKey.random(), size, "00".repeat(32), sha1);
  }

  private static Binary binary(String contentType) {
    return new Binary().setContentType(contentType);
  }

  @Test
  void aRetryFillsSizeHashAndTypeFromTheBinaryItFindsNotFromTheFirstRun(@TempDir Path dir) {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("fhirbox") + ";DB_CLOSE_ON_EXIT=FALSE", "", "",
        4)) {
      ResourceStore store = new JdbcResourceStore(db);
      FhirCodec codec = new FhirCodec(FHIR);
      ResourceRepository repository = new ResourceRepository(codec,
          new AttachmentNormalizer(FHIR, url -> Optional.empty()), new SearchIndexer(FHIR), Clock.systemUTC());
      store.inTransaction(tx -> repository.create(tx, "p", binary("image/png"), "photo", blob(3, SHA1_3), null));
      Patient patient = new Patient();
      patient.addPhoto(new Attachment().setUrl("Binary/photo"));
      AtomicInteger runs = new AtomicInteger();
      Written w = store.inTransaction(tx -> {
        if (runs.incrementAndGet() == 2) {
          // between the runs another writer replaced the photo
          repository.update(tx, "p", "Binary", "photo", (Binary) binary("image/jpeg").setId("photo"), (Long) null, blob(5, SHA1_5), null);
        }
        Written written = repository.create(tx, "p", patient, "pat", null, null);
        if (runs.get() == 1) {
          throw new StoreException("lost a race", new SQLException("unique violation", "23505"));
        }
        return written;
      });
      assertThat(runs).hasValue(2);
      Attachment photo = ((Patient) w.resource()).getPhotoFirstRep();
      assertThat(photo.getSize()).isEqualTo(5);
      assertThat(photo.getContentType()).isEqualTo("image/jpeg");
      assertThat(java.util.HexFormat.of().formatHex(photo.getHash())).isEqualTo(SHA1_5);
    }
  }
}
