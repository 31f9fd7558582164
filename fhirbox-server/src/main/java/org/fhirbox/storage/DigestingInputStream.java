package org.fhirbox.storage;

import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Counts bytes and computes the SHA-1, and when asked the SHA-256, of everything read through it,
 * failing with {@link BlobTooLargeException} as soon as more than {@code maxBytes} have been read.
 */
public final class DigestingInputStream extends SizeCap {
  private final MessageDigest sha256;
  private final MessageDigest sha1;

  /** @param sha256 whether to compute the SHA-256 too ({@link #info} has null for it otherwise) */
  public DigestingInputStream(InputStream in, long maxBytes, boolean sha256) {
    super(in, maxBytes);
    try {
      this.sha256 = sha256 ? MessageDigest.getInstance("SHA-256") : null;
      this.sha1 = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  void accepted(byte[] buf, int off, int n) {
    if (sha256 != null) {
      sha256.update(buf, off, n);
    }
    sha1.update(buf, off, n);
  }

  public BlobInfo info(BlobKey key) {
    HexFormat hex = HexFormat.of();
    return new BlobInfo(key, count(), sha256 == null ? null : hex.formatHex(sha256.digest()),
        hex.formatHex(sha1.digest()));
  }
}
