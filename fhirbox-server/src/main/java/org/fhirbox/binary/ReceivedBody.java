package org.fhirbox.binary;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request body whose failure (the client gone, a body cut short) reads as its end: what
 * arrived before it is stored, and {@link #cut} says it happened.
 */
final class ReceivedBody extends FilterInputStream {
  private IOException cut;

  ReceivedBody(InputStream in) {
    super(in);
  }

  IOException cut() {
    return cut;
  }

  @Override
  public int read() throws IOException {
    if (cut != null) {
      return -1;
    }
    try {
      return super.read();
    } catch (IOException e) {
      cut = e;
      return -1;
    }
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (cut != null) {
      return -1;
    }
    try {
      return super.read(b, off, len);
    } catch (IOException e) {
      cut = e;
      return -1;
    }
  }
}
