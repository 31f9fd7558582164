package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestImages;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Thumbnails over HTTP: issued by {@code $presigned-url?thumbnail=true}, served by the signed
 * {@code /storage/{id}/{version}/thumbnail} URL without credentials, refused in words for what is
 * no image or too large an image.
 */
class ThumbnailTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient ANONYMOUS = HttpClient.newHttpClient();
  private static TestServer server;
  private static TestClient http;
  private static Path files;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    http = server.client();
    files = Files.createTempDirectory("fhirbox-thumbnails");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    TestServer.deleteTree(files);
  }

  @Test
  void aPhotoGetsAThumbnailOfAtMost256PixelsThatNeedsNoCredentials() throws Exception {
    Path photo = TestImages.noisyJpeg(files.resolve("photo.jpg"), 2400, 1600, 0.9f);
    String id = TestClient.createdId(http.send(http.request("fhir/R4/Binary").header("Content-Type", "image/jpeg")
        .POST(HttpRequest.BodyPublishers.ofFile(photo))));
    String url = thumbnailUrl(id);
    assertThat(url).startsWith(server.baseUrl() + "storage/" + id + "/1/thumbnail?Expires=");

    HttpResponse<byte[]> r = anonymous(url, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).contains("image/jpeg");
    assertThat(r.headers().firstValue("Cache-Control").orElseThrow()).startsWith("private, max-age=");
    assertThat(r.body().length).as("bytes of the thumbnail of a %d-byte photo", Files.size(photo))
        .isLessThan(40_000);
    BufferedImage thumb = ImageIO.read(new ByteArrayInputStream(r.body()));
    assertThat(thumb.getWidth()).isEqualTo(256);
    assertThat(thumb.getHeight()).isEqualTo(171);

    String etag = r.headers().firstValue("ETag").orElseThrow();
    HttpResponse<byte[]> again = anonymous(url, etag);
    assertThat(again.statusCode()).isEqualTo(304);
    assertThat(again.body()).isEmpty();
    // RFC 9110 §8.6: a 304's Content-Length, if any, is that of the 200 it stands for, never 0
    again.headers().firstValue("Content-Length").ifPresent(length -> assertThat(length)
        .isEqualTo(Integer.toString(r.body().length)));
    // If-None-Match is a list: its tag on a second field line counts as on the first (RFC 9110 §5.3)
    HttpResponse<byte[]> secondLine = ANONYMOUS.send(HttpRequest.newBuilder(URI.create(url))
        .header("If-None-Match", "\"other\"").header("If-None-Match", etag).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(secondLine.statusCode()).isEqualTo(304);
    assertThat(r.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
    assertThat(again.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
  }

  @Test
  void theSignatureCoversTheVariant() throws Exception {
    String id = upload("image/png", TestImages.small("png", 300, 200, false));
    String thumbnail = thumbnailUrl(id);
    String content = valueUrl(http.get("fhir/R4/Binary/" + id + "/$presigned-url").body());
    assertThat(anonymous(content, null).statusCode()).isEqualTo(200);
    assertThat(anonymous(thumbnail, null).statusCode()).isEqualTo(200);

    HttpResponse<byte[]> contentAsThumbnail = anonymous(content.replace("/1?", "/1/thumbnail?"), null);
    assertThat(contentAsThumbnail.statusCode()).isEqualTo(403);
    assertThat(new String(contentAsThumbnail.body(), StandardCharsets.UTF_8)).contains("OperationOutcome")
        .contains("signature does not match");
    assertThat(anonymous(thumbnail.replace("/1/thumbnail?", "/1?"), null).statusCode()).isEqualTo(403);
    assertThat(anonymous(thumbnail.replace("/thumbnail?", "/preview?"), null).statusCode()).isEqualTo(404);

    // a storage URL holds its signature: no answer of the route hands it on in a Referer, and none
    // that a browser opens (an error comes as XML to a navigation's Accept) runs in the app's origin
    String contentTag = anonymous(content, null).headers().firstValue("ETag").orElseThrow();
    for (HttpResponse<byte[]> r : List.of(anonymous(content, null), anonymous(content, contentTag),
        anonymous(thumbnail, null), contentAsThumbnail, anonymous(content.replace("Expires=", "Expires=1"), null),
        anonymous(thumbnail.replace("/thumbnail?", "/preview?"), null))) {
      assertThat(r.headers().firstValue("Referrer-Policy")).as(r.uri() + " " + r.statusCode()).hasValue("no-referrer");
      assertThat(r.headers().firstValue("Content-Security-Policy")).as(r.uri() + " " + r.statusCode())
          .hasValue("sandbox");
    }
    assertThat(anonymous(content, contentTag).statusCode()).isEqualTo(304);
  }

  @Test
  void ifNoneMatchIsParsedAsAListOfEntityTagsComparedWeaklyAsForTheContent() throws Exception {
    String id = upload("image/png", TestImages.small("png", 300, 200, false));
    String thumbnail = thumbnailUrl(id);
    String content = valueUrl(http.get("fhir/R4/Binary/" + id + "/$presigned-url").body());
    for (String url : List.of(thumbnail, content)) {
      String etag = anonymous(url, null).headers().firstValue("ETag").orElseThrow();
      String strong = etag.startsWith("W/") ? etag.substring(2) : etag;
      // RFC 9110 §13.1.2: weak comparison, in a list of any spacing
      assertThat(anonymous(url, "W/" + strong).statusCode()).as(url).isEqualTo(304);
      assertThat(anonymous(url, " \"other\" ,  " + etag + " ").statusCode()).as(url).isEqualTo(304);
      // not a list of entity tags (RFC 9110 §8.8.3), though the tag is in its text: it names nothing
      for (String malformed : List.of(strong + "x", strong + ";v=1", "x" + strong)) {
        HttpResponse<byte[]> r = anonymous(url, malformed);
        assertThat(r.statusCode()).as(url + " If-None-Match: " + malformed).isEqualTo(200);
        assertThat(r.body()).isNotEmpty();
      }
    }
  }

  @Test
  void transparencyGivesAPngAndASmallImageKeepsItsSize() throws Exception {
    HttpResponse<byte[]> png = anonymous(thumbnailUrl(upload("image/png", TestImages.small("png", 600, 300, true))),
        null);
    assertThat(png.headers().firstValue("Content-Type")).contains("image/png");
    BufferedImage transparent = ImageIO.read(new ByteArrayInputStream(png.body()));
    assertThat(transparent.getWidth()).isEqualTo(256);
    assertThat(transparent.getHeight()).isEqualTo(128);
    assertThat(transparent.getColorModel().hasAlpha()).isTrue();

    HttpResponse<byte[]> gif = anonymous(thumbnailUrl(upload("image/gif", TestImages.small("gif", 64, 48, false))),
        null);
    BufferedImage small = ImageIO.read(new ByteArrayInputStream(gif.body()));
    assertThat(small.getWidth()).isEqualTo(64);
    assertThat(small.getHeight()).isEqualTo(48);
  }

  @Test
  void aDecompressionBombIsRefusedInWords() throws Exception {
    byte[] bomb = TestImages.pngClaiming(100_000, 100_000);
    assertThat(bomb.length).isLessThan(200);
    HttpResponse<byte[]> r = anonymous(thumbnailUrl(upload("image/png", bomb)), null);
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).contains("fhir+json");
    assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("OperationOutcome")
        .contains("no thumbnail: the image is 100000 × 100000 pixels");
  }

  @Test
  void contentThatIsNoImageGetsNoThumbnail() throws Exception {
    HttpResponse<byte[]> text = anonymous(thumbnailUrl(upload("text/plain",
        "just words".getBytes(StandardCharsets.UTF_8))), null);
    assertThat(text.statusCode()).isEqualTo(422);
    assertThat(new String(text.body(), StandardCharsets.UTF_8)).contains("not a JPEG, PNG, GIF or BMP image");

    byte[] broken = TestImages.small("jpeg", 400, 300, false);
    for (int i = 400; i < broken.length - 2; i++) {
      broken[i] = (byte) 0xff;
    }
    HttpResponse<byte[]> jpeg = anonymous(thumbnailUrl(upload("image/jpeg", broken)), null);
    assertThat(jpeg.statusCode()).isEqualTo(422);
    assertThat(new String(jpeg.body(), StandardCharsets.UTF_8)).contains("no thumbnail: the image cannot be decoded");
  }

  /**
   * RFC 9110 §13.2.1: a request's preconditions count only where its answer without them is a 2xx.
   * {@code If-None-Match: *} names any current representation, and content that gives no thumbnail
   * has none: 422, not a 304 with an entity tag of a thumbnail that was never made. And an
   * {@code If-Match} is evaluated (§13.1.1): 412 unless it names the thumbnail.
   */
  @Test
  void preconditionsHoldOnlyForAThumbnailThatExists() throws Exception {
    String text = thumbnailUrl(upload("text/plain", "no image".getBytes(StandardCharsets.UTF_8)));
    HttpResponse<byte[]> any = anonymous(text, "*");
    assertThat(any.statusCode()).isEqualTo(422);
    assertThat(any.headers().firstValue("ETag")).isEmpty();
    assertThat(ifMatch(text, "\"other\"").statusCode()).isEqualTo(422);

    String image = thumbnailUrl(upload("image/png", TestImages.small("png", 300, 200, false)));
    HttpResponse<byte[]> made = anonymous(image, null);
    String etag = made.headers().firstValue("ETag").orElseThrow();
    assertThat(anonymous(image, "*").statusCode()).isEqualTo(304);
    HttpResponse<byte[]> failed = ifMatch(image, "\"other\"");
    assertThat(failed.statusCode()).isEqualTo(412);
    assertThat(new String(failed.body(), StandardCharsets.UTF_8)).contains("OperationOutcome");
    for (String value : List.of(etag, "*", "\"other\", " + etag)) {
      HttpResponse<byte[]> matched = ifMatch(image, value);
      assertThat(matched.statusCode()).as(value).isEqualTo(200);
      assertThat(matched.body()).isEqualTo(made.body());
    }
    // If-Match compares strongly (RFC 9110 §13.1.1)
    assertThat(ifMatch(image, "W/" + etag).statusCode()).isEqualTo(412);
  }

  private static HttpResponse<byte[]> ifMatch(String url, String value) throws Exception {
    return ANONYMOUS.send(HttpRequest.newBuilder(URI.create(url)).header("If-Match", value).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void aBmpThatWrapsAPngIsRefusedBeforeItsDeclaredSizeIsAllocated() throws Exception {
    // BI_PNG: the JDK's BMP reader allocates the header's image size (here 2 GB of a 100-byte file)
    // before it reads the PNG inside, which it then decodes by the PNG's own dimensions
    byte[] png = TestImages.small("png", 16, 16, false);
    for (long declared : List.of(0x7fff_fff0L, (long) png.length)) {
      HttpResponse<byte[]> r = anonymous(thumbnailUrl(upload("image/bmp",
          TestImages.bmpWrappingPng(16, 16, png, declared))), null);
      assertThat(r.statusCode()).as("declared %d", declared).isEqualTo(422);
      assertThat(new String(r.body(), StandardCharsets.UTF_8))
          .contains("no thumbnail: the BMP holds a JPEG or PNG image inside it");
    }
    assertThat(anonymous(thumbnailUrl(upload("image/bmp", TestImages.small("bmp", 64, 48, false))), null)
        .statusCode()).isEqualTo(200);
  }

  @Test
  void aBmpWhoseHeaderNamesLargePartsIsRefusedBeforeTheyAreRead() throws Exception {
    // the JDK's BMP reader reads all before the pixels as a colour table, and an embedded colour
    // profile and run-length coded pixels, whole into memory: 300 MB before the pixels ran a
    // 256 MB heap out
    assertThat(anonymous(thumbnailUrl(upload("image/bmp", TestImages.bmpV5(1000, 0, 0, 48))), null).statusCode())
        .isEqualTo(200);
    Map<String, byte[]> refused = Map.of(
        "the BMP's pixels start more than 16 MB into it", TestImages.bmpV5(17 << 20, 0, 0, 48),
        "the BMP's colour profile is larger than 16 MB", TestImages.bmpV5(1000, 17 << 20, 0, 48),
        "the BMP has more than 64 MB of run-length coded pixels", TestImages.bmpV5(0, 0, 1, 65L << 20));
    for (Map.Entry<String, byte[]> e : refused.entrySet()) {
      HttpResponse<byte[]> r = anonymous(thumbnailUrl(upload("image/bmp", e.getValue())), null);
      assertThat(r.statusCode()).as(e.getKey()).isEqualTo(422);
      assertThat(new String(r.body(), StandardCharsets.UTF_8)).contains("no thumbnail: " + e.getKey());
    }
  }

  @Test
  void anImageCutShortIsRefusedInWords() throws Exception {
    for (String format : List.of("bmp", "png", "gif", "jpeg")) {
      byte[] whole = TestImages.small(format, 300, 200, false);
      HttpResponse<byte[]> r = anonymous(thumbnailUrl(upload("image/" + format,
          Arrays.copyOf(whole, whole.length / 2))), null);
      assertThat(r.statusCode()).as(format).isIn(200, 422);
      if (r.statusCode() == 422) {
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).as(format).contains("no thumbnail: the image");
      }
    }
  }

  @Test
  void aJpegOfOver30MillionPixelsWithALongExifSegmentGetsItsThumbnail() throws Exception {
    // over the size whose frame header is checked for progressive coding; the Exif segment (a
    // camera's holds a preview picture) runs past the first 16 KB of the file
    byte[] jpeg = TestImages.withExif(TestImages.greyJpeg(6000, 5020), 1, 40_000);
    HttpResponse<byte[]> r = anonymous(thumbnailUrl(upload("image/jpeg", jpeg)), null);
    assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    BufferedImage thumb = ImageIO.read(new ByteArrayInputStream(r.body()));
    assertThat(thumb.getWidth()).isEqualTo(256);
    assertThat(thumb.getHeight()).isEqualTo(214);
  }

  @Test
  void aJpegWithMoreApp2SegmentsThanAnIccProfileTakesIsRefused() throws Exception {
    // the decoder keeps every APP2 segment (where an ICC profile goes) in native memory, those after
    // the frame header and between the scans too: 6,000 of them took a 393 MB file's worth
    byte[] jpeg = TestImages.small("jpeg", 64, 48, false);
    HttpResponse<byte[]> plain = anonymous(thumbnailUrl(upload("image/jpeg",
        TestImages.withSegmentsAfterFrame(jpeg, 0xe2, 10))), null);
    assertThat(plain.statusCode()).isEqualTo(200);
    HttpResponse<byte[]> r = anonymous(thumbnailUrl(upload("image/jpeg",
        TestImages.withSegmentsAfterFrame(jpeg, 0xe2, 280))), null);
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(new String(r.body(), StandardCharsets.UTF_8))
        .contains("no thumbnail: the JPEG has more than 17 MB of APP2 segments");
    // other segments the decoder passes over, however many
    assertThat(anonymous(thumbnailUrl(upload("image/jpeg", TestImages.withSegmentsAfterFrame(jpeg, 0xef, 280))),
        null).statusCode()).isEqualTo(200);
  }

  @Test
  void theThumbnailIsTurnedAsTheExifOrientationSays() throws Exception {
    // browsers show a photo turned as its Exif Orientation says (CSS Images 3 image-orientation:
    // from-image); a phone's upright photo is stored sideways with Orientation 6
    byte[] photo = TestImages.redLeftBlueRight(400, 200);
    // orientation → width, height, where the red half ends up
    Map<Integer, String> expected = Map.of(1, "256x128 left", 2, "256x128 right", 3, "256x128 right",
        4, "256x128 left", 5, "128x256 top", 6, "128x256 top", 7, "128x256 bottom", 8, "128x256 bottom");
    for (Map.Entry<Integer, String> e : expected.entrySet()) {
      HttpResponse<byte[]> r = anonymous(thumbnailUrl(upload("image/jpeg",
          TestImages.withExif(photo, e.getKey(), 0))), null);
      assertThat(r.statusCode()).isEqualTo(200);
      // nothing of the photo's Exif (a camera's holds where and when it was taken) is in the thumbnail
      assertThat(new String(r.body(), StandardCharsets.ISO_8859_1)).doesNotContain("Exif");
      BufferedImage t = ImageIO.read(new ByteArrayInputStream(r.body()));
      boolean wide = t.getWidth() > t.getHeight();
      boolean redFirst = red(wide ? t.getRGB(10, t.getHeight() / 2) : t.getRGB(t.getWidth() / 2, 10));
      String where = wide ? (redFirst ? "left" : "right") : (redFirst ? "top" : "bottom");
      assertThat(t.getWidth() + "x" + t.getHeight() + " " + where).as("Orientation %d", e.getKey())
          .isEqualTo(e.getValue());
    }
  }

  private static boolean red(int rgb) {
    return ((rgb >> 16) & 0xff) > 200 && (rgb & 0xff) < 60;
  }

  @Test
  void aPalettePngWithLargeChunksBesidesItsImageIsRefused() throws Exception {
    // the JDK's PNG reader keeps every other chunk of a palette image in memory: a 300 MB tEXt
    // chunk ran a 256 MB heap out
    HttpResponse<byte[]> plain = anonymous(thumbnailUrl(upload("image/png", TestImages.palettePngWithText(1000))),
        null);
    assertThat(plain.statusCode()).isEqualTo(200);
    HttpResponse<byte[]> r = anonymous(thumbnailUrl(upload("image/png",
        TestImages.palettePngWithText(17 << 20))), null);
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(new String(r.body(), StandardCharsets.UTF_8))
        .contains("no thumbnail: the PNG is a palette image with more than 16 MB or 4096 chunks besides its image data");
  }

  @Test
  void aGifWithMoreThanAMegabyteOfExtensionsBeforeItsImageIsRefused() throws Exception {
    // the JDK 17 GIF reader joins an extension's sub-blocks in time that grows with the square of
    // its size: a 4 MB comment took 30 s of a core
    HttpResponse<byte[]> plain = anonymous(thumbnailUrl(upload("image/gif", TestImages.gifWithComment(1000))), null);
    assertThat(plain.statusCode()).isEqualTo(200);
    assertThat(ImageIO.read(new ByteArrayInputStream(plain.body())).getWidth()).isEqualTo(64);
    HttpResponse<byte[]> r = anonymous(thumbnailUrl(upload("image/gif", TestImages.gifWithComment(2 << 20))), null);
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(new String(r.body(), StandardCharsets.UTF_8))
        .contains("no thumbnail: the GIF has more than 1 MB of extension data before its first image");
  }

  @Test
  void aProgressiveJpegOfThousandsOfScansIsMadeFromItsFirstOnes() throws Exception {
    // each scan costs the decoder a pass over the whole image: 1,000 scans in 184 KB of a
    // 29-million-pixel JPEG took 32 s of a core; 3,000 of 4 million pixels took 15 s
    byte[] jpeg = TestImages.progressiveJpegWithScans(2000, 2000, 3000);
    assertThat(jpeg.length).isLessThan(400_000);
    String url = thumbnailUrl(upload("image/jpeg", jpeg));
    long start = System.nanoTime();
    HttpResponse<byte[]> r = anonymous(url, null);
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(ImageIO.read(new ByteArrayInputStream(r.body())).getWidth()).isEqualTo(256);
    assertThat(millis).as("milliseconds to make the thumbnail").isLessThan(5_000);
  }

  @Test
  void aThumbnailUrlIsOnlyIssuedAsItself() {
    String id = upload("image/png", new byte[] {1});
    HttpResponse<String> r = http.get("fhir/R4/Binary/" + id + "/$presigned-url?thumbnail=true&download=a.png");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("thumbnail=true takes neither download nor expiresIn");
  }

  private static String upload(String type, byte[] content) {
    return TestClient.createdId(http.postBytes("fhir/R4/Binary", type, content));
  }

  private static String thumbnailUrl(String id) throws IOException {
    HttpResponse<String> r = http.get("fhir/R4/Binary/" + id + "/$presigned-url?thumbnail=true");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return valueUrl(r.body());
  }

  private static String valueUrl(String parameters) throws IOException {
    return JSON.readTree(parameters).get("parameter").get(0).get("valueUrl").asText();
  }

  private static HttpResponse<byte[]> anonymous(String url, String ifNoneMatch) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
    if (ifNoneMatch != null) {
      b.header("If-None-Match", ifNoneMatch);
    }
    return ANONYMOUS.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }
}
