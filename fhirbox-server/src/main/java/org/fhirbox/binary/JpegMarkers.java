package org.fhirbox.binary;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Optional;
import javax.imageio.stream.ImageInputStream;

/**
 * What the thumbnailer reads of a JPEG's marker segments (ITU T.81 B.1.1) itself, by walking them
 * from SOI to EOI and passing over the entropy-coded data between, rather than from the decoder's
 * metadata, which holds every segment before the frame in memory, as large as the file.
 *
 * @param progressive the frame header (SOF<i>n</i>, T.81 B.2.2) names a progressive process
 * @param orientation the Exif Orientation (1 to 8, CIPA DC-008 tag 0x0112) of the first APP1
 *     segment that is Exif; 1, upright, when there is none
 * @param app2Bytes how many bytes of APP2 segments the file holds anywhere: the JDK's decoder keeps
 *     each in native memory (they may hold an ICC profile), those after the frame header and those
 *     between the scans of a progressive JPEG too
 */
record JpegMarkers(boolean progressive, int orientation, long app2Bytes) {
  /** What a whole ICC profile can take, 255 APP2 segments of 64 KB (ICC.1 B.4), and a little more. */
  static final long APP2_BYTES = 17L << 20;

  /**
   * The markers of the JPEG at the start of {@code in}; empty when no frame header comes before its
   * first scan. A file that ends before EOI is walked as far as it goes (decoders show what there
   * is of it). Leaves {@code in} where it was.
   */
  static Optional<JpegMarkers> read(ImageInputStream in) throws IOException {
    in.mark();
    try {
      in.seek(0);
      Bytes bytes = new Bytes(in);
      if (bytes.u16() != 0xffd8) {
        return Optional.empty();
      }
      int sof = -1;
      int orientation = 0;
      long app2 = 0;
      try {
        while (true) {
          if (bytes.next() != 0xff) {
            // entropy-coded data, or a stray byte between segments, which decoders pass over
            // (libjpeg's next_marker)
            continue;
          }
          int marker = bytes.next();
          while (marker == 0xff) {
            marker = bytes.next(); // fill bytes before a marker (T.81 B.1.1.2)
          }
          if (marker == 0x00 || marker == 0x01 || marker >= 0xd0 && marker <= 0xd7) {
            continue; // a stuffed 0xFF in entropy-coded data (T.81 F.1.2.3), TEM and RSTn: no length
          }
          if (marker == 0xd9) {
            break; // EOI
          }
          int length = bytes.u16();
          if (length < 2) {
            break;
          }
          if (sof < 0 && marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc) {
            sof = marker;
          } else if (marker == 0xda && sof < 0) {
            return Optional.empty(); // a scan with no frame before it
          } else if (marker == 0xe2) {
            app2 += 2 + length;
          } else if (marker == 0xe1 && orientation == 0) {
            // APP1, at most 64 KB: the first that is Exif says the orientation (CIPA DC-008 4.5.4)
            orientation = exifOrientation(bytes.read(length - 2));
            continue;
          }
          bytes.skip(length - 2);
        }
      } catch (EOFException e) {
        // cut short: as far as it goes
      }
      // SOF2, SOF6, SOF10 and SOF14 are the progressive processes (T.81 Table B.1)
      return sof < 0 ? Optional.empty() : Optional.of(new JpegMarkers((sof & 0x03) == 0x02, Math.max(1, orientation),
          app2));
    } finally {
      in.reset();
    }
  }

  /**
   * The Orientation in IFD 0 of an APP1 segment's data, when it is Exif ({@code Exif\0\0}, then a
   * TIFF header, TIFF 6.0 §2): 1 to 8; 1 for an Exif segment that names none or names another
   * value; 0 when the segment is no Exif (XMP also comes in APP1).
   */
  private static int exifOrientation(byte[] data) {
    byte[] exif = {'E', 'x', 'i', 'f', 0, 0};
    if (data.length < exif.length + 8 || !Arrays.equals(data, 0, exif.length, exif, 0, exif.length)) {
      return 0;
    }
    ByteBuffer tiff = ByteBuffer.wrap(data, exif.length, data.length - exif.length).slice();
    if (tiff.get(0) == 'I' && tiff.get(1) == 'I') {
      tiff.order(ByteOrder.LITTLE_ENDIAN);
    } else if (tiff.get(0) != 'M' || tiff.get(1) != 'M') {
      return 1;
    }
    long ifd = tiff.getInt(4) & 0xffffffffL;
    if (tiff.getShort(2) != 42 || ifd + 2 > tiff.limit()) {
      return 1;
    }
    int entries = tiff.getShort((int) ifd) & 0xffff;
    for (int i = 0; i < entries; i++) {
      int at = (int) ifd + 2 + 12 * i;
      if (at + 12 > tiff.limit()) {
        break;
      }
      // an entry: tag, type (3 is SHORT), count, then a value that fits in 4 bytes, left-justified
      if ((tiff.getShort(at) & 0xffff) == 0x0112) {
        int value = tiff.getShort(at + 8) & 0xffff;
        return tiff.getShort(at + 2) == 3 && value >= 1 && value <= 8 ? value : 1;
      }
    }
    return 1;
  }

  /** {@code in} read through a buffer: the walk looks at every byte of the entropy-coded data. */
  private static final class Bytes {
    private final ImageInputStream in;
    private final byte[] buffer = new byte[64 * 1024];
    private int position;
    private int limit;

    Bytes(ImageInputStream in) {
      this.in = in;
    }

    int next() throws IOException {
      if (position == limit) {
        int n = in.read(buffer, 0, buffer.length);
        if (n <= 0) {
          throw new EOFException();
        }
        position = 0;
        limit = n;
      }
      return buffer[position++] & 0xff;
    }

    int u16() throws IOException {
      return next() << 8 | next();
    }

    byte[] read(int n) throws IOException {
      byte[] out = new byte[n];
      for (int i = 0; i < n; i++) {
        out[i] = (byte) next();
      }
      return out;
    }

    void skip(long n) throws IOException {
      long buffered = limit - position;
      if (n <= buffered) {
        position += (int) n;
        return;
      }
      in.seek(in.getStreamPosition() + n - buffered);
      position = 0;
      limit = 0;
    }
  }
}
