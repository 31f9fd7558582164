package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.AttachmentNormalizer;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.SearchIndexer;
import org.fhirbox.fhir.WritePreconditions;
import org.fhirbox.fhir.Written;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobKey;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write that names a Binary in the instant after another transaction committed a new version
 * or a deletion of it, before that transaction ended: the H2 store keeps Binary rows in memory
 * ({@link BinaryContentCache}), and what a Patient's Attachment is filled from must be what the
 * database holds once the commit is done. The writer of the Binary is held, by a latch, right
 * after its commit returned.
 */
class BinaryCacheCommitRaceTest {
  private static final FhirContext FHIR = FhirContext.forR4Cached();
  private static final String SHA1_3 = "a9993e364706816aba3e25717850c26c9cd0d89d"; // "abc"
  private static final String SHA1_5 = "03de6c570bfe24bfc328ccd7ca46b76eadaf4334"; // "abcde"
  @TempDir
  Path dir;
  private Database db;
  private JdbcResourceStore store;
  private ResourceRepository repository;
  /** Set: the next commit, once done, waits for {@link #release}. */
  private final AtomicBoolean holdNextCommit = new AtomicBoolean();
  private final CountDownLatch committed = new CountDownLatch(1);
  private final CountDownLatch release = new CountDownLatch(1);

  @BeforeEach
  void open() {
    db = new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 4);
    assertThat(db.soleWriter()).as("the store keeps Binary rows in memory").isTrue();
    store = new JdbcResourceStore(db, this::holding);
    repository = new ResourceRepository(new FhirCodec(FHIR), new AttachmentNormalizer(FHIR, url -> Optional.empty()),
        new SearchIndexer(FHIR), Clock.systemUTC());
    store.inTransaction(tx -> repository.create(tx, "p", new Binary().setContentType("text/plain"), "photo",
        new BlobInfo(BlobKey.random(), 3, "00".repeat(32), SHA1_3), null));
    // the current version is now held in memory, as any write naming it leaves it
    Attachment first = createPatientWithPhoto(new Attachment().setUrl("Binary/photo"));
    assertThat(first.getSize()).isEqualTo(3);
  }

  @AfterEach
  void close() {
    release.countDown();
    db.close();
  }

  private Connection holding(Connection real) {
    InvocationHandler h = (proxy, method, args) -> {
      Object result;
      try {
        result = method.invoke(real, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
      if (method.getName().equals("commit") && holdNextCommit.compareAndSet(true, false)) {
        committed.countDown();
        assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
      }
      return result;
    };
    return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, h);
  }

  private Attachment createPatientWithPhoto(Attachment photo) {
    Patient patient = new Patient();
    patient.addPhoto(photo);
    Written w = store.inTransaction(tx -> repository.create(tx, "p", patient, null, null));
    return ((Patient) w.resource()).getPhotoFirstRep();
  }

  /** Runs {@code write} on another thread and waits until its commit is done but not yet ended. */
  private CompletableFuture<Object> heldAfterCommit(ResourceStore.Work<Object> write) throws InterruptedException {
    holdNextCommit.set(true);
    CompletableFuture<Object> writer = CompletableFuture.supplyAsync(() -> store.inTransaction(write));
    assertThat(committed.await(30, TimeUnit.SECONDS)).as("the writer committed").isTrue();
    return writer;
  }

  @Test
  void anAttachmentNamedRightAfterANewVersionCommittedGetsThatVersionsSizeAndHash() throws Exception {
    CompletableFuture<Object> writer = heldAfterCommit(tx -> repository.update(tx, "p", "Binary", "photo",
        new Binary().setContentType("text/plain").setId("photo"), (Long) null,
        new BlobInfo(BlobKey.random(), 5, "00".repeat(32), SHA1_5), null));

    Attachment photo = createPatientWithPhoto(new Attachment().setUrl("Binary/photo"));

    release.countDown();
    writer.get(30, TimeUnit.SECONDS);
    assertThat(photo.getSize()).as("the size of version 2, committed").isEqualTo(5);
    assertThat(HexFormat.of().formatHex(photo.getHash())).isEqualTo(SHA1_5);
  }

  @Test
  void anAttachmentNamingABinaryWhoseDeletionCommittedIsRefused() throws Exception {
    CompletableFuture<Object> writer = heldAfterCommit(tx -> repository.delete(tx, "p", "Binary", "photo",
        WritePreconditions.ifMatch(null)));

    assertThatThrownBy(() -> createPatientWithPhoto(new Attachment().setUrl("Binary/photo")))
        .isInstanceOf(FhirException.class).hasMessageContaining("does not exist");

    release.countDown();
    writer.get(30, TimeUnit.SECONDS);
  }
}
