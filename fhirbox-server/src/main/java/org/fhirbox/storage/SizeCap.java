package org.fhirbox.storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A body that fails with {@link BlobTooLargeException} from the very read that takes it past
 * {@code maxBytes}, as {@link BlobStore#put} promises: a store that reads in large buffers
 * ({@code readNBytes} until the buffer is full or the body ends) would otherwise judge the size only
 * once that read returned, and a body whose end then failed (the sender's connection cut before
 * its last chunk, RFC 9112 §7.1) would be reported as broken although more than the limit had
 * arrived, which is too large whatever follows. {@link DigestingInputStream} is one that also
 * digests what it lets through ({@link #accepted}).
 */
class SizeCap extends FilterInputStream {
  private final long maxBytes;
  private long count;

  SizeCap(InputStream in, long maxBytes) {
    super(in);
    this.maxBytes = maxBytes;
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    if (b >= 0) {
      counted(new byte[] {(byte) b}, 0, 1);
    }
    return b;
  }

  @Override
  public int read(byte[] buf, int off, int len) throws IOException {
    int n = super.read(buf, off, len);
    if (n > 0) {
      counted(buf, off, n);
    }
    return n;
  }

  /** Skipped bytes are read, so that they count (and are digested). */
  @Override
  public long skip(long n) throws IOException {
    byte[] scratch = new byte[(int) Math.min(8192, Math.max(1, n))];
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

  private void counted(byte[] buf, int off, int n) throws BlobTooLargeException {
    count += n;
    if (count > maxBytes) {
      throw new BlobTooLargeException(maxBytes);
    }
    accepted(buf, off, n);
  }

  /** Called with each run of bytes read, once it is known to be within the limit. */
  void accepted(byte[] buf, int off, int n) {
  }

  /** The bytes read so far. */
  public long count() {
    return count;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  /** Nothing is marked: a reset would read bytes again that were counted. */
  @Override
  public synchronized void mark(int readLimit) {
  }

  @Override
  public synchronized void reset() throws IOException {
    throw new IOException("mark and reset are not supported");
  }
}
