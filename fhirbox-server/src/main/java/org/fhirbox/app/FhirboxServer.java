package org.fhirbox.app;

import org.fhirbox.storage.FileBlobStore;
import org.fhirbox.fhir.ServerCapabilities;
import org.fhirbox.fhir.ConditionalMatch;
import org.fhirbox.db.PlannerStatistics;
import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.ForwardedRequestCustomizer;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.fhirbox.audit.AuditModule;
import org.fhirbox.auth.AppClients;
import org.fhirbox.auth.AuthModule;
import org.fhirbox.auth.ClaimedText;
import org.fhirbox.auth.PasswordHasher;
import org.fhirbox.auth.SignInModule;
import org.fhirbox.auth.SigningKeyStore;
import org.fhirbox.binary.AuditedWrites;
import org.fhirbox.binary.BinaryImporter;
import org.fhirbox.binary.BlobWriteLeases;
import org.fhirbox.binary.BinaryReads;
import org.fhirbox.binary.BinaryService;
import org.fhirbox.binary.DirectUploads;
import org.fhirbox.binary.HostResolver;
import org.fhirbox.binary.IngestJobs;
import org.fhirbox.binary.IngestWorker;
import org.fhirbox.binary.JobService;
import org.fhirbox.binary.OrphanSweeper;
import org.fhirbox.binary.ResumableUploads;
import org.fhirbox.binary.UploadIssuers;
import org.fhirbox.binary.UrlPolicy;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.db.Database;
import org.fhirbox.db.JdbcResourceStore;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.AttachmentNormalizer;
import org.fhirbox.fhir.AttachmentSigner;
import org.fhirbox.fhir.BinaryAccess;
import org.fhirbox.fhir.OwnUrls;
import org.fhirbox.fhir.PatientCompartment;
import org.fhirbox.fhir.References;
import org.fhirbox.http.Cors;
import org.fhirbox.http.StorageResponder;
import org.fhirbox.http.StorageRoutes;
import org.fhirbox.signing.S3UploadSigner;
import org.fhirbox.signing.SigningKeys;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.binary.Thumbnails;
import org.fhirbox.signing.UploadUrlSigner;
import org.fhirbox.fhir.BundleProcessor;
import org.fhirbox.fhir.CapabilityStatementFactory;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.Patch;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.ResourceService;
import org.fhirbox.fhir.SearchChains;
import org.fhirbox.fhir.SearchIncludes;
import org.fhirbox.fhir.SearchIndexer;
import org.fhirbox.fhir.SearchReindexer;
import org.fhirbox.fhir.SearchParser;
import org.fhirbox.http.AccountRoutes;
import org.fhirbox.http.AdminRoutes;
import org.fhirbox.http.AppAssets;
import org.fhirbox.http.AppRoutes;
import org.fhirbox.http.BearerAuthenticator;
import org.fhirbox.http.BinaryRoutes;
import org.fhirbox.http.OAuthRoutes;
import org.fhirbox.http.ErrorMapper;
import org.fhirbox.http.FhirRoutes;
import org.fhirbox.http.FhirboxServlet;
import org.fhirbox.http.JettyErrorHandler;
import org.fhirbox.http.JobRoutes;
import org.fhirbox.http.MinimumReadRate;
import org.fhirbox.http.MinimumWriteRate;
import org.fhirbox.http.ResourceOutput;
import org.fhirbox.http.TusRoutes;
import org.fhirbox.storage.BlobStore;
import org.fhirbox.http.ReadinessCheck;
import org.fhirbox.logging.ConsoleLogging;
import org.fhirbox.metrics.MetricsHandler;
import org.fhirbox.metrics.Metrics;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The wiring: builds every part by constructor from the configuration, and runs the HTTP server. */
public final class FhirboxServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FhirboxServer.class);
  private static final long BACKGROUND_STOP_SECONDS = 10;

  private final FhirboxConfig config;
  private final Database database;
  private final BlobStore blobs;
  private final BlobWriteLeases writeLeases;
  private final Metrics metrics = new Metrics();
  private final ResourceStore store;
  private final FhirCodec codec;
  private final Server jetty;
  private final ServerConnector connector;
  private final ScheduledExecutorService background;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final OrphanSweeper sweeper;
  private final SearchReindexer reindexer;
  private final PlannerStatistics statistics;
  private final AuthModule auth;
  private final SignInModule signIn;
  private final AppClients appClients;
  private final IngestWorker ingestWorker;
  private final BinaryImporter importer;
  private final AuditModule audit;
  private final ClaimedText claimed;
  private final ResumableUploads uploads;
  private final S3UploadSigner s3Uploads;
  private final DirectUploads directUploads;
  private volatile String baseUrl;

  public FhirboxServer(FhirboxConfig config) throws IOException {
    this(config, FhirContext.forR4Cached());
  }

  /**
   * Builds the server bottom-up: storage and database, then the FHIR services, the Binary
   * services, the routes, and Jetty around them. Nothing listens until {@link #start}.
   */
  public FhirboxServer(FhirboxConfig config, FhirContext fhirContext) throws IOException {
    this(config, fhirContext, Clock.systemUTC());
  }

  /** With the clock every expiry (tokens, signed URLs, audit times, jobs) is measured against. */
  public FhirboxServer(FhirboxConfig config, FhirContext fhirContext, Clock clock) throws IOException {
    this(config, fhirContext, clock, HostResolver.SYSTEM);
  }

  /** With {@code resolver} resolving the hosts of URLs ingestion fetches (the system's, or a test's). */
  public FhirboxServer(FhirboxConfig config, FhirContext fhirContext, Clock clock, HostResolver resolver)
      throws IOException {
    this(config, fhirContext, clock, resolver, new PasswordHasher());
  }

  /** With {@code hasher} stretching the secrets and passwords people choose (a test's may stretch less). */
  public FhirboxServer(FhirboxConfig config, FhirContext fhirContext, Clock clock, HostResolver resolver,
      PasswordHasher hasher) throws IOException {
    this.config = config;
    // logging was set up before the config file was read; its FHIRBOX_LOG_LEVEL counts from here
    ConsoleLogging.applyLevel(config.get("FHIRBOX_LOG_LEVEL")).ifPresent(LOG::warn);
    Files.createDirectories(config.dataDir());
    this.database = openDatabase(config);
    AwsCredentialsProvider awsCredentials = Backends.defaultAwsCredentialsOnFirstUse();
    this.writeLeases = new BlobWriteLeases(database, clock);
    this.blobs = Backends.blobStore(config, awsCredentials, metrics, writeLeases, !database.soleWriter());
    this.store = new JdbcResourceStore(database);
    QueuedThreadPool httpThreads = httpThreads(config.getInt("FHIRBOX_HTTP_THREADS"));
    metrics.httpThreads(httpThreads::getMaxThreads, httpThreads::getBusyThreads, httpThreads::getQueueSize);
    this.jetty = new Server(httpThreads);
    this.connector = connector(jetty, config);

    // FHIR: parsing, search, and the repository that normalises Attachment URLs on write
    this.codec = new FhirCodec(fhirContext);
    List<String> baseUrlAliases = config.orderedList("FHIRBOX_BASE_URL_ALIASES");
    References references = new References(baseUrlAliases, this::baseUrl);
    SearchIndexer indexer = new SearchIndexer(fhirContext, references);
    PatientCompartment compartment = new PatientCompartment(codec, indexer);
    SigningKeys signingKeys = signingKeys(config, database, clock);
    StorageUrlSigner urlSigner = new StorageUrlSigner(signingKeys, config.seconds("FHIRBOX_SIGNED_URL_TTL"), clock);
    Backends.Signing signing = Backends.signing(config, urlSigner, awsCredentials, clock);
    metrics.jobsQueueDepth(() -> store.read(tx -> tx.ingestJobs().pendingCount()));
    OwnUrls ownUrls = new OwnUrls(references, signing.objectUrls(), store);
    ResourceRepository repository = new ResourceRepository(codec,
        new AttachmentNormalizer(fhirContext, ownUrls::recognise), indexer, clock);
    this.reindexer = new SearchReindexer(store, indexer, codec);

    // Binaries: uploads, imports and the ingestion of external Attachment URLs
    // the audit trail's fingerprints of refused identities, keyed on every node alike (ClaimedText)
    this.claimed = new ClaimedText(signingKeys.hmac(signingKeys.currentKeyId(),
        "fhirbox claimed-text fingerprints".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    this.audit = new AuditModule(config, store, repository, clock, claimed);
    audit.trail().ifPresent(t -> {
      metrics.audit(t::queueDepth, t::writtenCount, t::waitCount, t::droppedCount);
      metrics.auditWriter(t::failedCount, t::writerAlive);
    });
    // its token key's read waits for the database anyway; one that cannot be opened is what a failed start reports
    database.awaitMigrated();
    this.auth = new AuthModule(config, database, clock, this::baseUrl, hasher, claimed);
    // an upload URL or resumable upload stores nothing once its client is disabled or loses the scope
    UploadIssuers uploadIssuers = new UploadIssuers(auth.clients()::find, auth.users()::find);
    BinaryService binaryService = new BinaryService(blobs, store, repository, BinaryWiring.policy(config),
        audit.binaryListener(), compartment);
    UrlPolicy ingestPolicy = UrlPolicy.fromSettings(config::orderedList);
    // $import's fetches are requests, which a stop lets finish; the background ingestion's are cut
    // when it stops (its jobs handed back), so each has a fetch client of its own
    this.importer = new BinaryImporter(BinaryWiring.fetcher(config, ingestPolicy, binaryService, resolver),
        binaryService, config.getInt("FHIRBOX_INGEST_IMPORT_CONCURRENCY"));
    BinaryImporter ingestImporter = new BinaryImporter(
        BinaryWiring.fetcher(config, ingestPolicy, binaryService, resolver), binaryService, 1);
    this.uploads = new ResumableUploads(store, blobs, binaryService, config.seconds("FHIRBOX_UPLOAD_EXPIRY"),
        config.seconds("FHIRBOX_UPLOAD_LEASE_SECONDS"), config.getInt("FHIRBOX_UPLOAD_MAX_OPEN"),
        config.getInt("FHIRBOX_UPLOAD_MAX_OPEN_PER_PROJECT"), uploadIssuers, clock);
    IngestJobs ingestJobs = BinaryWiring.ingestJobs(config, fhirContext, codec, ingestPolicy, clock);
    repository.addWriteListener(ingestJobs);
    this.ingestWorker = new IngestWorker(store, repository, ingestJobs, ingestImporter, audit.binaryListener(),
        BinaryWiring.ingest(config), clock);

    // The services the routes call, and the one exit that signs Attachments on the way out
    int maxCount = config.getInt("FHIRBOX_SEARCH_MAX_COUNT");
    BinaryAccess binaryAccess = new BinaryAccess(store, compartment);
    SearchParser searchParser = new SearchParser(indexer, 20, maxCount, clock);
    SearchChains searchChains = new SearchChains(maxCount, config.getInt("FHIRBOX_SEARCH_MAX_VALUES"));
    ConditionalMatch conditionalMatch = new ConditionalMatch(searchParser, searchChains, compartment, binaryAccess);
    ErrorMapper errors = new ErrorMapper(codec);
    ResourceService resources = new ResourceService(store, repository,
        new BundleProcessor(store, repository, BinaryWiring.inlineData(binaryService), binaryAccess, compartment,
            conditionalMatch, errors::translate, config.getInt("FHIRBOX_BUNDLE_MAX_ENTRIES"),
            config.getLong("FHIRBOX_MAX_JSON_BYTES")),
        searchParser, searchChains, new SearchIncludes(maxCount, compartment), binaryAccess, compartment, maxCount);
    CapabilityStatementFactory capabilities = new CapabilityStatementFactory(repository, indexer,
        List.of(new ServerCapabilities(AuthModule.issuer(config, this::baseUrl))));
    AttachmentSigner attachmentSigner = new AttachmentSigner(fhirContext, store, binaryAccess, signing.signer());
    // The top-level Binary.url Medplum clients read; FHIRBOX_BINARY_URL_FIELD=false leaves it out
    ResourceOutput.BinaryUrl binaryUrl = !config.getBoolean("FHIRBOX_BINARY_URL_FIELD") ? ResourceOutput.BinaryUrl.NONE
        : (principal, binary, base) -> store.read(tx -> attachmentSigner.signedUrl(tx, principal,
            binary.getIdElement().getIdPart(), Long.parseLong(binary.getMeta().getVersionId()), base));
    ResourceOutput output = new ResourceOutput(codec, attachmentSigner, binaryUrl);
    BinaryReads binaryReads = new BinaryReads(store, repository, binaryAccess, audit.binaryListener(),
        audit.downloadListener());

    // HTTP: one route class per area, mounted by the servlet
    StorageResponder responder = new StorageResponder();
    this.s3Uploads = Backends.s3Uploads(config, awsCredentials);
    ScheduledThreadPoolExecutor backgroundThread = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "fhirbox-background");
      t.setDaemon(true);
      return t;
    });
    backgroundThread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // a stop starts nothing new
    this.background = backgroundThread;

    this.directUploads = new DirectUploads(binaryService, store, new UploadUrlSigner(signingKeys, clock), s3Uploads,
        audit.binaryListener(), config.seconds("FHIRBOX_ORPHAN_GRACE"), background, clock, writeLeases, uploadIssuers);
    BinaryRoutes binaryRoutes = new BinaryRoutes(binaryService, binaryReads, blobs, attachmentSigner, responder,
        output, directUploads, urlSigner);
    StorageRoutes storageRoutes = new StorageRoutes(urlSigner, binaryReads, blobs, responder, clock, directUploads,
        output, new Thumbnails(blobs, Runtime.getRuntime().availableProcessors(), 16L << 20),
        binaryService.policy().maxBytes());
    FhirRoutes fhirRoutes = new FhirRoutes(resources, new AuditedWrites(resources, binaryService), binaryRoutes,
        capabilities, output, config.getLong("FHIRBOX_MAX_JSON_BYTES"), importer);
    this.signIn = new SignInModule(config, database, clock, auth);
    ObjectMapper json = new ObjectMapper();
    this.appClients = new AppClients(auth.clients(), auth.users());
    Cors cors = new Cors(config.list("FHIRBOX_CORS_ORIGINS"));
    FhirboxServlet servlet = new FhirboxServlet(this::baseUrl, fhirRoutes, storageRoutes, cors,
        new BearerAuthenticator(auth.tokens(), auth.clientAuthenticator(), audit.clientAuthListener()),
        new OAuthRoutes(auth.clientAuthenticator(), appClients, auth.tokens(), signIn, resources, audit.signInListener(),
            audit.clientAuthListener(), auth.issuer(), auth.audiences(), json),
        new AdminRoutes(auth.clients(), auth.users(), auth.passwordLinks(), json, audit.adminListener()),
        errors, readiness(database, blobs),
        new JobRoutes(new JobService(store, clock, ingestJobs), auth.users(), audit.adminListener()),
        new AccountRoutes(auth.passwordLinks(), codec),
        new TusRoutes(uploads), new AppRoutes(AppAssets.load(FhirboxServer.class.getClassLoader()), json,
            config.seconds("FHIRBOX_REFRESH_TOKEN_TTL").toSeconds(), signing.objectUrls()));
    ServletContextHandler context = new ServletContextHandler();
    context.addServlet(new ServletHolder(servlet), "/*");
    // Jetty's own errors (bad request line, 414, 431, ambiguous paths) leave through the same mapper
    JettyErrorHandler jettyErrors = new JettyErrorHandler(errors, cors, this::baseUrl);
    context.setErrorHandler(jettyErrors);
    jetty.setErrorHandler(jettyErrors);
    // A body trickled slower than the minimum rate is cut (408), and a response taken slower than its
    // minimum rate loses its connection, so that slow sockets cannot hold every thread
    MinimumWriteRate slowReaders = new MinimumWriteRate(context, config.getLong("FHIRBOX_MIN_RESPONSE_BYTES_PER_SECOND"),
        config.seconds("FHIRBOX_MIN_RESPONSE_RATE_SECONDS"));
    jetty.setHandler(new GracefulHandler(new MetricsHandler(metrics, new MinimumReadRate(slowReaders,
        config.getLong("FHIRBOX_MIN_REQUEST_BYTES_PER_SECOND"), config.seconds("FHIRBOX_MIN_REQUEST_RATE_SECONDS")))));

    // Background work: planner statistics, orphan sweeping
    this.statistics = new PlannerStatistics(database);
    this.sweeper = new OrphanSweeper(blobs, store, config.seconds("FHIRBOX_ORPHAN_GRACE"), clock, uploads,
        s3Uploads, writeLeases);
  }

  /** The database opens and its schema migrates beside the rest of the construction; the first query waits. */
  private static Database openDatabase(FhirboxConfig config) {
    return Database.openMigratingInBackground(config.databaseUrl(), config.get("FHIRBOX_DATABASE_USER"),
        config.get("FHIRBOX_DATABASE_PASSWORD"), config.getInt("FHIRBOX_DATABASE_POOL_SIZE"),
        config.getLong("FHIRBOX_DATABASE_CONNECT_TIMEOUT"), config.getBoolean("FHIRBOX_H2_SYNC_COMMITS"));
  }

  /** H2 opened by this process alone: not over TCP or SSL, not shared through AUTO_SERVER. */
  static boolean isEmbeddedH2(String url) {
    String u = url.toLowerCase(Locale.ROOT);
    return u.startsWith("jdbc:h2:") && !u.startsWith("jdbc:h2:tcp:") && !u.startsWith("jdbc:h2:ssl:")
        && !u.replace(" ", "").contains("auto_server=true");
  }

  /**
   * The request threads. A request holds its thread while its body arrives and while its response
   * leaves, so slow clients (within the minimum rates) each take one: {@code max} bounds the
   * requests served at once, and the rest wait in the pool's queue.
   */
  private static QueuedThreadPool httpThreads(int max) {
    QueuedThreadPool threads = new QueuedThreadPool(max, 8);
    threads.setName("fhirbox-http");
    return threads;
  }

  private static ServerConnector connector(Server jetty, FhirboxConfig config) {
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setOutputBufferSize(64 * 1024);
    http.setRequestHeaderSize(16 * 1024);
    if (config.getBoolean("FHIRBOX_TRUST_PROXY")) {
      // The caller's address (audit trail, failed-authentication throttling) comes from the
      // X-Forwarded-For entry the nearest proxy appended, never from what the caller wrote there
      // or in Forwarded (NearestProxyHeaders); X-Forwarded-Proto tells https.
      http.addCustomizer(new NearestProxyHeaders());
      http.addCustomizer(new ForwardedRequestCustomizer());
    }
    HttpConnectionFactory http1 = new HttpConnectionFactory(http);
    // Jetty reads 8 KiB per system call by default: 131,072 reads and as many trips through
    // its content machinery per GiB uploaded. 64 KiB is the largest size its buffer pool keeps.
    http1.setInputBufferSize(64 * 1024);
    ServerConnector connector = MinimumWriteRate.connector(jetty, http1);
    connector.setHost(config.get("FHIRBOX_BIND"));
    connector.setPort(config.port());
    // The listen(2) backlog: connections the kernel completes before Jetty accepts them. Beyond it
    // a burst's SYNs are dropped and retried after 1 s, 3 s, ... (Linux caps it at net.core.somaxconn).
    connector.setAcceptQueueSize(config.getInt("FHIRBOX_ACCEPT_QUEUE"));
    // How long a connection may go without a byte either way: a client that stops sending mid-body
    // loses its connection then (and a keep-alive connection between requests is closed)
    connector.setIdleTimeout(config.seconds("FHIRBOX_IDLE_TIMEOUT").toMillis());
    jetty.addConnector(connector);
    // Past this many open connections no more are accepted until one closes (they wait in the
    // backlog): sockets that trickle their headers cannot use up the process's file descriptors
    jetty.addBean(new NetworkConnectionLimit(config.getInt("FHIRBOX_MAX_CONNECTIONS"), connector));
    jetty.setStopTimeout(config.seconds("FHIRBOX_SHUTDOWN_TIMEOUT").toMillis());
    return connector;
  }

  /**
   * The keys of signed URLs: FHIRBOX_SIGNING_KEYS, else one kept where every node finds it: in the
   * data folder of the one process an embedded H2 database has, in the database otherwise. A key
   * file left in the data folder by an earlier start on that database (before the key moved into
   * it) still verifies the URLs it signed.
   */
  private static SigningKeys signingKeys(FhirboxConfig config, Database database, Clock clock) throws IOException {
    if (config.optional("FHIRBOX_SIGNING_KEYS").isPresent()) {
      return SigningKeys.parse(config.get("FHIRBOX_SIGNING_KEYS"));
    }
    if (isEmbeddedH2(config.databaseUrl())) {
      return SigningKeys.loadOrCreate(config.dataDir());
    }
    // the key's read waits for the database anyway; one that cannot be opened is what a failed start reports
    database.awaitMigrated();
    SigningKeys shared = new SigningKeyStore(database, clock).loadOrCreateUrlKeys();
    return SigningKeys.readIfPresent(config.dataDir()).map(shared::alsoVerifying).orElse(shared);
  }

  /** Starts listening; returns once requests are served. */
  public FhirboxServer start() throws Exception {
    config.unknownSettingWarnings().forEach(LOG::warn);
    database.awaitMigrated();
    if (isEmbeddedH2(config.databaseUrl())) {
      // an embedded database has this one process: leases left in it died with the previous one
      uploads.releaseLeasesOfAnEarlierProcess();
    }
    // printed, not logged: the generated secret is shown exactly once and never reaches a log file
    auth.bootstrap().ifPresent(c -> System.out.println("fhirbox: created admin client in project '" + c.project()
        + "'\n  client id:     " + c.clientId() + "\n  client secret: " + c.clientSecret()
        + "\n  (shown once; store it now)"));
    auth.bootstrapUser();
    audit.start();
    jetty.start();
    this.baseUrl = config.baseUrl(connector.getLocalPort());
    registerAppClientQuietly();
    background.schedule(FileBlobStore::warmUpDigests, 1, TimeUnit.SECONDS);
    // before the re-indexing, which after an upgrade may take minutes; this takes about a second
    background.execute(this::warmUpFhirPathQuietly);
    background.execute(this::reindexQuietly);
    long sweepEvery = config.getLong("FHIRBOX_ORPHAN_SWEEP_INTERVAL");
    background.scheduleWithFixedDelay(this::sweepQuietly, Math.min(60, sweepEvery), sweepEvery, TimeUnit.SECONDS);
    if (s3Uploads != null) {
      long check = DirectUploads.CHECK_INTERVAL.toSeconds();
      background.scheduleWithFixedDelay(this::confirmUploadsQuietly, check, check, TimeUnit.SECONDS);
    }
    if (statistics.needed()) {
      background.scheduleWithFixedDelay(this::analyzeQuietly, 0, 10, TimeUnit.SECONDS);
    }
    ingestWorker.start();
    return this;
  }

  /** The web app's client in project default, sending people back to this base URL's app page. */
  private void registerAppClientQuietly() {
    try {
      if (appClients.clientId(AuthModule.SERVER_PROJECT, AppRoutes.appUrl(baseUrl)).isEmpty()) {
        LOG.warn("the web app has no client");
      }
    } catch (IllegalArgumentException e) {
      // ClientProfile refuses a plain-http redirect URI on a host other than a loopback one
      LOG.warn("the web app cannot sign people in at {}: {}", AppRoutes.appUrl(baseUrl), e.getMessage());
    }
  }

  private void analyzeQuietly() {
    try {
      statistics.refresh();
    } catch (java.sql.SQLException | RuntimeException e) {
      LOG.warn("refreshing planner statistics failed: {}", e.getMessage());
    }
  }

  /**
   * Loads the FHIRPath engine ({@link Patch#warmUpFhirPath}). A failure is logged as a warning, not
   * thrown: it is what every FHIRPath Patch would then meet (a library missing from the class path),
   * and the server serves everything else.
   */
  private void warmUpFhirPathQuietly() {
    try {
      Patch.warmUpFhirPath(codec);
    } catch (RuntimeException | LinkageError e) {
      LOG.warn("the FHIRPath engine did not load, so FHIRPath Patches will fail: {}", e.toString());
    }
  }

  private void reindexQuietly() {
    try {
      reindexer.run();
    } catch (RuntimeException e) {
      LOG.warn("re-indexing for search failed; it is tried again at the next start", e);
    }
  }

  private void confirmUploadsQuietly() {
    try {
      directUploads.confirmDue();
    } catch (RuntimeException e) {
      LOG.warn("checking unconfirmed uploads to S3 failed", e);
    }
  }

  /**
   * Stops Jetty, waiting up to FHIRBOX_SHUTDOWN_TIMEOUT for requests in flight. Jetty then reports those still
   * running as a TimeoutException: the documented bound, not a failed stop, so it is logged and the stop goes on.
   */
  private void stopJetty() throws Exception {
    try {
      jetty.stop();
    } catch (TimeoutException e) {
      LOG.warn("requests still in flight after FHIRBOX_SHUTDOWN_TIMEOUT ({} s) were cut",
          config.getLong("FHIRBOX_SHUTDOWN_TIMEOUT"));
    }
  }

  /** Waits a while for the background work under way (a sweep, the re-indexing) before the database closes. */
  private void awaitBackground() {
    try {
      if (!background.awaitTermination(BACKGROUND_STOP_SECONDS, TimeUnit.SECONDS)) {
        LOG.warn("background work still running after {} s; the database closes under it", BACKGROUND_STOP_SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeImporterQuietly() {
    try {
      importer.close();
    } catch (Exception e) {
      LOG.warn("stopping the $import fetch client failed", e);
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

  /** The thread of the background work (sweeps, re-indexing); tests give it work of their own. */
  ScheduledExecutorService background() {
    return background;
  }

  /** Presigned direct uploads; tests run the background check of uploads to S3 through it. */
  public DirectUploads directUploads() {
    return directUploads;
  }

  /** Resumable (tus) uploads; tests hold their requests at chosen points through it. */
  public ResumableUploads resumableUploads() {
    return uploads;
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

  /** Sign-in for people: users, authorization codes, refresh tokens (tests create users through it). */
  public SignInModule signIn() {
    return signIn;
  }

  /**
   * What {@code /readyz} reports: the database, the blob store and, with audit on, the audit
   * writer, without which every audited request would wait out a full queue.
   */
  private List<ReadinessCheck> readiness(Database database, BlobStore blobs) {
    List<ReadinessCheck> checks = new java.util.ArrayList<>(List.of(
        new ReadinessCheck("database", database::isReachable), new ReadinessCheck("blobStore", blobs::isReachable)));
    audit.trail().ifPresent(t -> checks.add(new ReadinessCheck("auditWriter", t::writerAlive)));
    return checks;
  }

  /** What the audit trail keeps of refused identities (tests look fingerprints up with it). */
  public ClaimedText claimedText() {
    return claimed;
  }

  /** The Binary audit trail (tests read its counters). */
  public AuditModule audit() {
    return audit;
  }

  public FhirboxConfig config() {
    return config;
  }

  /** The resource store, whose transactions each hold one connection of the pool (tests fill the pool with it). */
  public ResourceStore store() {
    return store;
  }

  /**
   * Stops the background ingestion, stops accepting, lets in-flight requests finish (bounded by
   * FHIRBOX_SHUTDOWN_TIMEOUT; a {@code $import} among them), then closes. A second call (a shutdown
   * hook's, say) waits for the first to finish and does nothing more.
   */
  @Override
  public synchronized void close() throws Exception {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    // no interrupt (shutdownNow): one that meets H2 reading its file closes it for every connection,
    // and the requests draining and the audit events queued would fail with it
    background.shutdown();
    try {
      ingestWorker.close();
      stopJetty();
    } finally {
      awaitBackground();
      closeImporterQuietly();
      audit.close();
      writeLeases.close();
      database.close();
      blobs.close();
      if (s3Uploads != null) {
        s3Uploads.close();
      }
    }
  }
}
