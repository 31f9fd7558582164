import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * Presigned uploads for bench/run-direct: fhirbox's {@code $upload-url} route to S3 next to the
 * same bytes sent straight to the same S3 server, with one HTTP client for both (HttpURLConnection,
 * fixed-length streaming from the file in 1 MiB reads, so the client holds no file in memory and
 * costs the same on both sides). Classpath: the AWS SDK and Jackson (the test classpath of
 * fhirbox-server, as bench/run-scaleout resolves it).
 *
 * <pre>
 * direct  --endpoint S3 --bucket B --id ID --secret S --file F [--sha256 HEX] [--parallel N --part MIB]
 *         a SigV4 presigned PUT of the file (with --sha256: x-amz-checksum-sha256 signed in, as
 *         fhirbox signs it); with --part: CreateMultipartUpload, presigned UploadPart URLs PUT by
 *         N threads, CompleteMultipartUpload. The object is deleted afterwards (untimed).
 *         prints: seconds=..
 * fhirbox --base URL --file F --sha256 HEX [--multipart true] [--parallel N]
 *         POST $upload-url (bearer $BENCH_TOKEN), the PUT (or the part PUTs, N at a time) to the
 *         URLs it answers, then POST complete until 201; then, untimed, waits until an Attachment
 *         naming the Binary gets its hash. prints: seconds=.. upload_url_s=.. put_s=.. complete_s=..
 *         hash_s=.. (from the 201 to the hash) parts=.. binary=..
 * </pre>
 */
