package org.fhirbox.signing;

import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.S3Settings;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.s3.presigner.model.PresignedPutObjectRequest;

/**
 * SigV4 presigned {@code PUT}s of a new blob's object, for direct uploads in the {@code s3}
 * signing mode: the bytes go from the client to the bucket and no node touches them. The
 * signature covers the object key, {@code Content-Type}, {@code Content-Length} and
 * {@code x-amz-checksum-sha256} (AWS S3 user guide, "Checking object integrity"), so the store
 * refuses a body of another size or digest. Only the declared checksum is signed in: the SDK's
 * default request checksums (CRC32 since 2.30) are never added to a presigned request, which
 * S3-compatible servers without them would refuse.
 */
public final class S3UploadSigner implements AutoCloseable {
  /** The URL and the headers the client must send with it, exactly. */
  public record Presigned(String url, Map<String, String> headers) {}

  private final S3Settings settings;
  private final S3Presigner presigner;

  public S3UploadSigner(S3Settings settings, AwsCredentialsProvider credentials) {
    this.settings = settings;
    S3Presigner.Builder b = S3Presigner.builder()
        .region(Region.of(settings.region()))
        .credentialsProvider(credentials)
        .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(settings.pathStyle()).build());
    if (settings.endpoint() != null) {
      b.endpointOverride(settings.endpoint());
    }
    this.presigner = b.build();
  }

  /**
   * A presigned PUT of exactly {@code size} bytes of {@code contentType} with SHA-256
   * {@code sha256Hex} (lowercase hex) to the object of {@code key}, valid for {@code ttl}.
   */
  public Presigned presignPut(BlobKey key, long size, String contentType, String sha256Hex, Duration ttl) {
    PutObjectRequest.Builder put = PutObjectRequest.builder()
        .bucket(settings.bucket())
        .key(settings.objectKey(key))
        .contentType(contentType)
        .contentLength(size)
        .checksumSHA256(Base64.getEncoder().encodeToString(HexFormat.of().parseHex(sha256Hex)));
    if (settings.sse() == S3Settings.Sse.KMS) {
      put.serverSideEncryption(ServerSideEncryption.AWS_KMS);
      if (settings.kmsKeyId() != null) {
        put.ssekmsKeyId(settings.kmsKeyId());
      }
    } else if (settings.sse() == S3Settings.Sse.S3) {
      put.serverSideEncryption(ServerSideEncryption.AES256);
    }
    PresignedPutObjectRequest presigned = presigner.presignPutObject(r -> r.signatureDuration(ttl)
        .putObjectRequest(put.build()));
    Map<String, String> headers = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> h : presigned.signedHeaders().entrySet()) {
      String name = h.getKey().toLowerCase(Locale.ROOT);
      // The client's HTTP stack sets Host and Content-Length itself (browsers refuse to).
      if (!name.equals("host") && !name.equals("content-length")) {
        headers.put(canonicalCase(h.getKey()), String.join(",", h.getValue()));
      }
    }
    return new Presigned(presigned.url().toString(), headers);
  }

  private static String canonicalCase(String name) {
    return name.equalsIgnoreCase("content-type") ? "Content-Type" : name.toLowerCase(Locale.ROOT);
  }

  @Override
  public void close() {
    presigner.close();
  }

  @Override
  public String toString() {
    return "S3UploadSigner[" + settings.bucket() + "]";
  }
}
