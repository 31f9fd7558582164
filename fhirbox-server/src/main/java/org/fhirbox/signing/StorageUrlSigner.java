package org.fhirbox.signing;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.core.FhirException;

/**
 * Signs and verifies the server's own storage URLs:
 * {@code {base}/storage/{id}/{versionId}?Expires={unix seconds}&KeyId={kid}&Signature={sig}}
 * with an optional {@code &Download={filename}} that asks for an attachment download and, on a share
 * link ({@link #signFor}), {@code &Share=1} and, for a Binary with a securityContext,
 * {@code &Context={versions}}: the version of the resource it names when the link was made, and
 * where that is a Binary, of the resource that Binary's own securityContext names, in turn, each
 * after a dot ({@code Context=1.3}); and
 * {@code {base}/storage/{id}/{versionId}/thumbnail?Expires=...&KeyId=...&Signature=...} for the
 * version's thumbnail.
 *
 * <p>The signature is HMAC-SHA256 (base64url, no padding) over the canonical string
 * <pre>
 * fhirbox-storage-v1 LF GET LF path LF Expires LF KeyId LF download [LF share [LF context={versions}]]
 * </pre>
 * where {@code path} is {@code /storage/{id}/{versionId}}, or {@code /storage/{id}/{versionId}/thumbnail}
 * for the thumbnail (so a content URL's signature never opens the thumbnail path nor the reverse),
 * and {@code download} is {@code -} when absent and {@code =} followed by the percent-encoded
 * filename when present, so no value can contain the separator and absent differs from empty;
 * the line {@code share} is there only for a share link, so {@code Share=1} can be neither
 * added to nor removed from a URL, and the line {@code context=} only with {@code Context}, which
 * is likewise covered; a share link made before it has neither.
 * HEAD verifies as GET. The host and any path prefix before {@code /storage/} are not covered,
 * so a URL survives reverse proxies; unknown query parameters are neither covered nor honoured.
 *
 * <p>URLs are stable: the expiry is rounded up to a window of a tenth of the TTL, so every URL
 * for the same content made within one window is identical (browsers can cache it), and each
 * URL lives between {@code ttl} and {@code 1.1 × ttl}.
 */
public final class StorageUrlSigner implements BinaryUrlSigner {
  /** A reference to one Binary version found in a storage URL. */
  public record Ref(String binaryId, String versionId) {}

  /**
   * What a valid signed URL grants: one Binary version until {@code expires}, its content or, when
   * {@code thumbnail}, only its thumbnail. {@code shareLink}: the URL was made by {@link #signFor}
   * (it says so, signed), or it has more than {@code 1.1 × ttl} left, which no URL of {@link #sign}
   * has; such a URL serves its version only while the Binary still stands as it was signed.
   * {@code contextVersions}: a share link's {@code Context}, the versions of the resources along
   * the Binary's securityContext chain when it was made, in chain order (0: none there), or null;
   * a link with one number is bound to the first resource only.
   */
  public record Verified(String binaryId, String versionId, Instant expires, String downloadFilename,
      boolean thumbnail, boolean shareLink, List<Long> contextVersions) {}

  public static final String EXPIRES = "Expires";
  public static final String KEY_ID = "KeyId";
  public static final String SIGNATURE = "Signature";
  public static final String DOWNLOAD = "Download";
  /** Marks a share link ({@link #signFor}); its only value is {@code 1}. */
  public static final String SHARE = "Share";
  /**
   * A share link's versions of the resources along its Binary's securityContext chain, dot-separated
   * ({@link #signFor}).
   */
  public static final String CONTEXT = "Context";
  /** The most versions a {@link #CONTEXT} holds: as many Binaries as one read follows through securityContexts. */
  public static final int MAX_CONTEXT_STEPS = 16;
  /** The last path segment of a thumbnail URL. */
  public static final String THUMBNAIL = "thumbnail";

  private static final String SCHEME_VERSION = "fhirbox-storage-v1";
  // FHIR R4 id datatype: [A-Za-z0-9\-\.]{1,64}; FHIR versions here are positive integers.
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
  private static final Pattern VERSION = Pattern.compile("[0-9]{1,18}");
  private static final Pattern CONTEXT_VALUE =
      Pattern.compile("[0-9]{1,18}(\\.[0-9]{1,18}){0," + (MAX_CONTEXT_STEPS - 1) + "}");
  private static final String STORAGE_SEGMENT = "/storage/";
  private static final String THUMBNAIL_SUFFIX = "/" + THUMBNAIL;
  private static final Pattern EXPIRES_VALUE = Pattern.compile("[0-9]{1,12}");
  private static final Pattern SIGNATURE_VALUE = Pattern.compile("[A-Za-z0-9_-]{43}");