public final class DirectBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int BUFFER = 1 << 20;

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    Path file = Path.of(opt.get("file"));
    int parallel = Integer.parseInt(opt.getOrDefault("parallel", "4"));
    switch (args[0]) {
      case "direct" -> direct(opt, file, parallel);
      case "fhirbox" -> fhirbox(opt, file, parallel);
      default -> throw new IllegalArgumentException("usage: DirectBench direct|fhirbox --key value ...");
    }
  }

  private static void direct(Map<String, String> opt, Path file, int parallel) throws Exception {
    URI endpoint = URI.create(opt.get("endpoint"));
    String bucket = opt.get("bucket");
    String key = "direct-" + System.nanoTime();
    long size = Files.size(file);
    StaticCredentialsProvider creds = StaticCredentialsProvider.create(
        AwsBasicCredentials.create(opt.get("id"), opt.get("secret")));
    try (S3Presigner presigner = S3Presigner.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
            .credentialsProvider(creds)
            .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build()).build();
        S3Client s3 = S3Client.builder().endpointOverride(endpoint).region(Region.US_EAST_1).forcePathStyle(true)
            .credentialsProvider(creds).httpClientBuilder(UrlConnectionHttpClient.builder()).build()) {
      try {
        s3.createBucket(b -> b.bucket(bucket));
      } catch (RuntimeException alreadyThere) {
        // the bucket of an earlier round
      }
      long t0 = System.nanoTime();
      if (opt.containsKey("part")) {
        long partSize = Long.parseLong(opt.get("part")) << 20;
        String uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(key)
            .contentType("application/octet-stream")).uploadId();
        List<Part> parts = new ArrayList<>();
        for (long off = 0; off < size; off += partSize) {
          int n = parts.size() + 1;
          long len = Math.min(partSize, size - off);
          UploadPartRequest r = UploadPartRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
              .partNumber(n).contentLength(len).build();
          String url = presigner.presignUploadPart(p -> p.signatureDuration(Duration.ofHours(1)).uploadPartRequest(r))
              .url().toString();
          parts.add(new Part(n, off, len, url));
        }
        List<String> etags = putParts(file, parts, parallel);
        List<CompletedPart> done = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
          done.add(CompletedPart.builder().partNumber(i + 1).eTag(etags.get(i)).build());
        }
        s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId)
            .multipartUpload(m -> m.parts(done)));
      } else {
        PutObjectRequest.Builder put = PutObjectRequest.builder().bucket(bucket).key(key)
            .contentType("application/octet-stream").contentLength(size);
        if (opt.containsKey("sha256")) {
          put.checksumSHA256(Base64.getEncoder().encodeToString(HexFormat.of().parseHex(opt.get("sha256"))));
        }
        var presigned = presigner.presignPutObject(p -> p.signatureDuration(Duration.ofHours(1))
            .putObjectRequest(put.build()));
        Map<String, String> headers = new LinkedHashMap<>();
        presigned.signedHeaders().forEach((name, values) -> {
          if (!name.equalsIgnoreCase("host") && !name.equalsIgnoreCase("content-length")) {
            headers.put(name, String.join(",", values));
          }
        });
        put(presigned.url().toString(), file, 0, size, headers);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (s3.headObject(b -> b.bucket(bucket).key(key)).contentLength() != size) {
        throw new IllegalStateException("the object does not have " + size + " bytes");
      }
      s3.deleteObject(b -> b.bucket(bucket).key(key));
      System.out.printf("seconds=%.3f%n", seconds);
    }
  }

  private static void fhirbox(Map<String, String> opt, Path file, int parallel) throws Exception {
    String base = opt.get("base");
    long size = Files.size(file);
    boolean multipart = Boolean.parseBoolean(opt.getOrDefault("multipart", "false"));
    String body = "{\"resourceType\":\"Parameters\",\"parameter\":["
        + "{\"name\":\"contentType\",\"valueString\":\"application/octet-stream\"},"
        + "{\"name\":\"size\",\"" + (size <= Integer.MAX_VALUE ? "valueInteger" : "valueDecimal") + "\":" + size + "},"
        + "{\"name\":\"sha256\",\"valueString\":\"" + opt.get("sha256") + "\"},"
        + "{\"name\":\"multipart\",\"valueBoolean\":" + multipart + "}]}";
    // Untimed: loads the client's HTTP and JSON classes, as building the presigner does for "direct".
    HttpURLConnection health = (HttpURLConnection) URI.create(base + "/healthz").toURL().openConnection();
    expect(health, 200);
    JSON.readTree("{\"warm\":[1]}");
    long t0 = System.nanoTime();
    HttpURLConnection c = (HttpURLConnection) URI.create(base + "/fhir/R4/Binary/$upload-url").toURL().openConnection();
    c.setRequestMethod("POST");
    c.setDoOutput(true);
    c.setRequestProperty("Content-Type", "application/fhir+json");
    c.setRequestProperty("Authorization", "Bearer " + System.getenv().getOrDefault("BENCH_TOKEN", ""));
    try (OutputStream out = c.getOutputStream()) {
      out.write(body.getBytes(StandardCharsets.UTF_8));
    }
    JsonNode answer = JSON.readTree(expect(c, 200, 201));
    long t1 = System.nanoTime();
    String completeUrl = null;
    String url = null;
    Map<String, String> headers = new LinkedHashMap<>();
    List<Part> parts = new ArrayList<>();
    for (JsonNode p : answer.path("parameter")) {
      switch (p.path("name").asText()) {
        case "url" -> url = p.has("valueUrl") ? p.path("valueUrl").asText() : p.path("valueUri").asText();
        case "headers" -> p.path("part").forEach(h -> headers.put(h.path("name").asText(), h.path("valueString").asText()));
        case "complete" -> {
          for (JsonNode h : p.path("part")) {
            if (h.path("name").asText().equals("url")) {
              completeUrl = h.path("valueUrl").asText();
            }
          }
        }
        case "part" -> {
          Map<String, JsonNode> f = new HashMap<>();
          p.path("part").forEach(x -> f.put(x.path("name").asText(), x));
          parts.add(new Part(f.get("number").path("valueInteger").asInt(), number(f.get("offset")),
              number(f.get("size")), f.get("url").path("valueUrl").asText()));
        }
        default -> { }
      }
    }
    if (completeUrl == null) {
      throw new IllegalStateException("no completion step in the answer (is FHIRBOX_SIGNED_URL_MODE=s3?): " + answer);
    }
    if (parts.isEmpty()) {
      put(url, file, 0, size, headers);
    } else {
      putParts(file, parts, parallel);
    }
    long t2 = System.nanoTime();
    HttpURLConnection done = (HttpURLConnection) URI.create(completeUrl).toURL().openConnection();
    done.setRequestMethod("POST");
    done.setDoOutput(true);
    done.setFixedLengthStreamingMode(0);
    done.getOutputStream().close();
    expect(done, 201);
    String location = done.getHeaderField("Location");
    long t3 = System.nanoTime();
    String binary = location == null ? "-" : location.replaceAll(".*/Binary/([^/]+).*", "$1");
    double hashS = hashKnown(base, binary, t3);
    System.out.printf("seconds=%.3f upload_url_s=%.3f put_s=%.3f complete_s=%.3f hash_s=%.3f parts=%d binary=%s%n",
        (t3 - t0) / 1e9, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, hashS, Math.max(1, parts.size()), binary);
  }

  /**
   * Untimed: writes an Attachment naming the Binary every 100 ms until fhirbox fills its
   * {@code hash} (the SHA-1, learnt after the completion by a background read of the object), so
   * that read does not overlap the next row. Returns the seconds from {@code since} to then.
   */
  private static double hashKnown(String base, String binary, long since) throws Exception {
    String patient = "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"Binary/" + binary + "\"}]}";
    long deadline = since + 600_000_000_000L;
    while (System.nanoTime() < deadline) {
      HttpURLConnection c = (HttpURLConnection) URI.create(base + "/fhir/R4/Patient").toURL().openConnection();
      c.setRequestMethod("POST");
      c.setDoOutput(true);
      c.setRequestProperty("Content-Type", "application/fhir+json");
      c.setRequestProperty("Prefer", "return=representation");
      c.setRequestProperty("Authorization", "Bearer " + System.getenv().getOrDefault("BENCH_TOKEN", ""));
      try (OutputStream out = c.getOutputStream()) {
        out.write(patient.getBytes(StandardCharsets.UTF_8));
      }
      if (JSON.readTree(expect(c, 201)).path("photo").path(0).has("hash")) {
        return (System.nanoTime() - since) / 1e9;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("Binary/" + binary + " has no hash 10 minutes after its completion");
  }

  private static long number(JsonNode valued) {
    JsonNode v = valued.has("valueInteger") ? valued.path("valueInteger") : valued.path("valueDecimal");
    return v.isTextual() ? Long.parseLong(v.asText()) : v.asLong();
  }

  private record Part(int number, long offset, long size, String url) {}

  /** PUTs the parts, {@code parallel} at a time; returns their ETags in part order. */
  private static List<String> putParts(Path file, List<Part> parts, int parallel) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    try {
      List<Future<String>> etags = new ArrayList<>();
      for (Part p : parts) {
        etags.add(pool.submit(() -> put(p.url(), file, p.offset(), p.size(), Map.of())));
      }
      List<String> out = new ArrayList<>();
      for (Future<String> f : etags) {
        out.add(f.get());
      }
      return out;
    } finally {
      pool.shutdown();
    }
  }

  /** PUTs bytes {@code [offset, offset + length)} of the file; returns the answer's ETag. */
  private static String put(String url, Path file, long offset, long length, Map<String, String> headers)
      throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
    c.setRequestMethod("PUT");
    c.setDoOutput(true);
    c.setFixedLengthStreamingMode(length);
    headers.forEach(c::setRequestProperty);
    ByteBuffer buf = ByteBuffer.allocate(BUFFER);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); OutputStream out = c.getOutputStream()) {
      long pos = offset;
      long end = offset + length;
      while (pos < end) {
        buf.clear().limit((int) Math.min(BUFFER, end - pos));
        int n = ch.read(buf, pos);
        out.write(buf.array(), 0, n);
        pos += n;
      }
    }
    expect(c, 200, 201);
    return c.getHeaderField("ETag");
  }

  private static byte[] expect(HttpURLConnection c, int... ok) throws IOException {
    int code = c.getResponseCode();
    for (int want : ok) {
      if (code == want) {
        try (InputStream in = c.getInputStream()) {
          return in.readAllBytes();
        }
      }
    }
    InputStream err = c.getErrorStream();
    String text = err == null ? "" : new String(err.readAllBytes(), StandardCharsets.UTF_8);
    throw new IOException(c.getRequestMethod() + " " + c.getURL().getPath() + " answered " + code + ": "
        + text.substring(0, Math.min(400, text.length())));
  }

  private DirectBench() {}
}
