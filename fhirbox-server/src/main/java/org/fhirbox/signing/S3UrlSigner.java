package org.fhirbox.signing;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.model.ServedType;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.S3Settings;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner.AuthLocation;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.S3Utilities;

/**
 * The {@code s3} signing mode: a SigV4 query-string presigned GET of the blob's object, so the
 * bytes go straight from the object store to the browser (Range, If-None-Match and HEAD are
 * answered there). The URL asks the store to answer with the Binary's {@code Content-Type}
 * ({@code response-content-type}), the {@code Content-Disposition} our {@code /storage} sends
 * ({@code response-content-disposition}): an attachment for downloads and for every type not
 * served inline ({@link ServedType}: the same rules), else inline with the Binary's file name,
 * {@code Content-Encoding: identity} ({@code response-content-encoding}), and {@code Cache-Control:
 * private, max-age=...} ({@code response-cache-control}) as our {@code /storage} answers, and
 * names the Binary version it serves ({@link #BINARY_PARAMETER}). Both
 * the disposition and the coding are always asked for, not only where they differ from nothing:
 * S3 otherwise answers with what the object was stored with, and a presigned {@code PUT} stores
 * any {@code Content-Disposition} or {@code Content-Encoding} its uploader adds (SigV4 signs only
 * {@code host} and the headers it lists), which would name the download after a file name no
 * deny list judged, or have the browser decode the bytes into others than the Binary describes.
 *
 * <p>Stability: the signature is computed with a signing clock fixed at the start of the
 * current window (a tenth of the TTL, whole seconds), so {@code X-Amz-Date}, {@code
 * X-Amz-Expires} and the signature are identical for every call within one window, as long as
 * the credentials do not change (temporary credentials from an instance role or STS change when
 * they are refreshed, and so does the URL). {@code X-Amz-Expires} is {@code ttl + window}: the
 * URL expires at {@code windowStart + ttl + window}, so a URL handed out at any moment of the
 * window lives for more than {@code ttl} and at most {@code ttl + window = 1.1 × ttl}.
 * SigV4 allows at most 7 days, so the TTL is at most 6.3 days (about 549,818 seconds). With
 * temporary credentials the URL also stops working when their session expires.
 *
 * <p>The SDK's {@code S3Presigner} always signs at the current instant, which would make every
 * URL different; this class uses the SDK's own SigV4 signer and URL builder ({@link
 * S3Utilities#getUrl}) instead, with the same settings (endpoint, region, path style).
 */
public final class S3UrlSigner implements ObjectUrlSigner {
  /** SigV4 presigned URLs live at most 7 days. */
  static final long MAX_EXPIRES_SECONDS = 7 * 24 * 3600;

  private final S3Settings settings;
  private final AwsCredentialsProvider credentials;
  private final SigningWindow window;
  private final Clock clock;
  private final UnaryOperator<String> attachmentDisposition;
  private final UnaryOperator<String> inlineDisposition;
  private final S3Utilities urls;
  private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
  private final String objectUrlPrefix;

  /**
   * @param attachmentDisposition makes the {@code Content-Disposition} header value that offers
   *     a file with the given name as a download
   * @param inlineDisposition makes the {@code Content-Disposition} header value that shows a file
   *     with the given name (or null) in the browser
   */
  public S3UrlSigner(S3Settings settings, AwsCredentialsProvider credentials, Duration ttl,
      Clock clock, UnaryOperator<String> attachmentDisposition, UnaryOperator<String> inlineDisposition) {
    this.settings = settings;
    this.credentials = credentials;
    this.window = SigningWindow.of(ttl);
    if (window.ttlSeconds() + window.windowSeconds() > MAX_EXPIRES_SECONDS) {
      throw new IllegalArgumentException("the s3 signing mode allows a signed URL lifetime of at most "
          + (MAX_EXPIRES_SECONDS * 10 / 11) + " seconds (SigV4 presigned URLs live at most 7 days)");
    }
    this.clock = clock;
    this.attachmentDisposition = attachmentDisposition;
    this.inlineDisposition = inlineDisposition;
    S3Utilities.Builder b = S3Utilities.builder()
        .region(Region.of(settings.region()))
        .s3Configuration(S3Configuration.builder().pathStyleAccessEnabled(settings.pathStyle()).build());
    if (settings.endpoint() != null) {
      b.endpoint(settings.endpoint());
    }
    this.urls = b.build();
    // Blob keys are 32 hex characters, which need no escaping: everything before them is fixed.
    String sample = objectUrl(new BlobKey("0".repeat(32))).toString();
    this.objectUrlPrefix = sample.substring(0, sample.length() - 32);
  }

