package org.fhirbox.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a setting's value may be, checked when the settings are loaded, and the {@code FHIRBOX_*}
 * names that are no setting of the server (a misspelt one is otherwise ignored without a word).
 */
final class SettingChecks {
  /** A whole-number setting's allowed range, both ends included. */
  record Range(long min, long max) {
    String describe() {
      return max == Long.MAX_VALUE ? "at least " + min : "between " + min + " and " + max;
    }
  }

  /**
   * The least {@code FHIRBOX_ORPHAN_GRACE}, in seconds: a ready file's longest wait for its upload
   * plus the least time between the two sightings of an orphan (10 + 10 minutes).
   */
  static final long MIN_ORPHAN_GRACE_SECONDS = 20 * 60;

  /** The numeric settings whose values outside a range would leave the server broken. */
  static final Map<String, Range> RANGES = ranges();

  /**
   * {@code FHIRBOX_*} variables read by others than the server: the launcher script
   * ({@code FHIRBOX_CDS}), the command-line client and client library, and the tests.
   */
  static final Set<String> NOT_SERVER_SETTINGS = Set.of("FHIRBOX_CDS", "FHIRBOX_SERVER",
      "FHIRBOX_CLIENT_ID", "FHIRBOX_CLIENT_SECRET", "FHIRBOX_TEST_POSTGRES_URL");

  private SettingChecks() {}

