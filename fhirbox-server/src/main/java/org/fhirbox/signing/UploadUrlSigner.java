package org.fhirbox.signing;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Pattern;
import org.fhirbox.core.FhirException;

/**
 * Signs and verifies the server's presigned upload URLs, which let a client without credentials
 * {@code PUT} the bytes of one reserved Binary once:
 * <pre>
 * {base}/storage/upload/{id}?Project=[&Size=]&Type=[&Sha256=][&Sha1=][&Context=][&Filename=][&Base=][&Blob=]
 *   [&Upload=][&Client=][&User=]&Expires=&KeyId=&Signature=
 * </pre>
 *
 * <p>The signature is HMAC-SHA256 (base64url, no padding) under the keys of the download URLs
 * ({@link SigningKeys}) over the canonical string
 * <pre>
 * fhirbox-upload-v1 LF PUT LF /storage/upload/{id} LF Expires LF KeyId LF Project LF Size LF Type
 *   LF Sha256 LF Context LF Filename LF Base LF Blob [LF Upload LF Client [LF Sha1 [LF User]]]
 * </pre>
 * where every value after {@code KeyId} is percent-encoded and an absent optional value is
 * {@code -} ({@code =} precedes a present one, so absent differs from empty). The scheme name
 * differs from {@link StorageUrlSigner}'s, so a download signature can never verify as an upload
 * and the reverse. So the URL binds the method, the Binary id, its project, the exact size and
 * content type, the declared SHA-256 and SHA-1, the {@code securityContext}, the file name and,
 * for a URL that replaces an existing Binary's content ({@code Base}), the version it replaces. A URL with
 * {@code Blob} is the completion step of an S3 presigned upload: it signs {@code POST} and names
 * the blob whose object the client wrote straight to the bucket; with {@code Upload} as well, the
 * S3 multipart upload whose parts it completes; {@code Client} names the client the URL was issued
 * to, and {@code User} the person whose token asked for it, if any: both are looked up again when
 * the URL is used, and the client is named in the audit trail (these two lines are there only when
 * one of them, {@code Sha1} or {@code User} is, the {@code Sha1} line only when it or {@code User}
 * is, and the {@code User} line only when it is, so URLs signed without them keep verifying). The
 * client can change none of them. {@code Size} is absent only in that replacing form, which Medplum's
 * {@code $presigned-url?upload=true} issues without knowing the size. Signatures are compared in constant time.
 */
public final class UploadUrlSigner {
  /**
   * What a valid upload URL grants: one PUT of exactly {@code size} bytes (any size up to the limit
   * when null) that creates {@code Binary/{binaryId}}, or, when {@code baseVersion} is set, that
   * stores the version after it.
   */
  public record Grant(String binaryId, String project, Long size, String contentType, String sha256Hex,
      String sha1Hex, String securityContext, String filename, Long baseVersion, String blobKey, String uploadId,
      String client, String user) {

    /** The method the URL answers: PUT of the bytes, or POST to confirm bytes already in the bucket. */
    public String method() {
      return blobKey == null ? "PUT" : "POST";
    }
  }

  /** A verified grant, with the instant its URL expires. */
  public record Verified(Grant grant, Instant expires) {}

  public static final String PATH_SEGMENT = "upload";
  private static final String SCHEME_VERSION = "fhirbox-upload-v1";
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
  private static final Pattern EXPIRES_VALUE = Pattern.compile("[0-9]{1,12}");
  private static final Pattern SIZE_VALUE = Pattern.compile("[0-9]{1,18}");
  private static final Pattern SIGNATURE_VALUE = Pattern.compile("[A-Za-z0-9_-]{43}");

  private final SigningKeys keys;
  private final Clock clock;

  public UploadUrlSigner(SigningKeys keys, Clock clock) {
    this.keys = keys;
    this.clock = clock;
  }

