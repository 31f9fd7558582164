package org.fhirbox.binary;

import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import org.fhirbox.core.FhirException;
import org.fhirbox.signing.UploadUrlSigner;
import org.fhirbox.storage.BlobInfo;

/**
 * What an uploader declared about content before sending it (a presigned upload's
 * {@code $upload-url}): its size, and optionally its SHA-256 and SHA-1, each as lowercase hex. A
 * body that is not this content is refused before any Binary names it.
 *
 * @param size the exact size in bytes; null when any size up to the limit is allowed
 * @param sha256Hex the declared SHA-256, or null
 * @param sha1Hex the declared SHA-1 ({@code Attachment.hash}), or null
 */
public record DeclaredContent(Long size, String sha256Hex, String sha1Hex) {

  /** Nothing declared but the size. */
  public static DeclaredContent ofSize(Long size) {
    return new DeclaredContent(size, null, null);
  }

  /** What an upload URL's grant says the content is. */
  public static DeclaredContent of(UploadUrlSigner.Grant grant) {
    return new DeclaredContent(grant.size(), grant.sha256Hex(), grant.sha1Hex());
  }

  /**
   * Why {@code stored} is not the declared content (naming what differs), or null when it is. Only
   * what was declared is compared.
   */
  public String mismatch(BlobInfo stored) {
    if (size != null && stored.size() != size) {
      return "has " + stored.size() + " bytes, not the declared " + size;
    }
    if (sha256Hex != null && !sha256Hex.equalsIgnoreCase(stored.sha256Hex())) {
      return "has another SHA-256 than the declared one";
    }
    if (sha1Hex != null && !sha1Hex.equalsIgnoreCase(stored.sha1Hex())) {
      return "has another SHA-1 than the declared one";
    }
    return null;
  }

  /** A SHA-256 as 64 hex digits or base64 (as {@code x-amz-checksum-sha256} carries it), as lowercase hex. */
  public static String sha256Hex(String value) {
    return hex(value, 32, "sha256");
  }

  /** A SHA-1 as 40 hex digits or base64 (as {@code Attachment.hash} and {@code x-amz-checksum-sha1} carry it). */
  public static String sha1Hex(String value) {
    return hex(value, 20, "sha1");
  }

  private static String hex(String value, int bytes, String name) {
    String v = value.trim();
    // ASCII hex only: Character.digit also takes other scripts' digits, which HexFormat refuses later
    if (v.length() == bytes * 2 && v.chars().allMatch(c -> c < 128 && Character.digit(c, 16) >= 0)) {
      return v.toLowerCase(Locale.ROOT);
    }
    try {
      byte[] raw = Base64.getDecoder().decode(v);
      if (raw.length == bytes) {
        return HexFormat.of().formatHex(raw);
      }
    } catch (IllegalArgumentException e) {
      // falls through to the refusal below
    }
    throw FhirException.badRequest(name + " must be " + bytes * 2 + " hexadecimal digits or " + bytes
        + " bytes in base64", name);
  }
}