  private static Map<String, Range> ranges() {
    Map<String, Range> r = new LinkedHashMap<>();
    long any = Long.MAX_VALUE;
    r.put("FHIRBOX_PORT", new Range(0, 65535));
    // Flyway holds one connection for its lock and schema history and migrates on another
    r.put("FHIRBOX_DATABASE_POOL_SIZE", new Range(2, 1024));
    // HikariCP refuses less than 250 ms, and takes 0 for "wait for ever"
    r.put("FHIRBOX_DATABASE_CONNECT_TIMEOUT", new Range(250, 600_000));
    // listen(2) takes 0 or less as "the default backlog" (50 in the JDK), not as "none"
    r.put("FHIRBOX_ACCEPT_QUEUE", new Range(1, 65535));
    // 0 stops without waiting for requests in flight; beyond a day the milliseconds Jetty is given overflow soon
    r.put("FHIRBOX_SHUTDOWN_TIMEOUT", new Range(0, 86_400));
    r.put("FHIRBOX_IDLE_TIMEOUT", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_MIN_REQUEST_BYTES_PER_SECOND", new Range(0, Integer.MAX_VALUE));
    r.put("FHIRBOX_MIN_REQUEST_RATE_SECONDS", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_MIN_RESPONSE_BYTES_PER_SECOND", new Range(0, Integer.MAX_VALUE));
    r.put("FHIRBOX_MIN_RESPONSE_RATE_SECONDS", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_MAX_CONNECTIONS", new Range(1, Integer.MAX_VALUE));
    // Jetty's acceptors, selectors and reserved threads come out of the same pool
    r.put("FHIRBOX_HTTP_THREADS", new Range(16, 32_768));
    r.put("FHIRBOX_MAX_JSON_BYTES", new Range(1, any));
    r.put("FHIRBOX_MAX_BINARY_BYTES", new Range(1, any));
    r.put("FHIRBOX_SEARCH_MAX_COUNT", new Range(1, Integer.MAX_VALUE));
    // SearchChains.MAX_VALUES: well under PostgreSQL's 65,535 parameters of one statement
    r.put("FHIRBOX_SEARCH_MAX_VALUES", new Range(1, 30_000));
    // S3's least part (all but the last), and the most one part buffer is allowed to hold
    r.put("FHIRBOX_S3_PART_SIZE", new Range(5L << 20, 1L << 30));
    r.put("FHIRBOX_S3_PARALLELISM", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_BUNDLE_MAX_ENTRIES", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_TOKEN_TTL", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_REFRESH_TOKEN_TTL", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_AUTHORIZE_REQUESTS_PER_MINUTE", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_INGEST_POLL_MILLIS", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_INGEST_CONCURRENCY", new Range(1, 1024));
    r.put("FHIRBOX_INGEST_PROJECT_CONCURRENCY", new Range(1, Integer.MAX_VALUE));
    // at least what one request may queue, so that a request alone always fits once the backlog is gone
    r.put("FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT", new Range(100, 1_000_000_000));
    r.put("FHIRBOX_INGEST_MAX_ATTEMPTS", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_INGEST_BACKOFF_MILLIS", new Range(0, Integer.MAX_VALUE));
    r.put("FHIRBOX_INGEST_LEASE_SECONDS", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_INGEST_CONNECT_TIMEOUT", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_INGEST_READ_TIMEOUT", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_INGEST_TIMEOUT", new Range(1, Integer.MAX_VALUE));
    r.put("FHIRBOX_INGEST_IMPORT_CONCURRENCY", new Range(1, 1024));
    r.put("FHIRBOX_INGEST_MAX_REDIRECTS", new Range(0, 20));
    // the queue's array is allocated whole at start: a million events is a few megabytes of references
    r.put("FHIRBOX_AUDIT_QUEUE_SIZE", new Range(1, 1_000_000));
    // an upload expiring at its creation would answer its first PATCH with 410
    r.put("FHIRBOX_UPLOAD_EXPIRY", new Range(60, Integer.MAX_VALUE));
    // at 0 no resumable upload could be made at all
    r.put("FHIRBOX_UPLOAD_MAX_OPEN", new Range(1, 1_000_000));
    r.put("FHIRBOX_UPLOAD_MAX_OPEN_PER_PROJECT", new Range(0, 1_000_000_000));
    // renewed every third of it, at least a few times a second; a lease as long as an hour would
    // keep an upload a crashed node held from every other node for that long
    r.put("FHIRBOX_UPLOAD_LEASE_SECONDS", new Range(2, 3600));
    // the sweep's cutoff is now minus the grace, and what it lists is only what is older. The
    // sweep's other protections assume more than 0: a tus file exists before its upload's row
    // (and has no second sighting), another process's sweeper does not hold this one's ready
    // files, used up to ReadyFiles.MAX_AGE (10 min) after they were made, and a blob first seen
    // unreferenced is deleted SecondSighting.MIN_WATCH (10 min) later; so the grace is at least
    // their sum, 20 minutes
    r.put("FHIRBOX_ORPHAN_GRACE", new Range(MIN_ORPHAN_GRACE_SECONDS, Integer.MAX_VALUE));
    r.put("FHIRBOX_ORPHAN_SWEEP_INTERVAL", new Range(1, Integer.MAX_VALUE));
    // StorageUrlSigner's windows are a tenth of the TTL in whole seconds; 10^9 s is about 31 years
    r.put("FHIRBOX_SIGNED_URL_TTL", new Range(10, 1_000_000_000));
    return Map.copyOf(r);
  }

  /**
   * Throws IllegalArgumentException naming the first setting outside its range, and the range,
   * or a base URL or token issuer that is no URL.
   */
  static void check(FhirboxConfig config) {
    for (Map.Entry<String, Range> e : RANGES.entrySet()) {
      long v = config.getLong(e.getKey());
      Range range = e.getValue();
      if (v < range.min() || v > range.max()) {
        throw new IllegalArgumentException(e.getKey() + " must be " + range.describe() + ", got " + v);
      }
    }
    config.optional("FHIRBOX_BASE_URL").ifPresent(url -> checkBaseUrl("FHIRBOX_BASE_URL", url));
    config.orderedList("FHIRBOX_BASE_URL_ALIASES").forEach(url -> checkBaseUrl("FHIRBOX_BASE_URL_ALIASES", url));
    // the iss of every token and authorization response, and the issuer of the discovery documents,
    // which OpenID Connect clients compare as a URL
    config.optional("FHIRBOX_TOKEN_ISSUER").ifPresent(url -> checkBaseUrl("FHIRBOX_TOKEN_ISSUER", url));
  }

  /**
   * Every link, Location, signed URL and the token issuer are built on the base URL: one without a
   * scheme ({@code fhir.example.org}) would make them all unusable while the server seemed to run.
   * A host name may hold an underscore (a compose service's), which {@link URI#getHost} refuses,
   * so the authority is what must be there.
   */
  private static void checkBaseUrl(String key, String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      uri = null;
    }
    String scheme = uri == null || uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || uri.getRawAuthority() == null
        || uri.getRawAuthority().contains("@") || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(key + " must be an absolute http or https URL without query or fragment,"
          + " such as https://fhir.example.org/, got '" + url + "'");
    }
  }

  /**
   * One warning for each name in {@code names} that is no setting, naming the setting spelt most
   * like it: a {@code FHIRBOX_*} name, or any of {@code fileKeys} (the config file's keys, which
   * are all meant as settings; one without the prefix is compared as if it had it, upper-cased).
   */
  static List<String> unknown(Set<String> names, Set<String> settings, Set<String> fileKeys) {
    List<String> warnings = new ArrayList<>();
    for (String name : names.stream().sorted().toList()) {
      boolean prefixed = name.startsWith("FHIRBOX_");
      if ((prefixed || fileKeys.contains(name)) && !settings.contains(name) && !NOT_SERVER_SETTINGS.contains(name)) {
        String asSetting = prefixed ? name : "FHIRBOX_" + name.toUpperCase(Locale.ROOT);
        String nearest = settings.stream().min(Comparator.comparingInt((String s) -> distance(asSetting, s))
            .thenComparing(Comparator.naturalOrder())).orElse("");
        warnings.add(name + (prefixed ? "" : " in the config file") + " is not a setting of fhirbox and is ignored;"
            + " did you mean " + nearest + "?");
      }
    }
    return warnings;
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(substitution, Math.min(prev[j], cur[j - 1]) + 1);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
