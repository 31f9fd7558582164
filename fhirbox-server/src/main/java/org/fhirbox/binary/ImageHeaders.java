package org.fhirbox.binary;

import java.io.IOException;
import java.nio.ByteOrder;
import javax.imageio.stream.ImageInputStream;

/**
 * What the thumbnailer reads of an image's header itself, before a decoder sees it: what the JDK's
 * decoders would otherwise act on without a bound.
 */
final class ImageHeaders {
  /** BITMAPINFOHEADER's {@code biCompression} for a JPEG or a PNG inside the BMP. */
  private static final int BI_JPEG = 4;
  private static final int BI_PNG = 5;

  private ImageHeaders() {}

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
