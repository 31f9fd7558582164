package org.fhirbox.binary;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import javax.imageio.IIOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.storage.BlobStore;

/**
 * Thumbnails of image content, at most {@value #SIZE} pixels on the longest side: a JPEG, or a PNG
 * when the image has transparency.
 *
 * <p>Made in constant memory whatever the file's size: the blob is read as a stream
 * ({@link BlobImageInput}), its dimensions come from the header, and the decoder skips rows and
 * columns as it goes ({@link ImageReadParam#setSourceSubsampling}), so a 6,000 × 4,000 photo becomes
 * a picture of at most 1,024 pixels a side before it is smoothed down to {@value #SIZE}. Refused
 * with 422 before any pixel is decoded: content that is not a JPEG, PNG, GIF or BMP (whatever its
 * content type says), more than {@value #MAX_PIXELS} pixels or {@value #MAX_SIDE} on a side (a
 * decompression bomb: a few KB of PNG can claim 100,000 × 100,000), and a progressive JPEG of more
 * than {@value #MAX_PROGRESSIVE_PIXELS} pixels (its decoder keeps every coefficient, about 3 bytes a
 * pixel) or with more than {@value JpegMarkers#APP2_BYTES} bytes of APP2 segments ({@link JpegMarkers}),
 * a BMP that holds a JPEG or PNG inside it, or whose colour table, colour profile or run-length coded
 * pixels are larger than the JDK's reader should hold in memory ({@link ImageHeaders#bmpRefusal}), a palette
 * PNG with more than {@value ImageHeaders#PNG_PALETTE_CHUNK_BYTES} bytes of other chunks, a GIF with
 * more than {@value ImageHeaders#GIF_EXTENSION_BYTES} bytes of extensions before its image, and
 * an image whose data ends before its header says it does. At most one thumbnail per core is made at
 * a time; the rest wait, up to 30 s, then 503. Of a progressive JPEG only the first
 * {@value #MAX_PROGRESSIVE_PASSES} scans are decoded. A JPEG's thumbnail is turned as its Exif Orientation
 * says ({@link #orient}).
 *
 * <p>Made on request, then kept in memory (the most recently used, up to {@code cacheBytes}, by
 * blob: a blob's bytes never change): a 20 MB photo of 5,200 × 4,000 pixels took 0.23 to 0.41 s of one core
 * and gave 12 KB, so a grid seen again costs nothing, and a restart costs each thumbnail once. A
 * refusal (422) is kept too, for the last {@value #MAX_REFUSALS_KEPT} blobs refused.
 */
public final class Thumbnails {
  /** The longest side of a thumbnail, in pixels. */
  public static final int SIZE = 256;
  /**
   * How thumbnails are made, in their entity tag: a new value whenever the same content comes to give
   * other bytes (2: turned as Exif Orientation says), so that no cache keeps one made the old way
   * under the tag of the new, and nodes of two builds send different tags for their different bytes.
   */
  public static final int RENDITION = 2;
  static final long MAX_PIXELS = 150_000_000L;
  static final int MAX_SIDE = 65_500;
  static final long MAX_PROGRESSIVE_PIXELS = 30_000_000L;
  static final int MAX_PROGRESSIVE_PASSES = 32;
  static final int MAX_REFUSALS_KEPT = 4096;
  private static final Set<String> FORMATS = Set.of("jpeg", "png", "gif", "bmp");

  /** A thumbnail: its media type and its encoded bytes (a few KB). */
  public record Thumbnail(String contentType, byte[] bytes) {}