  private URI objectUrl(BlobKey key) {
    try {
      return urls.getUrl(r -> r.bucket(settings.bucket()).key(settings.objectKey(key))).toURI();
    } catch (URISyntaxException e) {
      throw new IllegalStateException("the SDK made an invalid object URL", e);
    }
  }

  @Override
  public String sign(String baseUrl, BinaryContent content, String downloadFilename) {
    long windowStart = window.start(clock.instant().getEpochSecond());
    return sign(content, downloadFilename, Instant.ofEpochSecond(windowStart),
        Duration.ofSeconds(window.ttlSeconds() + window.windowSeconds()), window.ttlSeconds());
  }

  @Override
  public String signFor(String baseUrl, BinaryContent content, String downloadFilename, Duration lifetime) {
    return sign(content, downloadFilename, clock.instant(), lifetime, lifetime.toSeconds());
  }

  /**
   * @param maxAgeSeconds the {@code max-age} the store's answer carries: at most what the URL has
   *     left when it is handed out ({@code ttl} for a URL of {@link #sign}, which lives longer), so
   *     a browser keeps the bytes privately about as long as it may ask for them, and a shared cache
   *     never keeps them
   */
  private String sign(BinaryContent content, String downloadFilename, Instant signedAt, Duration lifetime,
      long maxAgeSeconds) {
    SdkHttpRequest.Builder request = SdkHttpRequest.builder()
        .method(SdkHttpMethod.GET)
        .uri(objectUrl(content.blobKey()));
    ServedType served = ServedType.of(content.contentType());
    request.putRawQueryParameter("response-content-type", served.contentType());
    if (downloadFilename != null && !downloadFilename.isEmpty()) {
      request.putRawQueryParameter("response-content-disposition",
          attachmentDisposition.apply(downloadFilename));
    } else if (served.attachment()) {
      request.putRawQueryParameter("response-content-disposition",
          attachmentDisposition.apply(content.filename()));
    } else {
      request.putRawQueryParameter("response-content-disposition", inlineDisposition.apply(content.filename()));
    }
    // the stored bytes as they are, whatever coding the object's uploader had it stored with
    request.putRawQueryParameter("response-content-encoding", "identity");
    // What our /storage sends too; S3 otherwise sends no Cache-Control, and browsers guess.
    request.putRawQueryParameter("response-cache-control", "private, max-age=" + maxAgeSeconds);
    request.putRawQueryParameter(BINARY_PARAMETER, ObjectUrlSigner.binaryReference(content));
    Clock signingClock = Clock.fixed(signedAt, ZoneOffset.UTC);
    return signer.sign(r -> r
            .identity(credentials.resolveCredentials())
            .request(request.build())
            .putProperty(AwsV4HttpSigner.REGION_NAME, settings.region())
            .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
            .putProperty(AwsV4HttpSigner.AUTH_LOCATION, AuthLocation.QUERY_STRING)
            .putProperty(AwsV4HttpSigner.EXPIRATION_DURATION, lifetime)
            // S3 presigned URLs: UNSIGNED-PAYLOAD, and the path is neither normalised nor
            // encoded twice (unlike every other AWS service).
            .putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false)
            .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
            .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false)
            .putProperty(HttpSigner.SIGNING_CLOCK, signingClock))
        .request().getUri().toString();
  }

  @Override
  public Optional<BlobKey> recogniseBlobKey(String url) {
    if (url == null || !url.startsWith(objectUrlPrefix)) {
      return Optional.empty();
    }
    String rest = url.substring(objectUrlPrefix.length());
    int end = rest.indexOf('?');
    return BlobKey.tryParse(end < 0 ? rest : rest.substring(0, end));
  }

  @Override
  public String urlPrefix() {
    return objectUrlPrefix;
  }

  @Override
  public String toString() {
    return "S3UrlSigner[" + objectUrlPrefix + ", ttl=" + window.ttlSeconds() + "s]";
  }
}
