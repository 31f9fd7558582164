package org.fhirbox.http;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request body that notes whether anything read it: a request refused before its first byte is
 * answered first and drained after ({@link Exchange#refuseUnread}), one refused partway through is
 * drained first.
 */
final class RequestBody extends FilterInputStream {
  private boolean touched;

  RequestBody(InputStream in) {
    super(in);
  }

  /** True once anything read or skipped a byte (or tried to). */
  boolean touched() {
    return touched;
  }

  @Override
  public int read() throws IOException {
    touched = true;
    return super.read();
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    touched = true;
    return super.read(b, off, len);
  }

  @Override
  public long skip(long n) throws IOException {
    touched = true;
    return super.skip(n);
  }
}
