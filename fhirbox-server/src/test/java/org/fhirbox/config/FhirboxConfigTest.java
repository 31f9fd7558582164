package org.fhirbox.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FhirboxConfigTest {
  private static final long MIB = 1 << 20;

  @Test
  void theEmbeddedPageCacheIsASixteenthOfTheHeapWithinH2sDefaultAnd64Mb() {
    assertThat(FhirboxConfig.h2CacheKb(128 * MIB)).isEqualTo(16 * 1024);
    assertThat(FhirboxConfig.h2CacheKb(256 * MIB)).isEqualTo(16 * 1024);
    assertThat(FhirboxConfig.h2CacheKb(512 * MIB)).isEqualTo(32 * 1024);
    assertThat(FhirboxConfig.h2CacheKb(6L * 1024 * MIB)).isEqualTo(64 * 1024);
  }

  @Test
  void theEmbeddedDefaultNamesItsPageCacheAndAChosenUrlIsKeptAsItIs() {
    assertThat(FhirboxConfig.of(Map.of()).databaseUrl()).startsWith("jdbc:h2:file:")
        .contains(";CACHE_SIZE=" + FhirboxConfig.h2CacheKb(Runtime.getRuntime().maxMemory()));
    assertThat(FhirboxConfig.of(Map.of("FHIRBOX_DATABASE_URL", "jdbc:postgresql://127.0.0.1/test")).databaseUrl())
        .isEqualTo("jdbc:postgresql://127.0.0.1/test");
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({
      "FHIRBOX_INGEST_CONCURRENCY, 0, 'FHIRBOX_INGEST_CONCURRENCY must be between 1 and 1024, got 0'",
      "FHIRBOX_TOKEN_TTL, 0, 'FHIRBOX_TOKEN_TTL must be between 1 and 2147483647, got 0'",
      "FHIRBOX_AUTHORIZE_REQUESTS_PER_MINUTE, 0,"
          + " 'FHIRBOX_AUTHORIZE_REQUESTS_PER_MINUTE must be between 1 and 2147483647, got 0'",
      "FHIRBOX_INGEST_TIMEOUT, 0, 'FHIRBOX_INGEST_TIMEOUT must be between 1 and 2147483647, got 0'",
      "FHIRBOX_MAX_BINARY_BYTES, -1, 'FHIRBOX_MAX_BINARY_BYTES must be at least 1, got -1'",
      "FHIRBOX_INGEST_POLL_MILLIS, 0, 'FHIRBOX_INGEST_POLL_MILLIS must be between 1 and 2147483647, got 0'",
      "FHIRBOX_INGEST_IMPORT_CONCURRENCY, 0, 'FHIRBOX_INGEST_IMPORT_CONCURRENCY must be between 1 and 1024, got 0'",
      "FHIRBOX_BUNDLE_MAX_ENTRIES, 0, 'FHIRBOX_BUNDLE_MAX_ENTRIES must be between 1 and 2147483647, got 0'",
      "FHIRBOX_IDLE_TIMEOUT, 0, 'FHIRBOX_IDLE_TIMEOUT must be between 1 and 2147483647, got 0'",
      "FHIRBOX_MIN_REQUEST_BYTES_PER_SECOND, -1,"
          + " 'FHIRBOX_MIN_REQUEST_BYTES_PER_SECOND must be between 0 and 2147483647, got -1'",
      "FHIRBOX_MIN_REQUEST_RATE_SECONDS, 0, 'FHIRBOX_MIN_REQUEST_RATE_SECONDS must be between 1 and 2147483647, got 0'",
      "FHIRBOX_MIN_RESPONSE_BYTES_PER_SECOND, -1,"
          + " 'FHIRBOX_MIN_RESPONSE_BYTES_PER_SECOND must be between 0 and 2147483647, got -1'",
      "FHIRBOX_MIN_RESPONSE_RATE_SECONDS, 0, 'FHIRBOX_MIN_RESPONSE_RATE_SECONDS must be between 1 and 2147483647, got 0'",
      "FHIRBOX_MAX_CONNECTIONS, 0, 'FHIRBOX_MAX_CONNECTIONS must be between 1 and 2147483647, got 0'",
      "FHIRBOX_HTTP_THREADS, 8, 'FHIRBOX_HTTP_THREADS must be between 16 and 32768, got 8'",
      "FHIRBOX_SEARCH_MAX_VALUES, 0, 'FHIRBOX_SEARCH_MAX_VALUES must be between 1 and 30000, got 0'",
      "FHIRBOX_SEARCH_MAX_VALUES, 30001, 'FHIRBOX_SEARCH_MAX_VALUES must be between 1 and 30000, got 30001'",
      "FHIRBOX_S3_PART_SIZE, 1, 'FHIRBOX_S3_PART_SIZE must be between 5242880 and 1073741824, got 1'",
      "FHIRBOX_S3_PARALLELISM, 0, 'FHIRBOX_S3_PARALLELISM must be between 1 and 2147483647, got 0'",
      "FHIRBOX_S3_PARALLELISM, 4294967296,"
          + " 'FHIRBOX_S3_PARALLELISM must be between 1 and 2147483647, got 4294967296'",
      "FHIRBOX_S3_PART_SIZE, 1073741825,"
          + " 'FHIRBOX_S3_PART_SIZE must be between 5242880 and 1073741824, got 1073741825'"})
  void aNumericSettingOutsideItsRangeIsRefusedWhenTheSettingsLoad(String key, String value, String message) {
    assertThatThrownBy(() -> FhirboxConfig.of(Map.of(key, value)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({
      "FHIRBOX_UPLOAD_EXPIRY, 0, 'FHIRBOX_UPLOAD_EXPIRY must be between 60 and 2147483647, got 0'",
      "FHIRBOX_ORPHAN_GRACE, -3600, 'FHIRBOX_ORPHAN_GRACE must be between 1200 and 2147483647, got -3600'",
      "FHIRBOX_ORPHAN_GRACE, 0, 'FHIRBOX_ORPHAN_GRACE must be between 1200 and 2147483647, got 0'",
      "FHIRBOX_ORPHAN_GRACE, 1199, 'FHIRBOX_ORPHAN_GRACE must be between 1200 and 2147483647, got 1199'",
      "FHIRBOX_ORPHAN_SWEEP_INTERVAL, 0, 'FHIRBOX_ORPHAN_SWEEP_INTERVAL must be between 1 and 2147483647, got 0'",
      "FHIRBOX_SHUTDOWN_TIMEOUT, -1, 'FHIRBOX_SHUTDOWN_TIMEOUT must be between 0 and 86400, got -1'",
      "FHIRBOX_SHUTDOWN_TIMEOUT, 9999999999999999,"
          + " 'FHIRBOX_SHUTDOWN_TIMEOUT must be between 0 and 86400, got 9999999999999999'",
      "FHIRBOX_ACCEPT_QUEUE, 0, 'FHIRBOX_ACCEPT_QUEUE must be between 1 and 65535, got 0'",
      "FHIRBOX_DATABASE_CONNECT_TIMEOUT, 0, 'FHIRBOX_DATABASE_CONNECT_TIMEOUT must be between 250 and 600000, got 0'",
      "FHIRBOX_AUDIT_QUEUE_SIZE, 2147483647, 'FHIRBOX_AUDIT_QUEUE_SIZE must be between 1 and 1000000, got 2147483647'",
      "FHIRBOX_SIGNED_URL_TTL, 9, 'FHIRBOX_SIGNED_URL_TTL must be between 10 and 1000000000, got 9'",
      "FHIRBOX_INGEST_MAX_REDIRECTS, 21, 'FHIRBOX_INGEST_MAX_REDIRECTS must be between 0 and 20, got 21'",
      "FHIRBOX_DATABASE_POOL_SIZE, 1, 'FHIRBOX_DATABASE_POOL_SIZE must be between 2 and 1024, got 1'"})
  void aDurationOrSizeThatWouldBreakTheServerIsRefusedNamingItsKey(String key, String value, String message) {
    assertThatThrownBy(() -> FhirboxConfig.of(Map.of(key, value)))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({
      "FHIRBOX_BASE_URL, localhost:8103",
      "FHIRBOX_BASE_URL, fhir.example.org",
      "FHIRBOX_BASE_URL, /fhirbox/",
      "FHIRBOX_BASE_URL, ftp://fhir.example.org/",
      "FHIRBOX_BASE_URL, http:/fhir.example.org/",
      "FHIRBOX_BASE_URL, http://exa mple.org/",
      "FHIRBOX_BASE_URL, https://fhir.example.org/?tenant=a",
      "FHIRBOX_BASE_URL, https://fhir.example.org/#top",
      "FHIRBOX_BASE_URL_ALIASES, 'https://a.example.org/,b.example.org'",
      "FHIRBOX_TOKEN_ISSUER, fhir.example.org",
      "FHIRBOX_TOKEN_ISSUER, https://fhir.example.org/?tenant=a"})
  void aBaseUrlThatIsNoAbsoluteHttpUrlIsRefusedNamingItsKey(String key, String value) {
    assertThatThrownBy(() -> FhirboxConfig.of(Map.of(key, value)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(key + " must be an absolute http or https URL")
        .hasMessageContaining("got '");
  }

  @Test
  void baseUrlsOfEveryUsualShapeLoad() {
    FhirboxConfig config = FhirboxConfig.of(Map.of("FHIRBOX_BASE_URL", "https://fhir.example.org:8443/box",
        "FHIRBOX_BASE_URL_ALIASES", "http://fhirbox_node1:8103/, http://10.0.0.5:8103, HTTPS://[::1]/",
        "FHIRBOX_TOKEN_ISSUER", "https://fhir.example.org"));
    assertThat(config.baseUrl(8103)).isEqualTo("https://fhir.example.org:8443/box/");
  }

  @Test
  void theValuesTheDocumentationAndTheTestsUseStillLoad() {
    FhirboxConfig config = FhirboxConfig.of(Map.of("FHIRBOX_ORPHAN_GRACE", "1200", "FHIRBOX_ORPHAN_SWEEP_INTERVAL", "1",
        "FHIRBOX_ACCEPT_QUEUE", "1", "FHIRBOX_DATABASE_CONNECT_TIMEOUT", "1000", "FHIRBOX_SHUTDOWN_TIMEOUT", "0",
        "FHIRBOX_INGEST_MAX_REDIRECTS", "0", "FHIRBOX_DATABASE_POOL_SIZE", "2"));
    assertThat(config.getLong("FHIRBOX_ORPHAN_GRACE")).isEqualTo(1200);
  }

  @Test
  void theLimitsOnBundlesAndSlowClientsHaveTheirDocumentedDefaults() throws Exception {
    FhirboxConfig config = FhirboxConfig.of(Map.of());
    assertThat(config.getInt("FHIRBOX_BUNDLE_MAX_ENTRIES")).isEqualTo(1000);
    assertThat(config.getInt("FHIRBOX_IDLE_TIMEOUT")).isEqualTo(30);
    assertThat(config.getInt("FHIRBOX_MIN_REQUEST_BYTES_PER_SECOND")).isEqualTo(256);
    assertThat(config.getInt("FHIRBOX_MIN_REQUEST_RATE_SECONDS")).isEqualTo(30);
    assertThat(config.getInt("FHIRBOX_MIN_RESPONSE_BYTES_PER_SECOND")).isEqualTo(1024);
    assertThat(config.getInt("FHIRBOX_MIN_RESPONSE_RATE_SECONDS")).isEqualTo(30);
    assertThat(config.getInt("FHIRBOX_MAX_CONNECTIONS")).isEqualTo(4096);
    assertThat(FhirboxConfig.load(Map.of("FHIRBOX_BUNDLE_MAX_ENTRIE", "5"), null, Map.of())
        .unknownSettingWarnings()).singleElement()
        .satisfies(w -> assertThat(w).endsWith("did you mean FHIRBOX_BUNDLE_MAX_ENTRIES?"));
  }

  @Test
  void anIntSettingTooLargeForAnIntNamesItsKey() {
    FhirboxConfig config = FhirboxConfig.of(Map.of("FHIRBOX_UNRANGED", "4294967296"));
    assertThatThrownBy(() -> config.getInt("FHIRBOX_UNRANGED"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("FHIRBOX_UNRANGED must be between");
  }

  @Test
  void anUnknownSettingIsWarnedAboutWithTheNearestKnownOneAndOtherToolsNamesAreNot() throws Exception {
    FhirboxConfig config = FhirboxConfig.load(Map.of("FHIRBOX_INGEST_IGNORED_URL_PREFIX", "https://a.example/",
        "FHIRBOX_CDS", "off", "FHIRBOX_SERVER", "http://localhost:8103", "FHIRBOX_LOG_LEVEL", "DEBUG",
        "PATH", "/usr/bin"), null, Map.of());
    assertThat(config.unknownSettingWarnings()).containsExactly("FHIRBOX_INGEST_IGNORED_URL_PREFIX is not a setting"
        + " of fhirbox and is ignored; did you mean FHIRBOX_INGEST_IGNORED_URL_PREFIXES?");
    assertThat(FhirboxConfig.of(Map.of()).unknownSettingWarnings()).isEmpty();
  }

  @Test
  void aConfigFileThatCannotBeReadIsNamedWithTheReason(@TempDir Path dir) throws Exception {
    Path latin1 = Files.write(dir.resolve("latin1.properties"),
        "FHIRBOX_PORT=8103\nFHIRBOX_BOOTSTRAP_USER_EMAIL=jos\u00e9@example.org\n".getBytes(StandardCharsets.ISO_8859_1));
    Path escape = Files.writeString(dir.resolve("escape.properties"),
        "# a comment may hold \\u00 as it likes\nFHIRBOX_PORT=8103\nFHIRBOX_BASE_URL=https://fhir.example.org/\\u12G4\n");

    assertThatThrownBy(() -> FhirboxConfig.load(Map.of(), dir, Map.of())).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the config file " + dir + " cannot be read: it is a directory");
    assertThatThrownBy(() -> FhirboxConfig.load(Map.of(), latin1, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the config file " + latin1 + " cannot be read: line 2 is not UTF-8 text");
    assertThatThrownBy(() -> FhirboxConfig.load(Map.of(), escape, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the config file " + escape + " cannot be read: line 3: Malformed \\uxxxx encoding.");
  }

  /**
   * The file system's refusals name only the path: the reason is said in words. (A file this user
   * may not read cannot be made where the tests run as root, who reads any file, so the refusals
   * are the ones the JDK throws for EACCES and ENOENT.)
   */
  @Test
  void aConfigFileTheFileSystemRefusesIsNamedWithTheReason() {
    assertThat(ConfigFile.reason(new AccessDeniedException("/etc/fhirbox.properties"))).isEqualTo("permission denied");
    assertThat(ConfigFile.reason(new NoSuchFileException("/etc/fhirbox.properties"))).isEqualTo("no such file");
    assertThat(ConfigFile.reason(new FileSystemException("/etc/fhirbox.properties", null, "Input/output error")))
        .isEqualTo("Input/output error");
  }

  @Test
  void aConfigFileInUtf8IsRead(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("fhirbox.properties"),
        "FHIRBOX_BOOTSTRAP_USER_EMAIL = jos\u00e9@example.org\nFHIRBOX_BASE_URL=https://fhir.example.org/\\u0061\n");

    FhirboxConfig config = FhirboxConfig.load(Map.of(), file, Map.of());

    assertThat(config.get("FHIRBOX_BOOTSTRAP_USER_EMAIL")).isEqualTo("jos\u00e9@example.org");
    assertThat(config.get("FHIRBOX_BASE_URL")).isEqualTo("https://fhir.example.org/a");
  }

  /** In the config file every key is meant as a setting: one that is none is warned about, with or without the prefix. */
  @Test
  void aConfigFileKeyThatIsNoSettingIsWarnedAboutWhateverItsPrefix(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("fhirbox.properties"),
        "port=9000\nFHIRBOX_PORT=8103\nBASE_URL=https://fhir.example.org/\nFHIRBOX_BASE_URLS=x\n");

    FhirboxConfig config = FhirboxConfig.load(Map.of("PATH", "/usr/bin"), file, Map.of());

    assertThat(config.unknownSettingWarnings()).containsExactly(
        "BASE_URL in the config file is not a setting of fhirbox and is ignored; did you mean FHIRBOX_BASE_URL?",
        "FHIRBOX_BASE_URLS is not a setting of fhirbox and is ignored; did you mean FHIRBOX_BASE_URL?",
        "port in the config file is not a setting of fhirbox and is ignored; did you mean FHIRBOX_PORT?");
    assertThat(config.with("FHIRBOX_PORT", "8104").unknownSettingWarnings()).hasSize(3);
  }
}
