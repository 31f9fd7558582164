package org.fhirbox.http;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.fhirbox.audit.BinaryListener;
import org.fhirbox.auth.AuthModule;
import org.fhirbox.auth.Principal;
import org.fhirbox.auth.Scopes;
import org.fhirbox.binary.BinaryPolicy;
import org.fhirbox.binary.BinaryService;
import org.fhirbox.binary.ResumableUploads;
import org.fhirbox.binary.UploadIssuers;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.db.Database;
import org.fhirbox.db.JdbcResourceStore;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.AttachmentNormalizer;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.PatientCompartment;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.SearchIndexer;
import org.fhirbox.model.ResumableUpload;
import org.fhirbox.storage.FileBlobStore;
import org.fhirbox.testing.TestServer;
import org.h2.tools.Server;

/**
 * A test server and, beside it, the resumable uploads of another node: the classes the server
 * builds, on the server's database (H2 over TCP, as nodes share PostgreSQL) and blob directory.
 * Through a decorator of that node's database a test acts between two steps of the node's work,
 * where a request to the server could come in; so a race runs in the one order the test needs,
 * every time, without waiting for time to pass.
 */
final class UploadsOnAnotherNode implements AutoCloseable {
  private final Server h2;
  private final TestServer server;
  private final Database database;
  private final FileBlobStore files;
  private final ResumableUploads uploads;
  private final ResourceStore rows;
  private final AtomicReference<Interlude> interlude = new AtomicReference<>();
  private final AtomicReference<Predicate<ResourceStore>> kill = new AtomicReference<>();

  /** What the other node's work throws where a kill stops it. */
  static final class Killed extends RuntimeException {
    Killed() {
      super("the other node was killed here", null, false, false);
    }
  }

  /** What a test does once {@code when} holds after a piece of the other node's database work. */
  private record Interlude(Predicate<ResourceStore> when, Runnable then) {}

  private UploadsOnAnotherNode(Server h2, TestServer server, Clock clock) throws Exception {
    this.h2 = h2;
    this.server = server;
    FhirboxConfig config = server.server().config();
    this.database = new Database(config.databaseUrl(), config.get("FHIRBOX_DATABASE_USER"),
        config.get("FHIRBOX_DATABASE_PASSWORD"), 4);
    this.rows = new JdbcResourceStore(database);
    this.files = new FileBlobStore(server.dataDir().resolve("blobs"));
    ResourceStore interrupted = new Interrupted();
    FhirCodec codec = new FhirCodec(TestServer.FHIR);
    SearchIndexer indexer = new SearchIndexer(TestServer.FHIR);
    ResourceRepository repository = new ResourceRepository(codec,
        new AttachmentNormalizer(TestServer.FHIR, url -> Optional.empty()), indexer, clock);
    BinaryService binaries = new BinaryService(files, interrupted, repository,
        new BinaryPolicy(config.getLong("FHIRBOX_MAX_BINARY_BYTES"), Set.of(), Set.of()),
        new BinaryListener() {}, new PatientCompartment(codec, indexer));
    this.uploads = new ResumableUploads(interrupted, files, binaries, config.seconds("FHIRBOX_UPLOAD_EXPIRY"),
        config.seconds("FHIRBOX_UPLOAD_LEASE_SECONDS"), config.getInt("FHIRBOX_UPLOAD_MAX_OPEN"),
        config.getInt("FHIRBOX_UPLOAD_MAX_OPEN_PER_PROJECT"),
        new UploadIssuers(server.server().auth().clients()::find, server.server().auth().users()::find), clock);
  }

  /** A server with {@code settings} on {@code clock}, its database in {@code dir}, and the other node beside it. */
  static UploadsOnAnotherNode start(Path dir, Map<String, String> settings, Clock clock) throws Exception {
    Server h2 = Server.createTcpServer("-tcpPort", "0", "-baseDir", dir.toString(), "-ifNotExists").start();
    TestServer server = null;
    try {
      Map<String, String> s = new HashMap<>(settings);
      s.put("FHIRBOX_DATABASE_URL", "jdbc:h2:tcp://127.0.0.1:" + h2.getPort() + "/fhirbox");
      server = TestServer.start(s, clock);
      return new UploadsOnAnotherNode(h2, server, clock);
    } catch (Exception | Error e) {
      try (TestServer started = server) {
        h2.stop();
      }
      throw e;
    }
  }

  TestServer server() {
    return server;
  }

  /** The other node's resumable uploads. */
  ResumableUploads uploads() {
    return uploads;
  }

  /** The caller the server's {@link TestServer#client()} is: the owner of the uploads it creates. */
  static Principal serverClient() {
    return new Principal(TestServer.ADMIN_ID, AuthModule.SERVER_PROJECT, Scopes.parse("system/Binary.cruds"));
  }

  /**
   * A PATCH of {@code piece} at {@code offset} to the other node, by the server's client. It has
   * no HTTP request to audit, so it must not be the piece that completes the upload.
   */
  ResumableUpload patch(String id, long offset, Long length, byte[] piece) {
    return uploads.append(serverClient(), id, offset, length, piece.length, new ByteArrayInputStream(piece), null,
        null);
  }

  /**
   * Runs {@code then} once, on the other node's thread, as soon as {@code when} (asked of the
   * database directly) holds after one of the node's reads or transactions: the node waits for it.
   */
  void onceAfterDatabaseWork(Predicate<ResourceStore> when, Runnable then) {
    interlude.set(new Interlude(when, then));
  }

  /**
   * Stops the other node once, as a kill would, as soon as {@code when} (asked of the database
   * directly) holds before or after one of the node's reads or transactions: that work throws
   * {@link Killed} and does nothing more, and the leases it holds stay taken.
   */
  void killOnceAroundDatabaseWork(Predicate<ResourceStore> when) {
    kill.set(when);
  }

  private void killIfDue() {
    Predicate<ResourceStore> k = kill.get();
    if (k != null && k.test(rows) && kill.compareAndSet(k, null)) {
      throw new Killed();
    }
  }

  private void interlude() {
    Interlude i = interlude.get();
    if (i != null && i.when().test(rows) && interlude.compareAndSet(i, null)) {
      i.then().run();
    }
  }

  /**
   * The other node's database: the server's, and after each piece of work, the test's interlude;
   * before and after it, the test's kill.
   */
  private final class Interrupted implements ResourceStore {
    @Override
    public <T> T inTransaction(Work<T> work) {
      killIfDue();
      T result = rows.inTransaction(work);
      killIfDue();
      interlude();
      return result;
    }

    @Override
    public <T> T read(Work<T> work) {
      killIfDue();
      T result = rows.read(work);
      killIfDue();
      interlude();
      return result;
    }
  }

  @Override
  public void close() throws Exception {
    try (TestServer s = server) {
      files.close();
      database.close();
    } finally {
      h2.stop();
    }
  }
}
