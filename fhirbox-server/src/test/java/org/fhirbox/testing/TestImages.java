package org.fhirbox.testing;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/** Images for thumbnail tests, made here so no test depends on a committed photo. */
public final class TestImages {
  private TestImages() {}

  /**
   * A photo-sized JPEG written to {@code file}: a gradient under noise, so it compresses about as
   * badly as a real photo (5,000 × 4,000 at quality 0.97 is about 20 MB).
   */
  public static Path noisyJpeg(Path file, int width, int height, float quality) throws IOException {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
    byte[] pixels = ((java.awt.image.DataBufferByte) image.getRaster().getDataBuffer()).getData();
    Random random = new Random(42);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int i = (y * width + x) * 3;
        int noise = random.nextInt(96) - 48;
        pixels[i] = (byte) clamp(x * 255 / width + noise);
        pixels[i + 1] = (byte) clamp(y * 255 / height + noise);
        pixels[i + 2] = (byte) clamp(128 + noise);
      }
    }
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(Files.newOutputStream(file))) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality);
      writer.write(null, new IIOImage(image, null, null), param);
    } finally {
      writer.dispose();
    }
    return file;
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }

  /** A small image in two colours, as {@code format} ("jpeg", "png", "gif", "bmp"). */
  public static byte[] small(String format, int width, int height, boolean transparent) throws IOException {
    BufferedImage image = new BufferedImage(width, height,
        transparent ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    if (!transparent) {
      g.setColor(new Color(0x2a6f97));
      g.fillRect(0, 0, width, height);
    }
    g.setColor(new Color(0xf4a259));
    g.fillOval(width / 4, height / 6, width / 2, height * 2 / 3);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (!ImageIO.write(image, format, out)) {
      throw new IOException("no writer for " + format);
    }
    return out.toByteArray();
  }

  /**
   * A PNG of a few hundred bytes whose header claims {@code width × height} pixels: a
   * decompression bomb as a decoder sees it before it inflates anything.
   */
  public static byte[] pngClaiming(int width, int height) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height)
        .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    chunk(out, "IHDR", ihdr.array());
    chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  /**
   * A BMP of {@code width × height} pixels whose data is {@code embedded}, a PNG (compression
   * {@code BI_PNG}, 5), with {@code declaredSize} as the header's image size ({@code biSizeImage}).
   */
  public static byte[] bmpWrappingPng(int width, int height, byte[] embedded, long declaredSize) {
    int offset = 14 + 40;
    ByteBuffer b = ByteBuffer.allocate(offset + embedded.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 'B').put((byte) 'M').putInt(offset + embedded.length).putInt(0).putInt(offset);
    b.putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) 0).putInt(5)
        .putInt((int) declaredSize).putInt(2835).putInt(2835).putInt(0).putInt(0);
    return b.put(embedded).array();
  }

  /** A JPEG whose left half is red and right half blue, so a turned or mirrored copy shows how it was turned. */
  public static byte[] redLeftBlueRight(int width, int height) throws IOException {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(Color.RED);
    g.fillRect(0, 0, width / 2, height);
    g.setColor(Color.BLUE);
    g.fillRect(width / 2, 0, width - width / 2, height);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "jpeg", out);
    return out.toByteArray();
  }

  /** A grey JPEG of {@code width × height} pixels, one byte a pixel while it is made. */
  public static byte[] greyJpeg(int width, int height) throws IOException {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = image.createGraphics();
    g.setColor(Color.LIGHT_GRAY);
    g.fillRect(0, 0, width, height);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "jpeg", out);
    return out.toByteArray();
  }

  /**
   * {@code jpeg} with an APP1 Exif segment (CIPA DC-008, a TIFF header and IFD0) inserted after its
   * first segment, naming {@code orientation} (tag 0x0112) and padded to {@code segmentLength}
   * bytes (a camera's Exif segment, with its preview picture, is tens of KB).
   */
  public static byte[] withExif(byte[] jpeg, int orientation, int segmentLength) {
    ByteBuffer tiff = ByteBuffer.allocate(26).order(ByteOrder.BIG_ENDIAN);
    tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8)
        .putShort((short) 1).putShort((short) 0x0112).putShort((short) 3).putInt(1)
        .putShort((short) orientation).putShort((short) 0).putInt(0);
    byte[] exif = "Exif\0\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    int dataLength = Math.max(exif.length + tiff.capacity(), segmentLength - 2);
    ByteBuffer segment = ByteBuffer.allocate(2 + 2 + dataLength);
    segment.put((byte) 0xff).put((byte) 0xe1).putShort((short) (dataLength + 2)).put(exif).put(tiff.array());
    int firstEnd = 4 + (((jpeg[4] & 0xff) << 8) | (jpeg[5] & 0xff));
    byte[] out = new byte[jpeg.length + segment.capacity()];
    System.arraycopy(jpeg, 0, out, 0, firstEnd);
    System.arraycopy(segment.array(), 0, out, firstEnd, segment.capacity());
    System.arraycopy(jpeg, firstEnd, out, firstEnd + segment.capacity(), jpeg.length - firstEnd);
    return out;
  }

  /** A palette PNG (colour type 3) of 64 × 48 pixels with a tEXt chunk of {@code textBytes} before its image data. */
  public static byte[] palettePngWithText(int textBytes) throws IOException {
    BufferedImage image = new BufferedImage(64, 48, BufferedImage.TYPE_BYTE_INDEXED);
    Graphics2D g = image.createGraphics();
    g.setColor(Color.ORANGE);
    g.fillRect(0, 0, 32, 48);
    g.dispose();
    ByteArrayOutputStream plain = new ByteArrayOutputStream();
    ImageIO.write(image, "png", plain);
    byte[] png = plain.toByteArray();
    if (png[25] != 3) {
      throw new IOException("not a palette PNG: colour type " + png[25]);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(png, 0, 8 + 25); // the signature and IHDR
    if (textBytes > 0) {
      byte[] text = new byte[textBytes];
      java.util.Arrays.fill(text, (byte) 'a');
      byte[] keyword = "Comment\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
      System.arraycopy(keyword, 0, text, 0, keyword.length);
      chunk(out, "tEXt", text);
    }
    out.write(png, 8 + 25, png.length - 8 - 25);
    return out.toByteArray();
  }

  /** A GIF of 64 × 48 pixels with a comment extension of {@code commentBytes} before its image. */
  public static byte[] gifWithComment(int commentBytes) throws IOException {
    byte[] gif = small("gif", 64, 48, false);
    int tableSize = (gif[10] & 0x80) != 0 ? 3 << ((gif[10] & 0x07) + 1) : 0;
    int at = 13 + tableSize;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(gif, 0, at);
    out.write(0x21);
    out.write(0xfe);
    for (int left = commentBytes; left > 0; left -= 255) {
      int size = Math.min(255, left);
      out.write(size);
      out.write(new byte[size], 0, size);
    }
    out.write(0);
    out.write(gif, at, gif.length - at);
    return out.toByteArray();
  }

  /**
   * An uncompressed 24-bit BMP of 4 × 4 pixels with a BITMAPV5HEADER, {@code gap} bytes of zeros
   * between the headers and the pixels, and, when {@code profileBytes} is positive, a colour profile
   * said to be embedded ({@code PROFILE_EMBEDDED}) of that size at the start of the gap.
   */
  public static byte[] bmpV5(int gap, int profileBytes, int compression, long declaredImageSize) {
    int headerEnd = 14 + 124;
    int pixelsAt = headerEnd + gap;
    byte[] pixels = new byte[4 * 4 * 3];
    ByteBuffer b = ByteBuffer.allocate(pixelsAt + pixels.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 'B').put((byte) 'M').putInt(pixelsAt + pixels.length).putInt(0).putInt(pixelsAt);
    b.putInt(124).putInt(4).putInt(4).putShort((short) 1).putShort((short) (compression == 0 ? 24 : 8))
        .putInt(compression).putInt((int) declaredImageSize).putInt(2835).putInt(2835).putInt(0).putInt(0);
    b.putInt(0).putInt(0).putInt(0).putInt(0); // colour masks
    b.putInt(profileBytes > 0 ? 0x4d424544 : 0x73524742); // 'MBED', else 'sRGB'
    b.put(new byte[36]).putInt(0).putInt(0).putInt(0).putInt(4); // endpoints, gamma, intent
    b.putInt(profileBytes > 0 ? 124 : 0).putInt(Math.max(0, profileBytes)).putInt(0);
    b.position(pixelsAt);
    return b.put(pixels).array();
  }

  /**
   * A grey progressive JPEG of {@code width × height} pixels whose first AC scan (with the Huffman
   * table before it) comes {@code extraScans} more times: a small file of thousands of scans, each
   * of which a decoder goes over the whole image for.
   */
  public static byte[] progressiveJpegWithScans(int width, int height, int extraScans) throws IOException {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream plain = new ByteArrayOutputStream();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(plain)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      writer.write(null, new IIOImage(image, null, null), param);
    } finally {
      writer.dispose();
    }
    byte[] jpeg = plain.toByteArray();
    int at = 2;
    int scans = 0;
    int repeatFrom = -1;
    while (true) {
      int marker = jpeg[at + 1] & 0xff;
      int end = at + 2 + (((jpeg[at + 2] & 0xff) << 8) | (jpeg[at + 3] & 0xff));
      if (marker == 0xc4 && scans == 1) {
        repeatFrom = at; // the Huffman table of the second scan, the first of AC coefficients
      }
      if (marker == 0xda) {
        scans++;
        while ((jpeg[end] & 0xff) != 0xff || jpeg[end + 1] == 0 || (jpeg[end + 1] & 0xf8) == 0xd0) {
          end++; // the entropy-coded data, to the next marker (T.81 B.1.1.5)
        }
        if (scans == 2) {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          out.write(jpeg, 0, end);
          for (int i = 0; i < extraScans; i++) {
            out.write(jpeg, repeatFrom, end - repeatFrom);
          }
          out.write(jpeg, end, jpeg.length - end);
          return out.toByteArray();
        }
      }
      at = end;
    }
  }

  /**
   * {@code jpeg} with {@code count} marker segments {@code marker} of 64 KB each right after its
   * frame header (SOF0, as ImageIO writes a baseline JPEG).
   */
  public static byte[] withSegmentsAfterFrame(byte[] jpeg, int marker, int count) throws IOException {
    int at = 2;
    while ((jpeg[at + 1] & 0xff) != 0xc0) {
      at += 2 + (((jpeg[at + 2] & 0xff) << 8) | (jpeg[at + 3] & 0xff));
    }
    int frameEnd = at + 2 + (((jpeg[at + 2] & 0xff) << 8) | (jpeg[at + 3] & 0xff));
    byte[] segment = new byte[2 + 65_535];
    segment[0] = (byte) 0xff;
    segment[1] = (byte) marker;
    segment[2] = (byte) 0xff;
    segment[3] = (byte) 0xff;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, frameEnd);
    for (int i = 0; i < count; i++) {
      out.write(segment);
    }
    out.write(jpeg, frameEnd, jpeg.length - frameEnd);
    return out.toByteArray();
  }

  private static void chunk(OutputStream out, String type, byte[] data) throws IOException {
    byte[] typeBytes = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    out.write(ByteBuffer.allocate(4).putInt(data.length).array());
    out.write(typeBytes);
    out.write(data);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }
}
