package org.fhirbox.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Settings, by the environment-variable names documented in the README's configuration table.
 * Precedence: explicit overrides (command-line flags) &gt; environment &gt; config file &gt; defaults.
 * The embedded default needs none of them.
 */
public final class FhirboxConfig {
  /** The media types of executable content: the default of {@code FHIRBOX_BINARY_DENY_TYPES}. */
  public static final List<String> EXECUTABLE_TYPES = List.of("application/x-msdownload",
      "application/x-msdos-program", "application/x-ms-installer", "application/x-msi",
      "application/vnd.microsoft.portable-executable", "application/x-dosexec", "application/java-archive",
      "application/x-java-archive", "application/x-sh", "application/x-bat", "application/x-executable");
  /** The file name extensions of executable content: the default of {@code FHIRBOX_BINARY_DENY_EXTENSIONS}. */
  public static final List<String> EXECUTABLE_EXTENSIONS = List.of("exe", "bat", "cmd", "com", "msi", "scr", "jar",
      "ps1", "vbs", "dll", "sh", "cpl", "pif");
  /** Every key the server reads, with its default ("" = none). Kept in README order. */
  public static final Map<String, String> DEFAULTS = defaults();

  private final Map<String, String> values;
  /** The keys the config file set: each is meant as a setting, whatever its prefix. */
  private final Set<String> fileKeys;

  /** Throws IllegalArgumentException naming a numeric setting outside its range, and the range. */
  private FhirboxConfig(Map<String, String> values, Set<String> fileKeys) {
    this.values = Map.copyOf(values);
    this.fileKeys = Set.copyOf(fileKeys);
    SettingChecks.check(this);
  }

