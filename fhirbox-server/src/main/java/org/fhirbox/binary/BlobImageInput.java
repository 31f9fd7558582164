package org.fhirbox.binary;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import javax.imageio.stream.ImageInputStreamImpl;
import org.apache.commons.io.input.BoundedInputStream;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.BlobStore;

/**
 * A blob as an {@code ImageInputStream} in constant memory: the first {@value #HEAD} bytes are kept
 * (image readers probe and re-read the header), the rest is one open stream that a forward seek
 * skips along and a backward seek reopens at the new offset. {@code ImageIO}'s own streams would
 * cache everything read, in memory or in a temporary file.
 */
final class BlobImageInput extends ImageInputStreamImpl {
  static final int HEAD = 16 * 1024;
  /** A forward seek shorter than this reads on; a longer one opens the blob again there. */
  private static final long SKIP_LIMIT = 1 << 20;

  private final BlobStore blobs;
  private final BlobKey key;
  private final long length;
  private final byte[] head;
  private InputStream in;
  private long inPosition;

  BlobImageInput(BlobStore blobs, BlobKey key, long length) throws IOException {
    this.blobs = blobs;
    this.key = key;
    this.length = length;
    try (InputStream first = blobs.open(key, 0)) {
      this.head = first.readNBytes((int) Math.min(HEAD, length));
    }
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  /**
   * Reads {@code len} bytes, fewer only at the end of the content: ImageInputStream allows a short
   * read, but the JDK's decoders take one for the end of the file (the JPEG reader's marker segments,
   * {@code JPEGBuffer.readData}), and a read that crossed the kept head or the buffer's end came back
   * short.
   */
  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int total = 0;
    while (total < len) {
      int n = readSome(b, off + total, len - total);
      if (n < 0) {
        return total == 0 ? -1 : total;
      }
      total += n;
    }
    return total;
  }

  private int readSome(byte[] b, int off, int len) throws IOException {
    checkClosed();
    bitOffset = 0;
    if (len == 0) {
      return 0;
    }
    if (streamPos >= length) {
      return -1;
    }
    int n;
    if (streamPos < head.length) {
      n = (int) Math.min(len, head.length - streamPos);
      System.arraycopy(head, (int) streamPos, b, off, n);
    } else {
      position();
      n = in.read(b, off, len);
      if (n < 0) {
        throw new IOException("the blob ended at " + streamPos + " of " + length + " bytes");
      }
      inPosition += n;
    }
    streamPos += n;
    return n;
  }

  private void position() throws IOException {
    if (in != null && streamPos >= inPosition && streamPos - inPosition <= SKIP_LIMIT) {
      in.skipNBytes(streamPos - inPosition);
      inPosition = streamPos;
      return;
    }
    if (in != null) {
      in.close();
    }
    // ends at the recorded size: whatever the store holds beyond it is never read
    in = new BufferedInputStream(BoundedInputStream.builder().setInputStream(blobs.open(key, streamPos))
        .setMaxCount(length - streamPos).get(), 64 * 1024);
    inPosition = streamPos;
  }

  @Override
  public long length() {
    return length;
  }

  @Override
  public void close() throws IOException {
    super.close();
    if (in != null) {
      in.close();
      in = null;
    }
  }
}