  private final SigningKeys keys;
  private final long ttlMillis;
  private final long windowMillis;
  private final Clock clock;

  /**
   * @param ttl the minimum lifetime of a new URL; at least 10 seconds so that the stability
   *     window (a tenth of it) is a whole number of seconds
   */
  public StorageUrlSigner(SigningKeys keys, Duration ttl, Clock clock) {
    if (ttl.compareTo(Duration.ofSeconds(10)) < 0) {
      throw new IllegalArgumentException("signed URL lifetime must be at least 10 seconds");
    }
    this.keys = keys;
    this.ttlMillis = ttl.toMillis();
    this.windowMillis = ttl.dividedBy(10).toSeconds() * 1000;
    this.clock = clock;
  }

  /**
   * A signed URL for one Binary version.
   *
   * <p>{@code signer.sign("https://fhir.example.org", "abc", "2", null)} gives
   * {@code https://fhir.example.org/storage/abc/2?Expires=...&KeyId=...&Signature=...}.
   *
   * @param baseUrl the server's public base, with or without a trailing slash
   * @param downloadFilename a filename to offer as an attachment download, or null for inline
   */
  public String sign(String baseUrl, String binaryId, String versionId, String downloadFilename) {
    return signUntil(baseUrl, binaryId, versionId, downloadFilename, false, false, null, stableExpiry());
  }

  /**
   * A signed URL for the thumbnail of one Binary version, stable within a window like {@link #sign}:
   * {@code https://fhir.example.org/storage/abc/2/thumbnail?Expires=...&KeyId=...&Signature=...}.
   */
  public String signThumbnail(String baseUrl, BinaryContent content) {
    return signUntil(baseUrl, content.binaryId(), Long.toString(content.versionId()), null, true, false, null,
        stableExpiry());
  }

  private long stableExpiry() {
    long now = clock.millis();
    return Math.floorDiv(now + ttlMillis + windowMillis - 1, windowMillis) * windowMillis / 1000;
  }

  private String signUntil(String baseUrl, String binaryId, String versionId, String downloadFilename,
      boolean thumbnail, boolean share, List<Long> context, long expires) {
    if (!ID.matcher(binaryId).matches() || !VERSION.matcher(versionId).matches()) {
      throw new IllegalArgumentException("not a Binary id and version: " + binaryId + "/" + versionId);
    }
    String download = downloadFilename == null || downloadFilename.isEmpty() ? null : downloadFilename;
    String kid = keys.currentKeyId();
    String path = path(binaryId, versionId) + (thumbnail ? THUMBNAIL_SUFFIX : "");
    String contextLine = share && context != null && !context.isEmpty() ? contextValue(context) : null;
    String signature = signature(kid, canonical("GET", path, Long.toString(expires), kid, download, share,
        contextLine));
    String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    StringBuilder url = new StringBuilder(base).append(path)
        .append('?').append(EXPIRES).append('=').append(expires)
        .append('&').append(KEY_ID).append('=').append(kid)
        .append('&').append(SIGNATURE).append('=').append(signature);
    if (download != null) {
      url.append('&').append(DOWNLOAD).append('=').append(encode(download));
    }
    if (share) {
      url.append('&').append(SHARE).append("=1");
    }
    if (contextLine != null) {
      url.append('&').append(CONTEXT).append('=').append(contextLine);
    }
    return url.toString();
  }

  @Override
  public String sign(String baseUrl, BinaryContent content, String downloadFilename) {
    return sign(baseUrl, content.binaryId(), Long.toString(content.versionId()), downloadFilename);
  }

  /**
   * A share link: marked {@code Share=1}, so {@code /storage} serves it only while the Binary is not
   * deleted and keeps the signed version's {@code securityContext} ({@link Verified#shareLink}).
   */
  @Override
  public String signFor(String baseUrl, BinaryContent content, String downloadFilename, Duration lifetime) {
    return signFor(baseUrl, content, downloadFilename, lifetime, null);
  }

