package org.fhirbox.storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Counts bytes and computes the SHA-1, and when asked the SHA-256, of everything read through it,
 * failing with {@link BlobTooLargeException} as soon as more than {@code maxBytes} have been read.
 */
public final class DigestingInputStream extends FilterInputStream {
  private final MessageDigest sha256;
  private final MessageDigest sha1;
  private final long maxBytes;
  private long count;

  /** @param sha256 whether to compute the SHA-256 too ({@link #info} has null for it otherwise) */
  public DigestingInputStream(InputStream in, long maxBytes, boolean sha256) {
    super(in);
    this.maxBytes = maxBytes;
    try {
      this.sha256 = sha256 ? MessageDigest.getInstance("SHA-256") : null;
      this.sha1 = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    if (b >= 0) {
      update(new byte[] {(byte) b}, 0, 1);
    }
    return b;
  }

  @Override
  public int read(byte[] buf, int off, int len) throws IOException {
    int n = super.read(buf, off, len);
    if (n > 0) {
      update(buf, off, n);
    }
    return n;
  }

  private void update(byte[] buf, int off, int n) throws BlobTooLargeException {
    count += n;
    if (count > maxBytes) {
      throw new BlobTooLargeException(maxBytes);
    }
    if (sha256 != null) {
      sha256.update(buf, off, n);
    }
    sha1.update(buf, off, n);
  }

  /** Skipped bytes are still read, so that the digests cover them. */
  @Override
  public long skip(long n) throws IOException {
    byte[] scratch = new byte[8192];
    long skipped = 0;
    while (skipped < n) {
      int r = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
      if (r < 0) {
        break;
      }
      skipped += r;
    }
    return skipped;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  public long count() {
    return count;
  }

  public BlobInfo info(BlobKey key) {
    HexFormat hex = HexFormat.of();
    return new BlobInfo(key, count, sha256 == null ? null : hex.formatHex(sha256.digest()),
        hex.formatHex(sha1.digest()));
  }
}
