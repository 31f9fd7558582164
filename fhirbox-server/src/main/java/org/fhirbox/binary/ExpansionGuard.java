package org.fhirbox.binary;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Stops a compressed upload whose expansion is absurd (a "zip bomb"): once {@value #FREE_BYTES}
 * bytes have been decoded, the decoded size may not exceed {@value #MAX_RATIO} times the encoded
 * bytes read so far. Real files rarely pass 20:1 (text, logs, CSV reach 5-15:1); 11 MB of gzip
 * that expands to 11 GiB (1000:1) is refused after its first MBs instead of filling the disk up
 * to the size limit. Content that truly is that repetitive can be uploaded without
 * Content-Encoding.
 */
final class ExpansionGuard {
  static final long FREE_BYTES = 10L << 20;
  static final int MAX_RATIO = 100;

  /** Thrown by the decoded stream; an IOException so every blob store discards what it wrote. */
  static final class TooExpanded extends IOException {
    TooExpanded(long decoded, long encoded) {
      super("the body expands more than " + MAX_RATIO + ":1 (" + decoded + " bytes from " + encoded + ")");
    }
  }

  private long encoded;
  private long decoded;

  /** Counts the encoded bytes the decoder reads from {@code raw}. */
  InputStream encoded(InputStream raw) {
    return new FilterInputStream(raw) {
      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
          encoded++;
        }
        return b;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
          encoded += n;
        }
        return n;
      }
    };
  }

  /** Counts the decoder's output and throws {@link TooExpanded} past the ratio. */
  InputStream decoded(InputStream decoder) {
    return new FilterInputStream(decoder) {
      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
          check(1);
        }
        return b;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
          check(n);
        }
        return n;
      }
    };
  }

  private void check(int n) throws TooExpanded {
    decoded += n;
    if (decoded > FREE_BYTES && decoded > MAX_RATIO * Math.max(encoded, 1)) {
      throw new TooExpanded(decoded, encoded);
    }
  }
}
