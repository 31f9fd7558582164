package org.fhirbox.storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code in}, which stops after {@code stallAt} bytes until {@link #resume} opens. */
public final class StallingStream extends FilterInputStream {
  public final CountDownLatch stalled;
  public final CountDownLatch resume;
  private final long stallAt;
  private long position;

  public StallingStream(InputStream in, long stallAt) {
    this(in, stallAt, new CountDownLatch(1), new CountDownLatch(1));
  }

  /** One of several streams that count down one {@code stalled} and wait for one {@code resume}. */
  StallingStream(InputStream in, long stallAt, CountDownLatch stalled, CountDownLatch resume) {
    super(in);
    this.stallAt = stallAt;
    this.stalled = stalled;
    this.resume = resume;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (position == stallAt) {
      stalled.countDown();
      try {
        if (!resume.await(60, TimeUnit.SECONDS)) {
          throw new IOException("never resumed");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException();
      }
    }
    int n = super.read(b, off, position < stallAt ? (int) Math.min(len, stallAt - position) : len);
    if (n > 0) {
      position += n;
    }
    return n;
  }
}
