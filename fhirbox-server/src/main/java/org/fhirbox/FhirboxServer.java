package org.fhirbox;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.ForwardedRequestCustomizer;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.fhirbox.audit.AuditModule;
import org.fhirbox.auth.AuthModule;
import org.fhirbox.auth.PasswordHasher;
import org.fhirbox.binary.BinaryImporter;
import org.fhirbox.binary.BinaryPolicy;
import org.fhirbox.binary.BinaryService;
import org.fhirbox.binary.IngestJobs;
import org.fhirbox.binary.IngestWorker;
import org.fhirbox.binary.OrphanSweeper;
import org.fhirbox.binary.SafeFetcher;
import org.fhirbox.binary.UrlPolicy;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.db.Database;
import org.fhirbox.db.JdbcResourceStore;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.AttachmentNormalizer;
import org.fhirbox.fhir.AttachmentSigner;
import org.fhirbox.fhir.BinaryAccess;
import org.fhirbox.fhir.BinaryRef;
import org.fhirbox.http.Cors;
import org.fhirbox.http.StorageResponder;
import org.fhirbox.http.StorageRoutes;
import org.fhirbox.signing.SigningKeys;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.fhir.BinaryData;
import org.fhirbox.fhir.BundleProcessor;
import org.fhirbox.fhir.CapabilityStatementFactory;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.SearchChains;
import org.fhirbox.fhir.SearchIncludes;
import org.fhirbox.fhir.SearchIndexer;
import org.fhirbox.fhir.SearchReindexer;
import org.fhirbox.fhir.SearchParser;
import org.fhirbox.http.BinaryRoutes;
import org.fhirbox.http.ErrorMapper;
import org.fhirbox.http.FhirRoutes;
import org.fhirbox.http.FhirboxServlet;
import org.fhirbox.http.JobRoutes;
import org.fhirbox.http.ResourceOutput;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobStore;
import org.fhirbox.http.ReadinessCheck;
import org.fhirbox.metrics.MetricsHandler;
import org.fhirbox.metrics.Metrics;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The wiring: builds every part by constructor from the configuration, and runs the HTTP server. */
public final class FhirboxServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FhirboxServer.class);

  private final FhirboxConfig config;
  private final Database database;
  private final BlobStore blobs;
  private final Metrics metrics = new Metrics();
  private final java.util.Optional<org.fhirbox.signing.ObjectUrlSigner> objectUrls;
  private final ResourceStore store;
  private final Server jetty;
  private final ServerConnector connector;
  private final ScheduledExecutorService background;
  private final OrphanSweeper sweeper;
  private final SearchReindexer reindexer;
  private final org.fhirbox.db.PlannerStatistics statistics;
  private final AuthModule auth;
  private final IngestWorker ingestWorker;
  private final AuditModule audit;
  private String baseUrl;

  public FhirboxServer(FhirboxConfig config) throws IOException {
    this(config, FhirContext.forR4Cached());
  }

  public FhirboxServer(FhirboxConfig config, FhirContext fhirContext) throws IOException {
    this.config = config;
    Clock clock = Clock.systemUTC();
    java.nio.file.Files.createDirectories(config.dataDir());
    PasswordHasher hasher = new PasswordHasher();
    if (config.isNewEmbeddedDatabase()) {
      // The first start stores the configured bootstrap client: stretch its secret beside the migrations.
      config.optional("FHIRBOX_BOOTSTRAP_CLIENT_SECRET").ifPresent(hasher::hashAhead);
    }
    // The schema migrates beside the construction below; the first query waits for it.
    this.database = Database.openMigratingInBackground(config.databaseUrl(), config.get("FHIRBOX_DATABASE_USER"),
        config.get("FHIRBOX_DATABASE_PASSWORD"), config.getInt("FHIRBOX_DATABASE_POOL_SIZE"),
        config.getLong("FHIRBOX_DATABASE_CONNECT_TIMEOUT"));
    // Built on first use: only the S3 modes need credentials, and the default chain is slow to make.
    java.util.function.Supplier<AwsCredentialsProvider> defaultChain = new java.util.function.Supplier<>() {
      private AwsCredentialsProvider chain;

      @Override
      public synchronized AwsCredentialsProvider get() {
        if (chain == null) {
          chain = DefaultCredentialsProvider.builder().build();
        }
        return chain;
      }
    };
    AwsCredentialsProvider awsCredentials = () -> defaultChain.get().resolveCredentials();
    this.blobs = Backends.blobStore(config, awsCredentials, metrics);
    this.store = new JdbcResourceStore(database);

    QueuedThreadPool threads = new QueuedThreadPool(200, 8);
    threads.setName("fhirbox-http");
    this.jetty = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setOutputBufferSize(64 * 1024);
    http.setRequestHeaderSize(16 * 1024);
    if (config.getBoolean("FHIRBOX_TRUST_PROXY")) {
      // The caller's address (audit trail, failed-authentication throttling) comes from
      // X-Forwarded-For or Forwarded (RFC 7239), which only a trusted proxy may set.
      http.addCustomizer(new ForwardedRequestCustomizer());
    }
    HttpConnectionFactory http1 = new HttpConnectionFactory(http);
    // Jetty reads 8 KiB per system call by default: 131,072 reads and as many trips through
    // its content machinery per GiB uploaded. 64 KiB is the largest size its buffer pool keeps.
    http1.setInputBufferSize(64 * 1024);
    this.connector = new ServerConnector(jetty, http1);
    connector.setHost(config.get("FHIRBOX_BIND"));
    connector.setPort(config.port());
    jetty.addConnector(connector);
    jetty.setStopTimeout(config.seconds("FHIRBOX_SHUTDOWN_TIMEOUT").toMillis());

    FhirCodec codec = new FhirCodec(fhirContext);
    SearchIndexer indexer = new SearchIndexer(fhirContext);
    SigningKeys signingKeys = config.optional("FHIRBOX_SIGNING_KEYS").isPresent()
        ? SigningKeys.parse(config.get("FHIRBOX_SIGNING_KEYS"))
        : SigningKeys.loadOrCreate(config.dataDir());
    StorageUrlSigner urlSigner = new StorageUrlSigner(signingKeys, config.seconds("FHIRBOX_SIGNED_URL_TTL"), clock);
    Backends.Signing signing = Backends.signing(config, urlSigner, awsCredentials, clock);
    this.objectUrls = signing.objectUrls();
    metrics.jobsQueueDepth(() -> store.read(tx -> tx.ingestJobs().pendingCount()));
    AttachmentNormalizer normalizer = new AttachmentNormalizer(fhirContext, this::recogniseOurUrl);
    ResourceRepository repository = new ResourceRepository(codec, normalizer, indexer, clock);
    this.reindexer = new SearchReindexer(store, indexer, codec);
    BinaryPolicy policy = new BinaryPolicy(config.getLong("FHIRBOX_MAX_BINARY_BYTES"),
        config.list("FHIRBOX_BINARY_DENY_TYPES"), config.list("FHIRBOX_BINARY_DENY_EXTENSIONS"));
    BinaryService binaryService = new BinaryService(blobs, store, repository, policy);
    BinaryData binaryData = new BinaryData() {
      @Override
      public BlobInfo store(byte[] data, String contentType) {
        return binaryService.storeDecoded(data, contentType);
      }

      @Override
      public void discard(BlobInfo info) {
        binaryService.discard(info);
      }
    };
    UrlPolicy ingestPolicy = new UrlPolicy(config.orderedList("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES"),
        config.orderedList("FHIRBOX_INGEST_IGNORED_URL_PREFIXES"));
    BinaryImporter importer = new BinaryImporter(new SafeFetcher(ingestPolicy, new SafeFetcher.Settings(
        config.seconds("FHIRBOX_INGEST_CONNECT_TIMEOUT"), config.seconds("FHIRBOX_INGEST_READ_TIMEOUT"),
        config.seconds("FHIRBOX_INGEST_TIMEOUT"), config.getInt("FHIRBOX_INGEST_MAX_REDIRECTS"),
        policy.maxBytes())), binaryService);
    IngestJobs ingestJobs = new IngestJobs(fhirContext, codec, ingestPolicy,
        java.util.Set.copyOf(config.orderedList("FHIRBOX_INGEST_DISABLED_PROJECTS")), clock);
    repository.addWriteListener(ingestJobs);
    this.ingestWorker = new IngestWorker(store, repository, ingestJobs, importer, new IngestWorker.Settings(
        java.time.Duration.ofMillis(config.getLong("FHIRBOX_INGEST_POLL_MILLIS")),
        config.seconds("FHIRBOX_INGEST_LEASE_SECONDS"), config.getInt("FHIRBOX_INGEST_MAX_ATTEMPTS"),
        java.time.Duration.ofMillis(config.getLong("FHIRBOX_INGEST_BACKOFF_MILLIS")),
        config.getInt("FHIRBOX_INGEST_CONCURRENCY")), clock);
    BundleProcessor bundles = new BundleProcessor(store, repository, binaryData);
    int maxCount = config.getInt("FHIRBOX_SEARCH_MAX_COUNT");
    SearchParser searchParser = new SearchParser(indexer, 20, maxCount);
    CapabilityStatementFactory capabilities = new CapabilityStatementFactory(repository, indexer,
        List.of(new org.fhirbox.fhir.ServerCapabilities(this::baseUrl)));
    BinaryAccess binaryAccess = new BinaryAccess(store);
    AttachmentSigner attachmentSigner = new AttachmentSigner(fhirContext, store, binaryAccess, signing.signer());
    ResourceOutput output = new ResourceOutput(codec, attachmentSigner, (principal, binary, base) ->
        store.read(tx -> attachmentSigner.signedUrl(tx, principal, binary.getIdElement().getIdPart(),
            Long.parseLong(binary.getMeta().getVersionId()), base)));
    StorageResponder responder = new StorageResponder();
    this.audit = new AuditModule(config, store, repository, clock);
    audit.trail().ifPresent(t -> metrics.audit(t::queueDepth, t::writtenCount, t::droppedCount));
    BinaryRoutes binaryRoutes = new BinaryRoutes(binaryService, store, blobs, repository, binaryAccess,
        attachmentSigner, responder, output, audit.binaryListener());
    StorageRoutes storageRoutes = new StorageRoutes(urlSigner, store, blobs, responder, clock,
        audit.downloadListener());
    FhirRoutes fhirRoutes = new FhirRoutes(store, repository, binaryRoutes, bundles, searchParser,
        new SearchChains(maxCount), new SearchIncludes(store, maxCount), capabilities,
        output, config.getLong("FHIRBOX_MAX_JSON_BYTES"), maxCount, importer);
    ErrorMapper errors = new ErrorMapper(codec);
    this.auth = new AuthModule(config, database, clock, this::baseUrl, hasher);
    FhirboxServlet servlet = new FhirboxServlet(this::baseUrl, fhirRoutes, storageRoutes,
        new Cors(config.list("FHIRBOX_CORS_ORIGINS")), auth.authenticator(), auth.tokenEndpoint(),
        auth.adminRoutes(), errors, List.of(new ReadinessCheck("database", database::isReachable),
            new ReadinessCheck("blobStore", blobs::isReachable)), new JobRoutes(store));

    ServletContextHandler context = new ServletContextHandler();
    context.addServlet(new ServletHolder(servlet), "/*");
    GracefulHandler graceful = new GracefulHandler(new MetricsHandler(metrics, context));
    jetty.setHandler(graceful);

    this.statistics = new org.fhirbox.db.PlannerStatistics(database);
    this.sweeper = new OrphanSweeper(blobs, store, config.seconds("FHIRBOX_ORPHAN_GRACE"), clock);
    this.background = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "fhirbox-background");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Write-time recognition of our own absolute URLs: FHIR REST URLs of a Binary under one of our
   * base URLs, and signed storage URLs under one of them (or host-relative).
   */
  private java.util.Optional<AttachmentNormalizer.Recognized> recogniseOurUrl(String url) {
    List<String> bases = new java.util.ArrayList<>(config.orderedList("FHIRBOX_BASE_URL_ALIASES"));
    if (baseUrl != null) {
      bases.add(baseUrl);
    }
    for (String b : bases) {
      String base = b.endsWith("/") ? b : b + "/";
      if (url.startsWith(base + "fhir/R4/Binary/")) {
        return BinaryRef.tryParseRelative(url.substring((base + "fhir/R4/").length()))
            .map(r -> new AttachmentNormalizer.Recognized(r, false));
      }
      if (url.startsWith(base + "storage/")) {
        return signedStorageUrl(url);
      }
    }
    if (objectUrls.isPresent()) {
      java.util.Optional<org.fhirbox.storage.BlobKey> key = objectUrls.get().recogniseBlobKey(url);
      if (key.isPresent()) {
        // An S3 or CloudFront URL names the blob; the newest Binary version stored in it is meant.
        return store.read(tx -> tx.binaryContentByBlob(key.get())).stream()
            .max(java.util.Comparator.comparingLong(org.fhirbox.binary.BinaryContent::versionId))
            .map(c -> new AttachmentNormalizer.Recognized(new BinaryRef(c.binaryId(), c.versionId()), true));
      }
    }
    return url.startsWith("/storage/") ? signedStorageUrl(url) : java.util.Optional.empty();
  }

  private static java.util.Optional<AttachmentNormalizer.Recognized> signedStorageUrl(String url) {
    return StorageUrlSigner.tryParse(url).map(r -> new AttachmentNormalizer.Recognized(
        new BinaryRef(r.binaryId(), Long.parseLong(r.versionId())), true));
  }

  /** Starts listening; returns once requests are served. */
  public FhirboxServer start() throws Exception {
    database.awaitMigrated();
    // printed, not logged: the generated secret is shown exactly once and never reaches a log file
    auth.bootstrap().ifPresent(c -> System.out.println("fhirbox: created admin client in project '" + c.project()
        + "'\n  client id:     " + c.clientId() + "\n  client secret: " + c.clientSecret()
        + "\n  (shown once; store it now)"));
    audit.start();
    jetty.start();
    this.baseUrl = config.baseUrl(connector.getLocalPort());
    background.schedule(org.fhirbox.storage.FileBlobStore::warmUpDigests, 1, TimeUnit.SECONDS);
    background.execute(this::checkBootstrapSecretQuietly);
    background.execute(this::reindexQuietly);
    long sweepEvery = Math.max(1, config.getLong("FHIRBOX_ORPHAN_SWEEP_INTERVAL"));
    background.scheduleWithFixedDelay(this::sweepQuietly, Math.min(60, sweepEvery), sweepEvery, TimeUnit.SECONDS);
    if (statistics.needed()) {
      background.scheduleWithFixedDelay(this::analyzeQuietly, 0, 10, TimeUnit.SECONDS);
    }
    ingestWorker.start();
    return this;
  }

  private void checkBootstrapSecretQuietly() {
    try {
      auth.checkBootstrapSecret();
    } catch (RuntimeException e) {
      LOG.warn("checking the bootstrap client failed: {}", e.getMessage());
    }
  }

  private void analyzeQuietly() {
    try {
      statistics.refresh();
    } catch (java.sql.SQLException | RuntimeException e) {
      LOG.warn("refreshing planner statistics failed: {}", e.getMessage());
    }
  }

  private void reindexQuietly() {
    try {
      reindexer.run();
    } catch (RuntimeException e) {
      LOG.warn("re-indexing for search failed; it is tried again at the next start", e);
    }
  }

  private void sweepQuietly() {
    try {
      sweeper.sweep();
    } catch (IOException | RuntimeException e) {
      LOG.warn("orphan sweep failed", e);
    }
  }

  /** The Prometheus metrics served at {@code /metrics}; feed the job queue depth here. */
  public Metrics metrics() {
    return metrics;
  }

  public OrphanSweeper sweeper() {
    return sweeper;
  }

  public int port() {
    return connector.getLocalPort();
  }

  public String baseUrl() {
    return baseUrl;
  }

  /** Authentication and client administration (tests and the CLI create clients through it). */
  public AuthModule auth() {
    return auth;
  }

  /** The Binary audit trail (tests read its counters). */
  public AuditModule audit() {
    return audit;
  }

  public FhirboxConfig config() {
    return config;
  }

  /** Stops accepting, lets in-flight requests finish (bounded by FHIRBOX_SHUTDOWN_TIMEOUT), then closes. */
  @Override
  public void close() throws Exception {
    background.shutdownNow();
    try {
      ingestWorker.close();
      jetty.stop();
    } finally {
      audit.close();
      database.close();
      blobs.close();
    }
  }
}