  /**
   * The upload URL for {@code grant}, valid until {@code expires}.
   *
   * <p>{@code signer.sign("https://fhir.example.org/", grant, expiry)} gives
   * {@code https://fhir.example.org/storage/upload/{id}?Project=...&Signature=...}.
   */
  public String sign(String baseUrl, Grant grant, Instant expires) {
    if (!ID.matcher(grant.binaryId()).matches()) {
      throw new IllegalArgumentException("not a Binary id: " + grant.binaryId());
    }
    String kid = keys.currentKeyId();
    String exp = Long.toString(expires.getEpochSecond());
    String signature = Base64.getUrlEncoder().withoutPadding()
        .encodeToString(keys.hmac(kid, canonical(grant, exp, kid)));
    String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    StringBuilder url = new StringBuilder(base).append(path(grant.binaryId()))
        .append("?Project=").append(encode(grant.project()))
        .append(grant.size() == null ? "" : "&Size=" + grant.size())
        .append("&Type=").append(encode(grant.contentType()));
    appendOptional(url, "Sha256", grant.sha256Hex());
    appendOptional(url, "Sha1", grant.sha1Hex());
    appendOptional(url, "Context", grant.securityContext());
    appendOptional(url, "Filename", grant.filename());
    appendOptional(url, "Base", grant.baseVersion() == null ? null : grant.baseVersion().toString());
    appendOptional(url, "Blob", grant.blobKey());
    appendOptional(url, "Upload", grant.uploadId());
    appendOptional(url, "Client", grant.client());
    appendOptional(url, "User", grant.user());
    return url.append("&Expires=").append(exp)
        .append("&KeyId=").append(encode(kid))
        .append("&Signature=").append(signature).toString();
  }

  /**
   * Checks a {@code PUT /storage/upload/{id}} request.
   *
   * @param queryParams decoded query parameters, first value of each
   * @throws FhirException 401 when the signature parameters are missing, 403 when the signature
   *     does not match (unknown key, any parameter changed), 410 when the URL has expired
   */
  public Verified verify(String binaryId, Map<String, String> queryParams) {
    if (!ID.matcher(binaryId).matches()) {
      throw FhirException.notFound("not a valid Binary id");
    }
    String expires = queryParams.get("Expires");
    String kid = queryParams.get("KeyId");
    String signature = queryParams.get("Signature");
    String size = queryParams.get("Size");
    String project = queryParams.get("Project");
    String type = queryParams.get("Type");
    String base = queryParams.get("Base");
    if (isEmpty(expires) || isEmpty(kid) || isEmpty(signature)) {
      throw FhirException.unauthorized(
          "an upload URL needs the Expires, KeyId and Signature parameters; ask $upload-url for a new URL")
          .withHeader("WWW-Authenticate", "Bearer");
    }
    if (!keys.contains(kid) || !EXPIRES_VALUE.matcher(expires).matches() || isEmpty(project) || type == null
        || (size != null && !SIZE_VALUE.matcher(size).matches())
        || (base != null && !SIZE_VALUE.matcher(base).matches()) || !SIGNATURE_VALUE.matcher(signature).matches()) {
      throw FhirException.forbidden("upload URL signature does not match");
    }
    Grant grant = new Grant(binaryId, project, size == null ? null : Long.parseLong(size), type,
        queryParams.get("Sha256"), queryParams.get("Sha1"), queryParams.get("Context"), queryParams.get("Filename"),
        base == null ? null : Long.parseLong(base), queryParams.get("Blob"), queryParams.get("Upload"),
        queryParams.get("Client"), queryParams.get("User"));
    byte[] expected = keys.hmac(kid, canonical(grant, expires, kid));
    if (!MessageDigest.isEqual(expected, Base64.getUrlDecoder().decode(signature))) {
      throw FhirException.forbidden("upload URL signature does not match");
    }
    Instant expiry = Instant.ofEpochSecond(Long.parseLong(expires));
    if (!clock.instant().isBefore(expiry)) {
      throw FhirException.gone("upload URL expired at " + expiry + "; ask $upload-url for a new URL");
    }
    return new Verified(grant, expiry);
  }

  private static byte[] canonical(Grant g, String expires, String kid) {
    String signed = String.join("\n", SCHEME_VERSION, g.method(), path(g.binaryId()), expires, encode(kid),
        encode(g.project()), optional(g.size() == null ? null : g.size().toString()), encode(g.contentType()),
        optional(g.sha256Hex()), optional(g.securityContext()), optional(g.filename()),
        optional(g.baseVersion() == null ? null : g.baseVersion().toString()), optional(g.blobKey()));
    if (g.uploadId() != null || g.client() != null || g.sha1Hex() != null || g.user() != null) {
      signed += "\n" + optional(g.uploadId()) + "\n" + optional(g.client());
    }
    if (g.sha1Hex() != null || g.user() != null) {
      signed += "\n" + optional(g.sha1Hex());
    }
    if (g.user() != null) {
      signed += "\n" + optional(g.user());
    }
    return signed.getBytes(StandardCharsets.UTF_8);
  }

  private static String optional(String value) {
    return value == null ? "-" : "=" + encode(value);
  }

  private static void appendOptional(StringBuilder url, String name, String value) {
    if (value != null) {
      url.append('&').append(name).append('=').append(encode(value));
    }
  }

  static String path(String binaryId) {
    return "/storage/" + PATH_SEGMENT + "/" + binaryId;
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
    return "UploadUrlSigner[keys=" + keys + "]";
  }
}
