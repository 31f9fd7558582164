package org.fhirbox.signing;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.S3BlobStore;
import org.fhirbox.storage.S3Settings;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.Part;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.s3.presigner.model.PresignedPutObjectRequest;

/**
 * SigV4 presigned {@code PUT}s of a new blob's object, for direct uploads in the {@code s3}
 * signing mode: the bytes go from the client to the bucket and no node touches them. The
 * signature covers the object key, {@code Content-Type}, {@code Content-Length},
 * {@code x-amz-checksum-sha256} (AWS S3 user guide, "Checking object integrity"), so the store
 * refuses a body of another size or digest, and {@code If-None-Match: *}, so it writes the object
 * once ({@link #presignPut}). Only the declared checksum is signed in: the SDK's
 * default request checksums (CRC32 since 2.30) are never added to a presigned request, which
 * S3-compatible servers without them would refuse.
 *
 * <p>Large files go as a multipart upload with one presigned {@code UploadPart} URL per part
 * ({@link #presignParts}): fhirbox starts the multipart upload, each part URL's signature covers
 * the upload id, the part number and the part's exact {@code Content-Length}, and the completion
 * ({@link #completeParts}) lists the parts the bucket holds and completes the upload with them, so
 * the client never handles an ETag (a browser could not read one without the bucket exposing it).
 * S3 keeps no SHA-256 of a multipart object as a whole (only a checksum of the parts' checksums),
 * so the caller reads the completed object once to check it.
 *
 * <p>Without a declared SHA-256 nothing keeps a presigned {@code PUT}, repeatable until it
 * expires, from writing other bytes of the signed size. Such a {@code PUT} therefore goes to a
 * staging object ({@link #presignStagedPut}), never to a blob: the confirmation checks its size
 * ({@link #staged}), copies it inside the bucket to a new blob while it is still the object it
 * checked ({@link #copyStaged}), and reads that blob for its digests. Part URLs need no staging:
 * once the confirmation completed the multipart upload, a part {@code PUT} no longer changes the
 * object (AWS refuses it: the upload id is gone).
 */
public final class S3UploadSigner implements AutoCloseable {
  /** The URL and the headers the client must send with it, exactly. */
  public record Presigned(String url, Map<String, String> headers) {}

  /** One part of a presigned multipart upload: bytes {@code [offset, offset + size)} of the content. */
  public record PresignedPart(int number, long offset, long size, String url) {}

  /** A multipart upload fhirbox started, and the URLs of its parts. */
  public record PresignedParts(String uploadId, List<PresignedPart> parts) {}

  /**
   * What the bucket holds under a blob's key: its size, the SHA-256 and SHA-1 of the whole object
   * that the store checked when it was written (lowercase hex), each null when it keeps none, the
   * ETag that names this write of it, and the response headers stored with it that no signature
   * covered ({@link #unsignedHeaders}).
   */
  public record StoredObject(long size, String sha256Hex, String sha1Hex, String eTag, List<String> unsignedHeaders) {}

  /**
   * A staging object ({@link #presignStagedPut}): its size, the ETag that names this write of it,
   * and the response headers stored with it that no signature covered ({@link #unsignedHeaders}).
   */
  public record StagedObject(long size, String eTag, List<String> unsignedHeaders) {}

  /** S3's largest single PUT, and its most parts in one multipart upload. */
  public static final long MAX_SINGLE_PUT = 5L << 30;
  private static final int MAX_PARTS = 10_000;