  private final BlobStore blobs;
  private final Semaphore running;
  private final long cacheBytes;
  private final LinkedHashMap<String, Thumbnail> cache = new LinkedHashMap<>(64, 0.75f, true);
  private long cached;
  /**
   * The refusals (422) of the most recently asked blobs, by blob, with their diagnostics: content that
   * gives no thumbnail gives none next time either, and some are refused only after a second of
   * decoding, which a grid shown again (or a client asking in a loop) would otherwise cost each time.
   */
  private final LinkedHashMap<String, String> refused = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > MAX_REFUSALS_KEPT;
    }
  };

  /**
   * @param concurrency how many thumbnails are made at once
   * @param cacheBytes how many bytes of thumbnails are kept
   */
  public Thumbnails(BlobStore blobs, int concurrency, long cacheBytes) {
    this.blobs = blobs;
    this.running = new Semaphore(Math.max(1, concurrency));
    this.cacheBytes = cacheBytes;
  }

  /**
   * The thumbnail of one Binary version's content.
   *
   * @throws FhirException 422 for content that gives no thumbnail (see the class), 503 when the
   *     server is busy making others
   */
  public Thumbnail make(BinaryContent content) throws IOException {
    // by blob: a blob's bytes never change
    String blob = content.blobKey().value();
    Thumbnail known = cached(blob);
    if (known != null) {
      return known;
    }
    String refusal = refusal(blob);
    if (refusal != null) {
      throw FhirException.unprocessable(refusal);
    }
    Thumbnail made;
    try {
      made = makeNow(content);
    } catch (FhirException e) {
      if (e.status() == 422) {
        keepRefusal(blob, e.getMessage());
      }
      throw e;
    }
    keep(blob, made);
    return made;
  }

  private synchronized Thumbnail cached(String blob) {
    return cache.get(blob);
  }

  private synchronized String refusal(String blob) {
    return refused.get(blob);
  }

  private synchronized void keepRefusal(String blob, String diagnostics) {
    refused.put(blob, diagnostics);
  }

  private synchronized void keep(String blob, Thumbnail thumbnail) {
    if (thumbnail.bytes().length > cacheBytes || cache.containsKey(blob)) {
      return;
    }
    cache.put(blob, thumbnail);
    cached += thumbnail.bytes().length;
    for (Iterator<Thumbnail> oldest = cache.values().iterator(); cached > cacheBytes && oldest.hasNext(); ) {
      cached -= oldest.next().bytes().length;
      oldest.remove();
    }
  }

  private Thumbnail makeNow(BinaryContent content) throws IOException {
    try {
      if (!running.tryAcquire(30, TimeUnit.SECONDS)) {
        throw FhirException.unavailable("the server is busy making other thumbnails; try again", 5, null);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting to make a thumbnail", e);
    }
    try (ImageInputStream in = new BlobImageInput(blobs, content.blobKey(), content.size())) {
      return make(in);
    } catch (java.nio.file.NoSuchFileException e) {
      throw MissingContent.of(content, e);
    } catch (FhirException e) {
      // ImageIO's format probe may read a lost blob as no image: ask the store before saying so
      if (e.status() == 422 && blobs.size(content.blobKey()).isEmpty()) {
        throw MissingContent.of(content, e);
      }
      throw e;
    } finally {
      running.release();
    }
  }

  private static Thumbnail make(ImageInputStream in) throws IOException {
    ImageReader reader = reader(in);
    try {
      String format = reader.getFormatName().toLowerCase(Locale.ROOT);
      boolean jpeg = format.equals("jpeg");
      Optional<String> bmp = format.equals("bmp") ? ImageHeaders.bmpRefusal(in) : Optional.empty();
      if (bmp.isPresent()) {
        throw refused(bmp.get());
      }
      if (format.equals("png") && ImageHeaders.pngPaletteChunksTooLarge(in)) {
        throw refused("the PNG is a palette image with more than " + (ImageHeaders.PNG_PALETTE_CHUNK_BYTES >> 20)
            + " MB or " + ImageHeaders.PNG_PALETTE_CHUNKS + " chunks besides its image data");
      }
      if (format.equals("gif") && ImageHeaders.gifExtensionsTooLarge(in)) {
        throw refused("the GIF has more than " + (ImageHeaders.GIF_EXTENSION_BYTES >> 20)
            + " MB of extension data before its first image");
      }
      Optional<JpegMarkers> markers = Optional.empty();
      if (jpeg) {
        markers = JpegMarkers.read(in);
        if (markers.isEmpty()) {
          throw refused("the JPEG has no frame header before its first scan");
        }
        if (markers.get().app2Bytes() > JpegMarkers.APP2_BYTES) {
          throw refused("the JPEG has more than " + (JpegMarkers.APP2_BYTES >> 20) + " MB of APP2 segments"
              + " (where an ICC profile goes)");
        }
      }
      reader.setInput(in, true, true);
      int width = reader.getWidth(0);
      int height = reader.getHeight(0);
      long pixels = (long) width * height;
      if (width <= 0 || height <= 0 || width > MAX_SIDE || height > MAX_SIDE || pixels > MAX_PIXELS) {
        throw refused("the image is " + width + " × " + height + " pixels, more than a thumbnail is made of (at most "
            + MAX_PIXELS / 1_000_000 + " million pixels, " + MAX_SIDE + " on a side)");
      }
      if (jpeg && pixels > MAX_PROGRESSIVE_PIXELS && markers.get().progressive()) {
        throw refused("the image is a progressive JPEG of " + width + " × " + height + " pixels; thumbnails are made"
            + " of progressive JPEGs up to " + MAX_PROGRESSIVE_PIXELS / 1_000_000 + " million pixels");
      }
      ImageReadParam param = reader.getDefaultReadParam();
      int step = Math.max(1, Math.max(width, height) / (2 * SIZE));
      param.setSourceSubsampling(step, step, 0, 0);
      if (jpeg) {
        // each scan of a progressive JPEG is a pass over the whole image, and a few bytes make one:
        // the first passes give the thumbnail (an encoder writes about 10), the rest are not decoded
        param.setSourceProgressivePasses(0, MAX_PROGRESSIVE_PASSES);
      }
      BufferedImage decoded = reader.read(0, param);
      return encode(orient(shrink(decoded), markers.map(JpegMarkers::orientation).orElse(1)));
    } catch (IIOException | RuntimeException e) {
      if (e instanceof FhirException f) {
        throw f;
      }
      throw refused("the image cannot be decoded (" + e.getMessage() + ")");
    } catch (EOFException e) {
      // a decoder's readFully past the content's last byte: the file is cut short, or its header
      // names more data than there is (BlobImageInput reads the stored content to its recorded size)
      throw refused("the image ends before its data does");
    } finally {
      reader.dispose();
    }
  }

  private static ImageReader reader(ImageInputStream in) throws IOException {
    Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
    while (readers.hasNext()) {
      ImageReader r = readers.next();
      if (FORMATS.contains(r.getFormatName().toLowerCase(Locale.ROOT))) {
        return r;
      }
    }
    throw refused("the content is not a JPEG, PNG, GIF or BMP image");
  }

  /** Halves with bilinear filtering while that stays above {@link #SIZE}, then one last step. */
  private static BufferedImage shrink(BufferedImage image) {
    boolean alpha = image.getColorModel().hasAlpha();
    int w = image.getWidth();
    int h = image.getHeight();
    double scale = Math.min(1.0, (double) SIZE / Math.max(w, h));
    int targetW = Math.max(1, (int) Math.round(w * scale));
    int targetH = Math.max(1, (int) Math.round(h * scale));
    BufferedImage current = image;
    do {
      w = w / 2 >= targetW ? w / 2 : targetW;
      h = h / 2 >= targetH ? h / 2 : targetH;
      BufferedImage next = new BufferedImage(w, h, alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
      Graphics2D g = next.createGraphics();
      if (!alpha) {
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
      }
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.drawImage(current, 0, 0, w, h, null);
      g.dispose();
      current = next;
    } while (w > targetW || h > targetH);
    return current;
  }

  /**
   * The picture turned or mirrored as an Exif Orientation says (CIPA DC-008 4.6.4 A, tag 0x0112):
   * a browser shows the photo so (CSS Images 3 {@code image-orientation}, initially {@code from-image}), and a
   * phone stores an upright photo sideways, with Orientation 6. Each source pixel (x, y) of a w × h
   * picture goes to the position the value names; 5 to 8 swap width and height.
   */
  static BufferedImage orient(BufferedImage image, int orientation) {
    if (orientation < 2 || orientation > 8) {
      return image;
    }
    int w = image.getWidth();
    int h = image.getHeight();
    boolean swap = orientation >= 5;
    BufferedImage out = new BufferedImage(swap ? h : w, swap ? w : h, image.getType());
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = image.getRGB(x, y);
        switch (orientation) {
          case 2 -> out.setRGB(w - 1 - x, y, rgb); // mirrored left to right
          case 3 -> out.setRGB(w - 1 - x, h - 1 - y, rgb); // turned 180°
          case 4 -> out.setRGB(x, h - 1 - y, rgb); // mirrored top to bottom
          case 5 -> out.setRGB(y, x, rgb); // mirrored along the main diagonal
          case 6 -> out.setRGB(h - 1 - y, x, rgb); // turned 90° clockwise
          case 7 -> out.setRGB(h - 1 - y, w - 1 - x, rgb); // mirrored along the other diagonal
          default -> out.setRGB(y, w - 1 - x, rgb); // 8: turned 90° counter-clockwise
        }
      }
    }
    return out;
  }

  private static Thumbnail encode(BufferedImage image) throws IOException {
    boolean alpha = image.getColorModel().hasAlpha();
    ByteArrayOutputStream out = new ByteArrayOutputStream(32 * 1024);
    ImageWriter writer = ImageIO.getImageWritersByFormatName(alpha ? "png" : "jpeg").next();
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(stream);
      ImageWriteParam param = writer.getDefaultWriteParam();
      if (!alpha) {
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.82f);
      }
      writer.write(null, new IIOImage(image, null, null), param);
    } finally {
      writer.dispose();
    }
    return new Thumbnail(alpha ? "image/png" : "image/jpeg", out.toByteArray());
  }

  private static FhirException refused(String why) {
    return FhirException.unprocessable("no thumbnail: " + why);
  }
}