  private static Map<String, String> defaults() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("FHIRBOX_PORT", "8103");
    d.put("FHIRBOX_BIND", "0.0.0.0");
    d.put("FHIRBOX_ACCEPT_QUEUE", "1024");
    d.put("FHIRBOX_IDLE_TIMEOUT", "30");
    d.put("FHIRBOX_MIN_REQUEST_BYTES_PER_SECOND", "256");
    d.put("FHIRBOX_MIN_REQUEST_RATE_SECONDS", "30");
    d.put("FHIRBOX_MIN_RESPONSE_BYTES_PER_SECOND", "1024");
    d.put("FHIRBOX_MIN_RESPONSE_RATE_SECONDS", "30");
    d.put("FHIRBOX_MAX_CONNECTIONS", "4096");
    d.put("FHIRBOX_HTTP_THREADS", "200");
    d.put("FHIRBOX_DATA_DIR", "./data");
    d.put("FHIRBOX_BASE_URL", "");
    d.put("FHIRBOX_DATABASE_URL", "");
    d.put("FHIRBOX_DATABASE_USER", "");
    d.put("FHIRBOX_DATABASE_PASSWORD", "");
    d.put("FHIRBOX_DATABASE_POOL_SIZE", "16");
    d.put("FHIRBOX_DATABASE_CONNECT_TIMEOUT", "10000");
    d.put("FHIRBOX_H2_SYNC_COMMITS", "true");
    d.put("FHIRBOX_BLOB_STORE", "file");
    d.put("FHIRBOX_S3_BUCKET", "");
    d.put("FHIRBOX_S3_ENDPOINT", "");
    d.put("FHIRBOX_S3_REGION", "us-east-1");
    d.put("FHIRBOX_S3_PATH_STYLE", "false");
    d.put("FHIRBOX_S3_CREATE_BUCKET", "false");
    d.put("FHIRBOX_S3_PART_SIZE", Long.toString(16L << 20));
    d.put("FHIRBOX_S3_PARALLELISM", "4");
    d.put("FHIRBOX_S3_SSE", "none");
    d.put("FHIRBOX_S3_KMS_KEY_ID", "");
    d.put("FHIRBOX_S3_PREFIX", "blobs/");
    d.put("FHIRBOX_MAX_JSON_BYTES", Long.toString(16L << 20));
    d.put("FHIRBOX_MAX_BINARY_BYTES", Long.toString(10L << 30));
    d.put("FHIRBOX_BINARY_DENY_TYPES", String.join(",", EXECUTABLE_TYPES));
    d.put("FHIRBOX_BINARY_DENY_EXTENSIONS", String.join(",", EXECUTABLE_EXTENSIONS));
    d.put("FHIRBOX_SEARCH_MAX_COUNT", "1000");
    d.put("FHIRBOX_SEARCH_MAX_VALUES", "30000");
    d.put("FHIRBOX_BUNDLE_MAX_ENTRIES", "1000");
    d.put("FHIRBOX_LOG_LEVEL", "");
    d.put("FHIRBOX_SIGNED_URL_TTL", "3600");
    d.put("FHIRBOX_BINARY_URL_FIELD", "true");
    d.put("FHIRBOX_SIGNING_KEYS", "");
    d.put("FHIRBOX_SIGNED_URL_MODE", "server");
    d.put("FHIRBOX_CLOUDFRONT_DOMAIN", "");
    d.put("FHIRBOX_CLOUDFRONT_KEY_PAIR_ID", "");
    d.put("FHIRBOX_CLOUDFRONT_PRIVATE_KEY", "");
    d.put("FHIRBOX_CORS_ORIGINS", "*");
    d.put("FHIRBOX_BASE_URL_ALIASES", "");
    d.put("FHIRBOX_SHUTDOWN_TIMEOUT", "30");
    d.put("FHIRBOX_ORPHAN_GRACE", "3600");
    d.put("FHIRBOX_ORPHAN_SWEEP_INTERVAL", "600");
    d.put("FHIRBOX_UPLOAD_EXPIRY", "86400");
    d.put("FHIRBOX_UPLOAD_MAX_OPEN", "100");
    d.put("FHIRBOX_UPLOAD_MAX_OPEN_PER_PROJECT", "1000");
    d.put("FHIRBOX_UPLOAD_LEASE_SECONDS", "15");
    d.put("FHIRBOX_TOKEN_TTL", "3600");
    d.put("FHIRBOX_TOKEN_ISSUER", "");
    d.put("FHIRBOX_REFRESH_TOKEN_TTL", "2592000");
    d.put("FHIRBOX_AUTHORIZE_REQUESTS_PER_MINUTE", "60");
    d.put("FHIRBOX_BOOTSTRAP_CLIENT_ID", "");
    d.put("FHIRBOX_BOOTSTRAP_CLIENT_SECRET", "");
    d.put("FHIRBOX_BOOTSTRAP_USER_EMAIL", "");
    d.put("FHIRBOX_BOOTSTRAP_USER_PASSWORD", "");
    d.put("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES", "");
    d.put("FHIRBOX_INGEST_IGNORED_URL_PREFIXES", "");
    d.put("FHIRBOX_INGEST_ALLOWED_INTERNAL_CIDRS", "");
    d.put("FHIRBOX_INGEST_DISABLED_PROJECTS", "");
    d.put("FHIRBOX_INGEST_POLL_MILLIS", "1000");
    d.put("FHIRBOX_INGEST_CONCURRENCY", "4");
    d.put("FHIRBOX_INGEST_PROJECT_CONCURRENCY", "1");
    d.put("FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT", "1000");
    d.put("FHIRBOX_INGEST_MAX_ATTEMPTS", "5");
    d.put("FHIRBOX_INGEST_BACKOFF_MILLIS", "5000");
    d.put("FHIRBOX_INGEST_LEASE_SECONDS", "60");
    d.put("FHIRBOX_INGEST_CONNECT_TIMEOUT", "10");
    d.put("FHIRBOX_INGEST_READ_TIMEOUT", "60");
    d.put("FHIRBOX_INGEST_TIMEOUT", "3600");
    d.put("FHIRBOX_INGEST_MIN_BYTES_PER_SECOND", "4096");
    d.put("FHIRBOX_INGEST_MIN_RATE_SECONDS", "30");
    d.put("FHIRBOX_INGEST_MAX_REDIRECTS", "5");
    d.put("FHIRBOX_INGEST_IMPORT_CONCURRENCY", "8");
    d.put("FHIRBOX_AUDIT", "on");
    d.put("FHIRBOX_AUDIT_QUEUE_SIZE", "10000");
    d.put("FHIRBOX_TRUST_PROXY", "false");
    return d;
  }

  /**
   * Loads settings. {@code configFile} may be null; it is a Java properties file in UTF-8 using the
   * same key names as the environment. Throws IllegalArgumentException naming a setting that is
   * wrong, or the config file and why it cannot be read ({@link ConfigFile}).
   */
  public static FhirboxConfig load(Map<String, String> env, Path configFile, Map<String, String> overrides) {
    Map<String, String> v = new HashMap<>(DEFAULTS);
    Set<String> fileKeys = new HashSet<>();
    if (configFile != null) {
      Properties p = ConfigFile.read(configFile);
      p.forEach((k, val) -> {
        v.put(k.toString().trim(), val.toString().trim());
        fileKeys.add(k.toString().trim());
      });
    }
    env.forEach((k, val) -> {
      if (k.startsWith("FHIRBOX_")) {
        v.put(k, val);
      }
    });
    overrides.forEach((k, val) -> {
      if (val != null) {
        v.put(k, val);
      }
    });
    return new FhirboxConfig(v, fileKeys);
  }

  /** Settings from defaults plus {@code overrides} only (tests, embedding). */
  public static FhirboxConfig of(Map<String, String> overrides) {
    return load(Map.of(), null, overrides);
  }

  public FhirboxConfig with(String key, String value) {
    Map<String, String> v = new HashMap<>(values);
    v.put(key, value);
    return new FhirboxConfig(v, fileKeys);
  }

  public String get(String key) {
    return values.getOrDefault(key, "");
  }

  public Optional<String> optional(String key) {
    String s = get(key);
    return s.isBlank() ? Optional.empty() : Optional.of(s.trim());
  }

  public long getLong(String key) {
    String s = get(key).trim();
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a whole number, got '" + s + "'");
    }
  }

  public int getInt(String key) {
    long v = getLong(key);
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(key + " must be between " + Integer.MIN_VALUE + " and " + Integer.MAX_VALUE
          + ", got " + v);
    }
    return (int) v;
  }

  /**
   * A warning for each {@code FHIRBOX_*} name set that is no setting (a misspelt setting is
   * otherwise ignored), and for each key of the config file that is none whatever its prefix,
   * naming the setting spelt most like it. Names other tools read (the launcher's
   * {@code FHIRBOX_CDS}, the client's {@code FHIRBOX_SERVER}, ...) are left alone.
   */
  public List<String> unknownSettingWarnings() {
    return SettingChecks.unknown(values.keySet(), DEFAULTS.keySet(), fileKeys);
  }

  /** {@code true} or {@code false} (any case); anything else is a configuration error. */
  public boolean getBoolean(String key) {
    String s = get(key).trim().toLowerCase(Locale.ROOT);
    if (!s.equals("true") && !s.equals("false")) {
      throw new IllegalArgumentException(key + " must be true or false, got '" + s + "'");
    }
    return s.equals("true");
  }

  public Duration seconds(String key) {
    return Duration.ofSeconds(getLong(key));
  }

  public Set<String> list(String key) {
    return Arrays.stream(get(key).split(","))
        .map(s -> s.trim().toLowerCase(Locale.ROOT))
        .filter(s -> !s.isEmpty())
        .collect(Collectors.toUnmodifiableSet());
  }

  public List<String> orderedList(String key) {
    return Arrays.stream(get(key).split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  public int port() {
    return getInt("FHIRBOX_PORT");
  }

  public Path dataDir() {
    return Path.of(get("FHIRBOX_DATA_DIR")).toAbsolutePath().normalize();
  }

  /** The public base URL, always ending in '/'. Defaults to http://localhost:{port}/. */
  public String baseUrl(int actualPort) {
    String b = optional("FHIRBOX_BASE_URL").orElse("http://localhost:" + actualPort + "/");
    URI.create(b);
    return b.endsWith("/") ? b : b + "/";
  }

  /** True when the store is the embedded default and its file does not exist yet: a first start. */
  public boolean isNewEmbeddedDatabase() {
    return optional("FHIRBOX_DATABASE_URL").isEmpty()
        && !java.nio.file.Files.exists(dataDir().resolve("db").resolve("fhirbox.mv.db"));
  }

  /** JDBC URL; the embedded default is an H2 file under the data dir. */
  public String databaseUrl() {
    return optional("FHIRBOX_DATABASE_URL").orElseGet(() -> "jdbc:h2:file:" + dataDir().resolve("db").resolve("fhirbox")
        + ";DB_CLOSE_ON_EXIT=FALSE;QUERY_CACHE_SIZE=64;CACHE_SIZE=" + h2CacheKb(Runtime.getRuntime().maxMemory()));
  }

  /**
   * The embedded H2's page cache, in KiB: a sixteenth of the heap, from H2's default 16 MB up to
   * 64 MB. The cache lives as long as the server, in the old generation: at 64 MB in a 256 MB
   * heap the live old generation stayed near G1's threshold for concurrent marking, which then
   * ran about once a second under writes, and young pauses took 8-9 % of the time; at 16 MB,
   * 4-5 % (README, "Benchmarks").
   */
  static long h2CacheKb(long maxHeapBytes) {
    return Math.max(16 << 10, Math.min(64 << 10, maxHeapBytes / 16 / 1024));
  }
}
