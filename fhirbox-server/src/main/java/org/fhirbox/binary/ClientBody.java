package org.fhirbox.binary;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** An upload's body whose read failures are marked as the client's, so they are not mistaken for storage failures. */
final class ClientBody {
  private ClientBody() {}

  /** A failure while reading the body: the client went away or sent a broken body. */
  static final class ReadFailure extends IOException {
    ReadFailure(IOException cause) {
      super(cause.getMessage(), cause);
    }
  }

  /** {@code in}, whose read failures become {@link ReadFailure}. */
  static InputStream marked(InputStream in) {
    return new FilterInputStream(in) {
      @Override
      public int read() throws IOException {
        try {
          return super.read();
        } catch (IOException e) {
          throw new ReadFailure(e);
        }
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        try {
          return super.read(b, off, len);
        } catch (IOException e) {
          throw new ReadFailure(e);
        }
      }
    };
  }
}