  /**
   * {@link #signFor(String, BinaryContent, String, Duration)} marked {@code Context=} the versions of
   * {@code contextVersions} joined by dots (none when null or empty), so that it also ends once a
   * resource along the securityContext chain is deleted after its version.
   *
   * @throws IllegalArgumentException for more than {@link #MAX_CONTEXT_STEPS} versions, or a negative one
   */
  @Override
  public String signFor(String baseUrl, BinaryContent content, String downloadFilename, Duration lifetime,
      List<Long> contextVersions) {
    return signUntil(baseUrl, content.binaryId(), Long.toString(content.versionId()), downloadFilename, false,
        true, contextVersions, Math.floorDiv(clock.millis() + lifetime.toMillis() + 999, 1000));
  }

  private static String contextValue(List<Long> versions) {
    String value = versions.stream().map(v -> Long.toString(v)).collect(Collectors.joining("."));
    if (!CONTEXT_VALUE.matcher(value).matches()) {
      throw new IllegalArgumentException("not a share link's context versions: " + versions);
    }
    return value;
  }

  private static List<Long> contextVersions(String value) {
    return Arrays.stream(value.split("\\.")).map(Long::valueOf).toList();
  }

  /**
   * Checks a request for a storage URL.
   *
   * @param method the request method; HEAD verifies as GET
   * @param path the request path (decoded), ending in {@code /storage/{id}/{versionId}}, or in
   *     {@code /storage/{id}/{versionId}/thumbnail} for a thumbnail
   * @param queryParams decoded query parameters, first value of each
   * @throws FhirException 404 for a path that cannot name a Binary version, 401 when the
   *     signature parameters are missing, 403 when the signature does not match (unknown key,
   *     tampered path or parameters), 410 when the URL has expired
   */
  public Verified verify(String method, String path, Map<String, String> queryParams) {
    boolean thumbnail = path != null && path.endsWith(THUMBNAIL_SUFFIX);
    String[] idAndVersion = storageSegments(thumbnail
        ? path.substring(0, path.length() - THUMBNAIL_SUFFIX.length()) : path);
    if (idAndVersion == null) {
      throw FhirException.notFound("not a storage URL");
    }
    String binaryId = idAndVersion[0];
    String versionId = idAndVersion[1];
    if (!ID.matcher(binaryId).matches()) {
      throw FhirException.notFound("not a valid Binary id");
    }
    if (!VERSION.matcher(versionId).matches()) {
      throw FhirException.notFound("not a valid Binary version id");
    }
    String expires = queryParams.get(EXPIRES);
    String kid = queryParams.get(KEY_ID);
    String signature = queryParams.get(SIGNATURE);
    if (isEmpty(expires) || isEmpty(kid) || isEmpty(signature)) {
      throw FhirException.unauthorized(
          "storage URL needs the Expires, KeyId and Signature parameters; ask for a new URL")
          .withHeader("WWW-Authenticate", "Bearer");
    }
    // Refuse what this signer never produces before computing anything.
    if (!keys.contains(kid) || !EXPIRES_VALUE.matcher(expires).matches()
        || !SIGNATURE_VALUE.matcher(signature).matches()) {
      throw FhirException.forbidden("storage URL signature does not match");
    }
    String download = queryParams.get(DOWNLOAD);
    boolean share = "1".equals(queryParams.get(SHARE));
    // only a share link carries it; on any other URL it is neither covered nor honoured
    String context = share ? queryParams.get(CONTEXT) : null;
    if (context != null && !CONTEXT_VALUE.matcher(context).matches()) {
      throw FhirException.forbidden("storage URL signature does not match");
    }
    String canonicalMethod =
        "HEAD".equalsIgnoreCase(method) ? "GET" : String.valueOf(method).toUpperCase(Locale.ROOT);
    byte[] expected = keys.hmac(kid, canonical(canonicalMethod,
        path(binaryId, versionId) + (thumbnail ? THUMBNAIL_SUFFIX : ""), expires, kid, download, share, context));
    byte[] given = Base64.getUrlDecoder().decode(signature);
    if (!MessageDigest.isEqual(expected, given)) {
      throw FhirException.forbidden("storage URL signature does not match");
    }
    Instant expiry = Instant.ofEpochSecond(Long.parseLong(expires));
    if (!clock.instant().isBefore(expiry)) {
      throw FhirException.gone("storage URL expired at " + expiry + "; ask for a new URL");
    }
    // sign() makes URLs that live at most ttl + window: one with more left was made by signFor()
    boolean longLived = expiry.toEpochMilli() - clock.millis() > ttlMillis + windowMillis;
    return new Verified(binaryId, versionId, expiry, download, thumbnail, share || longLived,
        context == null ? null : contextVersions(context));
  }

