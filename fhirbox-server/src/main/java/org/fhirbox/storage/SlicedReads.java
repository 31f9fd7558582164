package org.fhirbox.storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads of at most {@link DirectWrites#CHANNEL_SLICE}, and at most a limit in all: a file's stream
 * reads through a temporary direct buffer as large as the request, which the JDK keeps per thread
 * only up to {@code jdk.nio.maxCachedBufferSize} (the launcher sets 256 KiB), and allocates and
 * frees for every larger read.
 */
final class SlicedReads extends FilterInputStream {
  private long left;

  /** @param limit the most bytes to read from {@code in} */
  SlicedReads(InputStream in, long limit) {
    super(in);
    this.left = limit;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (left <= 0) {
      return len == 0 ? 0 : -1;
    }
    int n = in.read(b, off, (int) Math.min(Math.min(len, DirectWrites.CHANNEL_SLICE), left));
    if (n > 0) {
      left -= n;
    }
    return n;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }
}