  private final S3Settings settings;
  private final S3Presigner presigner;
  private final S3Client s3;

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
    this.s3 = S3BlobStore.newClient(settings, credentials);
  }

  /**
   * A presigned PUT of exactly {@code size} bytes of {@code contentType} to the object of
   * {@code key}, valid for {@code ttl}, with SHA-256 {@code sha256Hex} signed in as
   * {@code x-amz-checksum-sha256}, or, when that is null, SHA-1 {@code sha1Hex} as
   * {@code x-amz-checksum-sha1} (lowercase hex; a request carries one {@code x-amz-checksum-*}
   * header, AWS S3 user guide, "Checking object integrity").
   *
   * <p>It also signs {@code If-None-Match: *} (S3 conditional writes, AWS S3 user guide, "Add
   * preconditions to S3 operations with conditional requests"): the store takes the {@code PUT}
   * only while the object does not exist, so the URL writes the blob's object once. A repeat, which
   * the signature would otherwise allow until the URL expires, gets 412 and changes nothing: not
   * the bytes (the signed checksum already keeps those), and not the response headers SigV4 leaves
   * unsigned ({@link #unsignedHeaders}), which a repeat after the confirmation (that checks them)
   * would otherwise store with a confirmed Binary's object, for every read of it to be answered
   * with, by the bucket and by a CDN in front of it.
   */
  public Presigned presignPut(BlobKey key, long size, String contentType, String sha256Hex, String sha1Hex,
      Duration ttl) {
    if (sha256Hex != null) {
      return presign(settings.objectKey(key), size, contentType, base64(sha256Hex), null, true, ttl);
    }
    return presign(settings.objectKey(key), size, contentType, null, base64(Objects.requireNonNull(sha1Hex)), true,
        ttl);
  }

  private static String base64(String hex) {
    return Base64.getEncoder().encodeToString(HexFormat.of().parseHex(hex));
  }

  /**
   * A presigned PUT of exactly {@code size} bytes of {@code contentType}, of any digest, to the
   * staging object of {@code key} ({@link S3Settings#stagingObjectKey}), valid for {@code ttl}. No
   * checksum is signed, so the URL takes other bytes of that size as often as it is used until it
   * expires: they only ever replace the staging object, which {@link #copyStaged} copies to a blob
   * once they are checked. At most {@link #MAX_SINGLE_PUT} bytes, which is also S3's largest
   * {@code CopyObject}.
   */
  public Presigned presignStagedPut(BlobKey key, long size, String contentType, Duration ttl) {
    if (size > MAX_SINGLE_PUT) {
      throw new IllegalArgumentException("a single PUT takes at most " + MAX_SINGLE_PUT + " bytes");
    }
    return presign(settings.stagingObjectKey(key), size, contentType, null, null, false, ttl);
  }

  /** @param once whether {@code If-None-Match: *} is signed in, so that the PUT only creates the object */
  private Presigned presign(String objectKey, long size, String contentType, String sha256Base64, String sha1Base64,
      boolean once, Duration ttl) {
    PutObjectRequest.Builder put = PutObjectRequest.builder()
        .bucket(settings.bucket())
        .key(objectKey)
        .contentType(contentType)
        .contentLength(size)
        .checksumSHA256(sha256Base64)
        .checksumSHA1(sha1Base64)
        .serverSideEncryption(encryption())
        .ssekmsKeyId(kmsKeyId())
        .ifNoneMatch(once ? "*" : null);
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

  /** The server-side encryption every object fhirbox has written gets; null for the bucket's default. */
  private ServerSideEncryption encryption() {
    return switch (settings.sse()) {
      case S3 -> ServerSideEncryption.AES256;
      case KMS -> ServerSideEncryption.AWS_KMS;
      case NONE -> null;
    };
  }

  private String kmsKeyId() {
    return settings.sse() == S3Settings.Sse.KMS ? settings.kmsKeyId() : null;
  }

  /**
   * Starts a multipart upload of {@code size} bytes of {@code contentType} to the object of
   * {@code key} and presigns a PUT for each part, valid for {@code ttl}. Parts are
   * {@code FHIRBOX_S3_PART_SIZE} long (larger when the content would need more than 10,000), the
   * last one shorter.
   */
  public PresignedParts presignParts(BlobKey key, long size, String contentType, Duration ttl) throws IOException {
    String objectKey = settings.objectKey(key);
    long partSize = Math.max(settings.partSizeBytes(), (size + MAX_PARTS - 1) / MAX_PARTS);
    CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder()
        .bucket(settings.bucket()).key(objectKey).contentType(contentType)
        .serverSideEncryption(encryption()).ssekmsKeyId(kmsKeyId());
    String uploadId;
    try {
      uploadId = s3.createMultipartUpload(create.build()).uploadId();
    } catch (SdkException e) {
      throw new IOException("CreateMultipartUpload " + objectKey + " failed: " + e.getMessage(), e);
    }
    List<PresignedPart> parts = new ArrayList<>();
    for (long offset = 0; offset < size; offset += partSize) {
      int number = parts.size() + 1;
      long length = Math.min(partSize, size - offset);
      UploadPartRequest part = UploadPartRequest.builder().bucket(settings.bucket()).key(objectKey)
          .uploadId(uploadId).partNumber(number).contentLength(length).build();
      String url = presigner.presignUploadPart(r -> r.signatureDuration(ttl).uploadPartRequest(part)).url().toString();
      parts.add(new PresignedPart(number, offset, length, url));
    }
    return new PresignedParts(uploadId, parts);
  }

  /**
   * Completes the multipart upload {@code uploadId} of {@code key} with the parts the bucket
   * holds, when they add up to {@code size} bytes; returns false, completing nothing, while they
   * do not. An upload completed before (a repeated confirmation) is left as it is.
   */
  public boolean completeParts(BlobKey key, String uploadId, long size) throws IOException {
    String objectKey = settings.objectKey(key);
    try {
      List<Part> held = new ArrayList<>();
      s3.listPartsPaginator(b -> b.bucket(settings.bucket()).key(objectKey).uploadId(uploadId)).parts()
          .forEach(held::add);
      if (held.stream().mapToLong(Part::size).sum() != size) {
        return false;
      }
      List<CompletedPart> parts = held.stream().sorted(Comparator.comparing(Part::partNumber))
          .map(p -> CompletedPart.builder().partNumber(p.partNumber()).eTag(p.eTag()).build()).toList();
      s3.completeMultipartUpload(b -> b.bucket(settings.bucket()).key(objectKey).uploadId(uploadId)
          .multipartUpload(m -> m.parts(parts)));
      return true;
    } catch (NoSuchUploadException e) {
      return true;
    } catch (SdkException e) {
      throw new IOException("completing the multipart upload of " + objectKey + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * {@code HeadObject} with {@code x-amz-checksum-mode: ENABLED}: the object's size, its ETag, and
   * the SHA-256 or SHA-1 the store verified against the signed {@code x-amz-checksum-sha256} or
   * {@code -sha1} of the {@code PUT} that wrote it (AWS S3 user guide, "Checking object integrity": the checksum is
   * stored with the object and returned in checksum mode). Nothing of the object is read. Empty
   * when there is no object. A multipart object's checksum is one of its parts' checksums
   * ({@code COMPOSITE}, written {@code <base64>-<parts>}), not of its content: that gives null.
   */
  public Optional<StoredObject> stored(BlobKey key) throws IOException {
    String objectKey = settings.objectKey(key);
    return head(objectKey, ChecksumMode.ENABLED)
        .map(head -> new StoredObject(head.contentLength(), wholeObject(head.checksumSHA256(), head, 32),
            wholeObject(head.checksumSHA1(), head, 20), head.eTag(), unsignedHeaders(head)));
  }

  /**
   * {@code HeadObject} of the staging object of {@code key}: its size and ETag, nothing of it read;
   * empty when there is none.
   */
  public Optional<StagedObject> staged(BlobKey key) throws IOException {
    return head(settings.stagingObjectKey(key), null)
        .map(head -> new StagedObject(head.contentLength(), head.eTag(), unsignedHeaders(head)));
  }

  /**
   * The response headers that a presigned {@code PUT} stored with its object although its
   * signature does not cover them: SigV4 query authentication needs only {@code host} and
   * {@code x-amz-*} signed, so S3 keeps a {@code Content-Disposition}, {@code Content-Encoding},
   * {@code Content-Language} or {@code Expires} the uploader added, and answers every GET of the
   * object with it (a file name the deny list never saw; a body the browser decodes into other
   * bytes than the ones whose size and digests the Binary publishes). Empty for an object fhirbox
   * wrote, which sets none of them.
   */
  private static List<String> unsignedHeaders(HeadObjectResponse head) {
    List<String> found = new ArrayList<>();
    if (head.contentDisposition() != null) {
      found.add("Content-Disposition");
    }
    if (head.contentEncoding() != null) {
      found.add("Content-Encoding");
    }
    if (head.contentLanguage() != null) {
      found.add("Content-Language");
    }
    if (head.expiresString() != null) {
      found.add("Expires");
    }
    return List.copyOf(found);
  }

  /** {@code HeadObject} of {@code objectKey} (with {@code checksums}, or null); empty on 404. */
  private Optional<HeadObjectResponse> head(String objectKey, ChecksumMode checksums) throws IOException {
    try {
      return Optional.of(s3.headObject(b -> b.bucket(settings.bucket()).key(objectKey).checksumMode(checksums)));
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return Optional.empty();
      }
      throw new IOException("HeadObject " + objectKey + " failed: " + e.getMessage(), e);
    } catch (SdkException e) {
      throw new IOException("HeadObject " + objectKey + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Copies the staging object of {@code key} to the new blob {@code target} inside the bucket
   * ({@code CopyObject}: no byte passes through the node), only while it is still the object whose
   * ETag is {@code eTag} ({@code x-amz-copy-source-if-match}), so that the bytes copied are the ones
   * whose size was checked. False, copying nothing, when another {@code PUT} replaced it meanwhile
   * (412) or it is gone (404).
   */
  public boolean copyStaged(BlobKey key, String eTag, BlobKey target, String contentType) throws IOException {
    return copy(settings.stagingObjectKey(key), eTag, target, contentType);
  }

  /**
   * Copies the object of blob {@code key} to the new blob {@code target} as {@link #copyStaged}
   * copies a staging object: only while it is still the write named {@code eTag}.
   */
  public boolean copyObject(BlobKey key, String eTag, BlobKey target, String contentType) throws IOException {
    return copy(settings.objectKey(key), eTag, target, contentType);
  }

  /**
   * {@code CopyObject} with {@code MetadataDirective: REPLACE}: the copy gets {@code contentType}
   * and nothing else the uploader may have stored with the source ({@link #unsignedHeaders}),
   * where the default ({@code COPY}) would carry it over to the blob.
   */
  private boolean copy(String source, String eTag, BlobKey target, String contentType) throws IOException {
    try {
      s3.copyObject(b -> b.sourceBucket(settings.bucket()).sourceKey(source)
          .destinationBucket(settings.bucket()).destinationKey(settings.objectKey(target))
          .copySourceIfMatch(eTag).metadataDirective(MetadataDirective.REPLACE).contentType(contentType)
          .serverSideEncryption(encryption()).ssekmsKeyId(kmsKeyId()));
      return true;
    } catch (S3Exception e) {
      if (e.statusCode() == 412 || e.statusCode() == 404) {
        return false;
      }
      throw new IOException("CopyObject " + source + " failed: " + e.getMessage(), e);
    } catch (SdkException e) {
      throw new IOException("CopyObject " + source + " failed: " + e.getMessage(), e);
    }
  }

  /** Deletes the staging object of {@code key}; nothing when there is none. */
  public void deleteStaged(BlobKey key) throws IOException {
    String objectKey = settings.stagingObjectKey(key);
    try {
      s3.deleteObject(b -> b.bucket(settings.bucket()).key(objectKey));
    } catch (SdkException e) {
      throw new IOException("DeleteObject " + objectKey + " failed: " + e.getMessage(), e);
    }
  }

  /** Visits the key of every staging object last written before {@code cutoff}. */
  public void listStagedBefore(Instant cutoff, Consumer<BlobKey> visitor) throws IOException {
    String prefix = settings.stagingPrefix();
    try {
      for (S3Object object : s3.listObjectsV2Paginator(b -> b.bucket(settings.bucket()).prefix(prefix)).contents()) {
        if (object.lastModified().isBefore(cutoff)) {
          BlobKey.tryParse(object.key().substring(prefix.length())).ifPresent(visitor);
        }
      }
    } catch (SdkException e) {
      throw new IOException("listing " + settings.bucket() + "/" + prefix + " failed: " + e.getMessage(), e);
    }
  }

  private static String wholeObject(String value, HeadObjectResponse head, int length) {
    if (value == null || value.contains("-") || head.checksumType() == ChecksumType.COMPOSITE) {
      return null;
    }
    try {
      byte[] raw = Base64.getDecoder().decode(value);
      return raw.length == length ? HexFormat.of().formatHex(raw) : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String canonicalCase(String name) {
    if (name.equalsIgnoreCase("if-none-match")) {
      return "If-None-Match";
    }
    return name.equalsIgnoreCase("content-type") ? "Content-Type" : name.toLowerCase(Locale.ROOT);
  }

  @Override
  public void close() {
    presigner.close();
    s3.close();
  }

  @Override
  public String toString() {
    return "S3UploadSigner[" + settings.bucket() + "]";
  }
}