  /**
   * Recognises one of our storage URLs (any host, any path prefix, expired or not; the signature
   * is not checked), e.g. to store {@code Binary/{id}} instead of a signed URL a client echoed
   * back. Relative URLs starting with {@code /} are recognised too. Not a thumbnail URL: that is
   * not the Binary's content ({@link #tryParseThumbnail}).
   */
  public static Optional<Ref> tryParse(String url) {
    return parse(url, false);
  }

  /** The version a thumbnail URL of ours is made from, recognised as {@link #tryParse} does. */
  public static Optional<Ref> tryParseThumbnail(String url) {
    return parse(url, true);
  }

  private static Optional<Ref> parse(String url, boolean thumbnail) {
    if (url == null) {
      return Optional.empty();
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
    String scheme = uri.getScheme();
    boolean absolute = scheme != null
        && ("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))
        && uri.getRawAuthority() != null;
    boolean relative = scheme == null && uri.getRawAuthority() == null;
    if (!(absolute || relative) || uri.getPath() == null || uri.getRawQuery() == null) {
      return Optional.empty();
    }
    String path = uri.getPath();
    if (thumbnail != (path != null && path.endsWith(THUMBNAIL_SUFFIX))) {
      return Optional.empty();
    }
    String[] idAndVersion = storageSegments(thumbnail ? path.substring(0, path.length() - THUMBNAIL_SUFFIX.length())
        : path);
    if (idAndVersion == null || !ID.matcher(idAndVersion[0]).matches()
        || !VERSION.matcher(idAndVersion[1]).matches()) {
      return Optional.empty();
    }
    Map<String, String> query = parseQuery(uri.getRawQuery());
    if (isEmpty(query.get(EXPIRES)) || isEmpty(query.get(KEY_ID)) || isEmpty(query.get(SIGNATURE))) {
      return Optional.empty();
    }
    return Optional.of(new Ref(idAndVersion[0], idAndVersion[1]));
  }

  /**
   * {@code {id, versionId}} of a path ending in {@code /storage/{id}/{versionId}} (any prefix,
   * neither segment containing '/'), else null. Checked on every signed request, so by index
   * rather than with a regular expression that backtracks over the prefix.
   */
  private static String[] storageSegments(String path) {
    if (path == null) {
      return null;
    }
    int version = path.lastIndexOf('/');
    int id = version > 0 ? path.lastIndexOf('/', version - 1) : -1;
    int storage = id - STORAGE_SEGMENT.length() + 1;
    if (storage < 0 || !path.startsWith(STORAGE_SEGMENT, storage)) {
      return null;
    }
    return new String[] {path.substring(id + 1, version), path.substring(version + 1)};
  }

  private static Map<String, String> parseQuery(String rawQuery) {
    Map<String, String> params = new HashMap<>();
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        params.putIfAbsent(URLDecoder.decode(name, StandardCharsets.UTF_8),
            URLDecoder.decode(value, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        // A malformed escape in a parameter we do not need does not make the URL foreign.
        continue;
      }
    }
    return params;
  }

  private String signature(String kid, byte[] canonical) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(keys.hmac(kid, canonical));
  }

  private static byte[] canonical(String method, String path, String expires, String kid, String download,
      boolean share, String context) {
    String downloadLine = download == null ? "-" : "=" + encode(download);
    return (String.join("\n", SCHEME_VERSION, method, path, expires, kid, downloadLine) + (share ? "\nshare" : "")
        + (context != null ? "\ncontext=" + context : "")).getBytes(StandardCharsets.UTF_8);
  }

  private static String path(String binaryId, String versionId) {
    return "/storage/" + binaryId + "/" + versionId;
  }

  /** Percent-encoding that keeps spaces as {@code %20}: some decoders do not read {@code +}. */
  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static boolean isEmpty(String s) {
    return s == null || s.isEmpty();
  }

  @Override
  public String toString() {
    return "StorageUrlSigner[keys=" + keys + ", ttl=" + Duration.ofMillis(ttlMillis) + "]";
  }
}
