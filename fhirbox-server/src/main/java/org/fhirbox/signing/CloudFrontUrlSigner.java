package org.fhirbox.signing;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.model.ServedType;
import org.fhirbox.storage.BlobKey;
import software.amazon.awssdk.services.cloudfront.CloudFrontUtilities;

/**
 * The {@code cloudfront} signing mode: canned-policy signed URLs for a CloudFront distribution
 * whose origin is the blob bucket, {@code https://{domain}/{keyPrefix}{blobKey}?...&Expires=
 * &Signature=&Key-Pair-Id=}. The URL carries {@code response-content-type} (and an attachment
 * {@code response-content-disposition} for downloads and for every type not served inline, by
 * {@link ServedType}: the same rules as our {@code /storage}), which the distribution's cache policy
 * must forward to S3 (and include in the cache key) for them to take effect, and names the Binary
 * version it serves ({@link #BINARY_PARAMETER}), which S3 passes over.
 *
 * <p>Stability: the expiry is {@code now + ttl} rounded up to a window boundary (a tenth of the
 * TTL, whole seconds), and RSA PKCS#1 v1.5 signatures are deterministic, so every URL for the
 * same content made within one window is identical; it lives between {@code ttl} and
 * {@code 1.1 × ttl}.
 */
public final class CloudFrontUrlSigner implements ObjectUrlSigner {
  private final String origin;
  private final String keyPrefix;
  private final String keyPairId;
  private final PrivateKey privateKey;
  private final SigningWindow window;
  private final Clock clock;
  private final UnaryOperator<String> attachmentDisposition;
  private final CloudFrontUtilities cloudFront = CloudFrontUtilities.create();

  /**
   * @param domain the distribution's domain, e.g. {@code d111111abcdef8.cloudfront.net} (an
   *     {@code https://} origin with optional path is accepted too)
   * @param keyPrefix the blob key prefix in the bucket ({@code FHIRBOX_S3_PREFIX}); the
   *     distribution serves the bucket's root
   * @param attachmentDisposition makes the {@code Content-Disposition} header value that offers
   *     a file with the given name as a download
   */
  public CloudFrontUrlSigner(String domain, String keyPrefix, String keyPairId, PrivateKey privateKey,
      Duration ttl, Clock clock, UnaryOperator<String> attachmentDisposition) {
    if (domain == null || domain.isBlank()) {
      throw new IllegalArgumentException("FHIRBOX_CLOUDFRONT_DOMAIN is required in cloudfront mode");
    }
    if (keyPairId == null || keyPairId.isBlank()) {
      throw new IllegalArgumentException("FHIRBOX_CLOUDFRONT_KEY_PAIR_ID is required in cloudfront mode");
    }
    String o = domain.strip().contains("://") ? domain.strip() : "https://" + domain.strip();
    URI.create(o);
    this.origin = o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
    // a domain that gives no origin is refused at start, not when the web app first asks
    UrlOrigin.of(this.origin);
    this.keyPrefix = keyPrefix;
    this.keyPairId = keyPairId.strip();
    this.privateKey = privateKey;
    this.window = SigningWindow.of(ttl);
    this.clock = clock;
    this.attachmentDisposition = attachmentDisposition;
  }

  @Override
  public String sign(String baseUrl, BinaryContent content, String downloadFilename) {
    return sign(content, downloadFilename,
        Instant.ofEpochSecond(window.roundedExpiry(clock.instant().getEpochSecond())));
  }

  @Override
  public String signFor(String baseUrl, BinaryContent content, String downloadFilename,
      Duration lifetime) {
    return sign(content, downloadFilename, clock.instant().plus(lifetime));
  }

  private String sign(BinaryContent content, String downloadFilename, Instant expires) {
    StringBuilder resource = new StringBuilder(objectPrefix()).append(content.blobKey().value());
    ServedType served = ServedType.of(content.contentType());
    resource.append("?response-content-type=").append(encode(served.contentType()));
    boolean download = downloadFilename != null && !downloadFilename.isEmpty();
    if (download || served.attachment()) {
      resource.append("&response-content-disposition=")
          .append(encode(attachmentDisposition.apply(download ? downloadFilename : content.filename())));
    }
    resource.append('&').append(BINARY_PARAMETER).append('=').append(encode(ObjectUrlSigner.binaryReference(content)));
    return cloudFront.getSignedUrlWithCannedPolicy(r -> r
        .resourceUrl(resource.toString())
        .keyPairId(keyPairId)
        .privateKey(privateKey)
        .expirationDate(expires)).url();
  }

  private String objectPrefix() {
    StringBuilder path = new StringBuilder(origin).append('/');
    for (String segment : keyPrefix.split("/", -1)) {
      path.append(encode(segment)).append('/');
    }
    // split keeps a trailing empty segment for "blobs/" and one for "": drop the extra slash.
    return path.substring(0, path.length() - 1);
  }

  @Override
  public Optional<BlobKey> recogniseBlobKey(String url) {
    String prefix = objectPrefix();
    if (url == null || !url.startsWith(prefix)) {
      return Optional.empty();
    }
    String rest = url.substring(prefix.length());
    int end = rest.indexOf('?');
    return BlobKey.tryParse(end < 0 ? rest : rest.substring(0, end));
  }

  @Override
  public String urlPrefix() {
    return objectPrefix();
  }

  /** RFC 3986 percent-encoding (spaces as %20, not +). */
  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Override
  public String toString() {
    return "CloudFrontUrlSigner[" + origin + ", keyPairId=" + keyPairId + ", ttl=" + window.ttlSeconds() + "s]";
  }
}
