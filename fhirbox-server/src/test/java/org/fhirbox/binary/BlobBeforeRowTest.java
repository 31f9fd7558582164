package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.fhirbox.audit.BinaryListener;
import org.fhirbox.db.Database;
import org.fhirbox.db.JdbcResourceStore;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.AttachmentNormalizer;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.PatientCompartment;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.SearchIndexer;
import org.fhirbox.fhir.Written;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.BlobStore;
import org.fhirbox.storage.FileBlobStore;
import org.fhirbox.storage.ResumableBlobs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blob first, row second: a raw upload's Binary row is written only once the blob store
 * acknowledged the blob (a file store acknowledges a blob once its content and name are synced;
 * {@code FileBlobStoreTest} shows that), so no committed row names content a crash could take.
 * The real file store and H2, each behind a decorator that only records.
 */
class BlobBeforeRowTest {
  private static final FhirContext FHIR = FhirContext.forR4Cached();
  @TempDir Path dir;
  private final List<String> events = new CopyOnWriteArrayList<>();
  private Database db;
  private FileBlobStore files;
  private ResourceStore rows;
  private BinaryService binaries;

  @BeforeEach
  void build() throws IOException {
    db = new Database("jdbc:h2:file:" + dir.resolve("db").resolve("fhirbox") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 8);
    files = new FileBlobStore(dir.resolve("blobs"));
    rows = new JdbcResourceStore(db);
    FhirCodec codec = new FhirCodec(FHIR);
    SearchIndexer indexer = new SearchIndexer(FHIR);
    ResourceRepository repository = new ResourceRepository(codec,
        new AttachmentNormalizer(FHIR, url -> Optional.empty()), indexer, Clock.systemUTC());
    binaries = new BinaryService(new RecordingBlobs(files), new RecordingStore(rows), repository,
        new BinaryPolicy(10_000_000, Set.of(), Set.of()), new BinaryListener() {}, new PatientCompartment(codec, indexer));
  }

  @AfterEach
  void close() throws Exception {
    files.close();
    db.close();
  }

  @Test
  void eachConcurrentUploadsRowIsWrittenAfterItsBlobWasAcknowledged() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Written>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        byte[] body = ("photo " + i).repeat(5_000).getBytes();
        results.add(pool.submit(() -> binaries.create("p1",
            new BinaryService.Upload(new ByteArrayInputStream(body), "image/jpeg", null, null, null))));
      }
      for (Future<Written> f : results) {
        Written created = f.get(60, TimeUnit.SECONDS);
        String id = created.resource().getIdElement().getIdPart();
        String key = rows.read(tx -> tx.binaryContent("p1", id, 1)).orElseThrow().blobKey().value();
        int acknowledged = events.indexOf("blob acknowledged " + key);
        int written = events.indexOf("row written with " + key);
        assertThat(acknowledged).as("the store acknowledged %s", key).isNotNegative();
        assertThat(written).as("the row naming %s was written after", key).isGreaterThan(acknowledged);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Records each acknowledged put; everything else goes straight through. */
  private final class RecordingBlobs implements BlobStore {
    private final BlobStore inner;

    RecordingBlobs(BlobStore inner) {
      this.inner = inner;
    }

    @Override
    public BlobInfo put(InputStream in, long maxBytes) throws IOException {
      BlobInfo info = inner.put(in, maxBytes);
      events.add("blob acknowledged " + info.key().value());
      return info;
    }

    @Override
    public Optional<Long> size(BlobKey key) throws IOException {
      return inner.size(key);
    }

    @Override
    public void transferTo(BlobKey key, long offset, long length, WritableByteChannel target) throws IOException {
      inner.transferTo(key, offset, length, target);
    }

    @Override
    public InputStream open(BlobKey key, long offset) throws IOException {
      return inner.open(key, offset);
    }

    @Override
    public void delete(BlobKey key) throws IOException {
      inner.delete(key);
    }

    @Override
    public void listOlderThan(Instant cutoff, Consumer<BlobKey> visitor, Predicate<BlobKey> resuming)
        throws IOException {
      inner.listOlderThan(cutoff, visitor, resuming);
    }

    @Override
    public ResumableBlobs resumable() {
      return inner.resumable();
    }

    @Override
    public boolean isReachable() {
      return inner.isReachable();
    }
  }

  /** Records, when a transaction's work is done, which blobs its rows name. */
  private final class RecordingStore implements ResourceStore {
    private final ResourceStore inner;

    RecordingStore(ResourceStore inner) {
      this.inner = inner;
    }

    @Override
    public <T> T inTransaction(Work<T> work) {
      return inner.inTransaction(tx -> {
        T result = work.run(tx);
        if (result instanceof Written w && w.resource() != null) {
          String id = w.resource().getIdElement().getIdPart();
          tx.binaryContent("p1", id, Long.parseLong(w.resource().getMeta().getVersionId()))
              .ifPresent(c -> events.add("row written with " + c.blobKey().value()));
        }
        return result;
      });
    }

    @Override
    public <T> T read(Work<T> work) {
      return inner.read(work);
    }
  }
}
