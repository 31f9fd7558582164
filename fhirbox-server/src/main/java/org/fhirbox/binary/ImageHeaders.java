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
  /** BITMAPINFOHEADER's {@code biCompression} values. */
  private static final int BI_JPEG = 4;
  private static final int BI_PNG = 5;
  private static final int BI_RLE8 = 1;
  private static final int BI_RLE4 = 2;
  /** bV5CSType of a profile inside the file: 'MBED' as the little-endian field reads. */
  private static final int PROFILE_EMBEDDED = 0x4d424544;
  /** At most this much of a BMP's colour table and of its colour profile is read. */
  static final long BMP_PART_BYTES = 16L << 20;
  /** At most this much run-length coded pixel data, read whole before it is decoded. */
  static final long BMP_RLE_BYTES = 64L << 20;

  /**
   * How much a palette PNG may hold besides its image data: the JDK's PNG reader reads every other
   * chunk of a palette image (colour type 3), text, profiles and unknown chunks alike, before and
   * after the image data, and keeps each in memory, whatever the reader is told of metadata.
   */
  static final long PNG_PALETTE_CHUNK_BYTES = 16L << 20;
  static final int PNG_PALETTE_CHUNKS = 4096;

  /**
   * How much extension data (comments, application data) a GIF may carry before its first image:
   * the JDK 17 GIF reader joins each extension's sub-blocks by copying all it has joined so far
   * for every 255 bytes, so its time grows with the square of the size (4 MB took 30 s of a core).
   */
  static final long GIF_EXTENSION_BYTES = 1L << 20;

  private ImageHeaders() {}

  /**
   * True when the PNG at the start of {@code in} is a palette image whose chunks other than IDAT
   * hold more than {@link #PNG_PALETTE_CHUNK_BYTES} or number more than {@link #PNG_PALETTE_CHUNKS},
   * found by walking the chunks' headers (PNG §5.3) to IEND. Leaves {@code in} where it was.
   */
  static boolean pngPaletteChunksTooLarge(ImageInputStream in) throws IOException {
    in.mark();
    try {
      in.seek(8 + 8 + 9); // signature, IHDR's length and type, then its colour type (PNG §11.2.2)
      if (in.readUnsignedByte() != 3) {
        return false; // the reader skips the other chunks of every other colour type
      }
      in.seek(8);
      long bytes = 0;
      int chunks = 0;
      while (true) {
        long length = in.readUnsignedInt();
        int type = in.readInt();
        if (type == 0x49454e44) { // IEND
          return false;
        }
        if (type != 0x49444154) { // not IDAT
          bytes += length;
          chunks++;
          if (bytes > PNG_PALETTE_CHUNK_BYTES || chunks > PNG_PALETTE_CHUNKS) {
            return true;
          }
        }
        in.seek(in.getStreamPosition() + length + 4); // the data, then its CRC
      }
    } finally {
      in.reset();
    }
  }

  /**
   * True when the GIF at the start of {@code in} carries more than {@link #GIF_EXTENSION_BYTES} of
   * extension data before its first image descriptor (GIF89a §§18, 20, 23), counted by walking its
   * blocks without reading their data. Leaves {@code in} where it was.
   */
  static boolean gifExtensionsTooLarge(ImageInputStream in) throws IOException {
    in.mark();
    try {
      in.seek(10);
      int packed = in.readUnsignedByte();
      long next = 13 + ((packed & 0x80) != 0 ? 3L << ((packed & 0x07) + 1) : 0); // the global colour table
      long bytes = 0;
      while (true) {
        in.seek(next);
        if (in.readUnsignedByte() != 0x21) {
          return false; // an image descriptor, the trailer, or no GIF block: the decoder's to judge
        }
        in.readUnsignedByte(); // the extension's label
        for (int size = in.readUnsignedByte(); size != 0; size = in.readUnsignedByte()) {
          bytes += size;
          if (bytes > GIF_EXTENSION_BYTES) {
            return true;
          }
          in.seek(in.getStreamPosition() + size);
        }
        next = in.getStreamPosition();
      }
    } finally {
      in.reset();
    }
  }

  /**
   * Why the BMP at the start of {@code in} gets no thumbnail, read from its headers
   * (BITMAPFILEHEADER, BITMAPINFOHEADER, BITMAPV5HEADER); empty when it may be decoded. The JDK's
   * BMP reader reads these parts whole into memory, sized by the header, not the file:
   * <ul>
   *   <li>a JPEG or PNG inside ({@code BI_JPEG}, {@code BI_PNG}): it allocates the header's image
   *       size ({@code biSizeImage}, up to 4 GB whatever the file's length) before it reads a byte
   *       of it, then decodes that image by its own dimensions, which the limits on the BMP's never
   *       see (browsers show no such BMP either);
   *   <li>all between the headers and the pixels ({@code bfOffBits}), read as the colour table;
   *   <li>an embedded colour profile ({@code bV5ProfileSize});
   *   <li>run-length coded pixels ({@code BI_RLE8}, {@code BI_RLE4}: {@code biSizeImage}, or the
   *       file's size less the offset when that is 0).
   * </ul>
   * Leaves {@code in} where it was.
   */
  static Optional<String> bmpRefusal(ImageInputStream in) throws IOException {
    in.mark();
    ByteOrder order = in.getByteOrder();
    try {
      in.setByteOrder(ByteOrder.LITTLE_ENDIAN);
      in.seek(2);
      long fileSize = in.readUnsignedInt();
      in.seek(10);
      long pixelsAt = in.readUnsignedInt();
      long headerSize = in.readUnsignedInt();
      if (pixelsAt > BMP_PART_BYTES) {
        return Optional.of("the BMP's pixels start more than " + (BMP_PART_BYTES >> 20) + " MB into it");
      }
      if (headerSize < 40) {
        return Optional.empty(); // an OS/2 BITMAPCOREHEADER: no compression, no profile
      }
      in.seek(30);
      long compression = in.readUnsignedInt();
      long imageSize = in.readUnsignedInt();
      if (compression == BI_JPEG || compression == BI_PNG) {
        return Optional.of("the BMP holds a JPEG or PNG image inside it");
      }
      long coded = imageSize != 0 ? imageSize : fileSize - pixelsAt;
      if ((compression == BI_RLE8 || compression == BI_RLE4) && coded > BMP_RLE_BYTES) {
        return Optional.of("the BMP has more than " + (BMP_RLE_BYTES >> 20) + " MB of run-length coded pixels");
      }
      if (headerSize >= 124) {
        in.seek(70);
        boolean embedded = in.readInt() == PROFILE_EMBEDDED;
        in.seek(130);
        if (embedded && in.readUnsignedInt() > BMP_PART_BYTES) {
          return Optional.of("the BMP's colour profile is larger than " + (BMP_PART_BYTES >> 20) + " MB");
        }
      }
      return Optional.empty();
    } finally {
      in.setByteOrder(order);
      in.reset();
    }
  }
}
