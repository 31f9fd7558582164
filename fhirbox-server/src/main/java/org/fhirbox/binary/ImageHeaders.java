package org.fhirbox.binary;

import java.io.IOException;
import java.nio.ByteOrder;
import java.util.Optional;
import javax.imageio.stream.ImageInputStream;

/**
 * What the thumbnailer reads of an image's header itself, before a decoder sees it: what the JDK's
 * decoders would otherwise act on without a bound.
 */
final class ImageHeaders {
  /** BITMAPINFOHEADER's {@code biCompression} for a JPEG or a PNG inside the BMP. */
  private static final int BI_JPEG = 4;
  private static final int BI_PNG = 5;

  /**
   * How far into a JPEG its frame header may lie: what comes before it (APPn, COM, tables) the
   * decoder reads first, and keeps every ICC profile segment (APP2) of in native memory, however many
   * there are. A whole ICC profile takes at most 255 segments of 64 KB (ICC.1 B.4).
   */
  static final long JPEG_FRAME_WITHIN = 32L << 20;

  /** A JPEG's frame header, as far as the thumbnailer needs it. */
  record JpegFrame(boolean progressive) {}

  private ImageHeaders() {}

  /**
   * The frame header (SOF<i>n</i>, ITU T.81 B.2.2) of the JPEG at the start of {@code in}, found by
   * walking its marker segments from SOI, without reading any of them; empty when none comes before
   * a scan, the end of the image or {@link #JPEG_FRAME_WITHIN} bytes. Read here rather than from
   * the decoder's metadata, which holds every segment before the frame in memory, as large as the
   * file. Leaves {@code in} where it was.
   */
  static Optional<JpegFrame> jpegFrame(ImageInputStream in) throws IOException {
    in.mark();
    try {
      in.seek(0);
      if (in.readUnsignedShort() != 0xffd8) {
        return Optional.empty();
      }
      while (in.getStreamPosition() < JPEG_FRAME_WITHIN) {
        if (in.readUnsignedByte() != 0xff) {
          continue; // a stray byte between segments, which decoders pass over (libjpeg's next_marker)
        }
        int marker = in.readUnsignedByte();
        while (marker == 0xff) {
          marker = in.readUnsignedByte(); // fill bytes before a marker (T.81 B.1.1.2)
        }
        if (marker == 0x01 || marker >= 0xd0 && marker <= 0xd7) {
          continue; // TEM and RSTn stand alone, with no length
        }
        if (marker == 0xd9 || marker == 0xda) {
          return Optional.empty(); // EOI, or a scan with no frame before it
        }
        int length = in.readUnsignedShort();
        if (length < 2) {
          return Optional.empty();
        }
        if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc) {
          // SOF2, SOF6, SOF10 and SOF14 are the progressive processes (T.81 Table B.1)
          return Optional.of(new JpegFrame((marker & 0x03) == 0x02));
        }
        in.seek(in.getStreamPosition() + length - 2);
      }
      return Optional.empty();
    } finally {
      in.reset();
    }
  }

  /**
   * True when the BMP at the start of {@code in} holds a JPEG or PNG image inside it
   * ({@code BI_JPEG}, {@code BI_PNG}): the JDK's BMP reader allocates the header's image size
   * ({@code biSizeImage}, up to 4 GB whatever the file's length) before it reads a byte of it, and
   * decodes the image inside by that image's own dimensions, which the limits on the BMP's never
   * see. Browsers show no such BMP either. Leaves {@code in} where it was.
   */
  static boolean bmpWrapsAnotherFormat(ImageInputStream in) throws IOException {
    in.mark();
    try {
      ByteOrder order = in.getByteOrder();
      in.setByteOrder(ByteOrder.LITTLE_ENDIAN);
      try {
        in.seek(14); // BITMAPFILEHEADER
        long headerSize = in.readUnsignedInt();
        if (headerSize < 40) {
          return false; // an OS/2 BITMAPCOREHEADER has no compression field
        }
        in.seek(30);
        long compression = in.readUnsignedInt();
        return compression == BI_JPEG || compression == BI_PNG;
      } finally {
        in.setByteOrder(order);
      }
    } finally {
      in.reset();
    }
  }
}
