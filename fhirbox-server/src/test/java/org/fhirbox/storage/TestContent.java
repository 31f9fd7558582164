package org.fhirbox.storage;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Reproducible pseudo-random content of any size, generated while it is read (never held whole
 * in memory), with random access to any byte so reads can be checked without keeping a copy.
 */
final class TestContent {
  private TestContent() {}

  /** The byte at {@code position} of the content for {@code seed}. */
  static byte at(long seed, long position) {
    return (byte) (word(seed, position >>> 3) >>> ((position & 7) * 8));
  }

  static byte[] bytes(long seed, long offset, int length) {
    byte[] out = new byte[length];
    for (int i = 0; i < length; i++) {
      out[i] = at(seed, offset + i);
    }
    return out;
  }

  /** Content of {@code size} bytes. */
  static InputStream stream(long seed, long size) {
    return new Generated(seed, size, Long.MAX_VALUE, false);
  }

  /** A stream that fails with an {@link IOException} once {@code failAt} bytes have been read. */
  static InputStream failingAfter(long seed, long failAt) {
    return new Generated(seed, Long.MAX_VALUE, failAt, false);
  }

  /** A stream that interrupts its reader's thread once {@code interruptAt} bytes have been read. */
  static InputStream interruptingAfter(long seed, long size, long interruptAt) {
    return new Generated(seed, size, interruptAt, true);
  }

  /** SHA-256 and SHA-1 (lowercase hex) of the content, computed apart from any store. */
  static String[] digests(long seed, long size) throws IOException {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      try (InputStream in = stream(seed, size)) {
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) >= 0) {
          sha256.update(buf, 0, n);
          sha1.update(buf, 0, n);
        }
      }
      HexFormat hex = HexFormat.of();
      return new String[] {hex.formatHex(sha256.digest()), hex.formatHex(sha1.digest())};
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String sha256(InputStream in) throws IOException {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[64 * 1024];
      int n;
      while ((n = in.read(buf)) >= 0) {
        sha256.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(sha256.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long word(long seed, long index) {
    // SplitMix64 finaliser over (seed, index): cheap, well mixed, and addressable.
    long z = seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private static final class Generated extends InputStream {
    private final long seed;
    private final long size;
    private final long eventAt;
    private final boolean interrupt;
    private long position;
    private boolean fired;

    Generated(long seed, long size, long eventAt, boolean interrupt) {
      this.seed = seed;
      this.size = size;
      this.eventAt = eventAt;
      this.interrupt = interrupt;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      if (position >= eventAt && !fired) {
        fired = true;
        if (!interrupt) {
          throw new IOException("client went away after " + position + " bytes");
        }
        Thread.currentThread().interrupt();
      }
      if (len == 0) {
        return 0;
      }
      if (position >= size) {
        return -1;
      }
      long limit = Math.min(size, fired ? size : eventAt);
      int n = (int) Math.min(len, Math.max(1, limit - position));
      n = (int) Math.min(n, size - position);
      for (int i = 0; i < n; i++) {
        buf[off + i] = at(seed, position + i);
      }
      position += n;
      return n;
    }
  }
}
