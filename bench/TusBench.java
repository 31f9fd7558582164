import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * tus uploads for bench/run-tus. JDK 17 only, no dependencies; run with
 * {@code java bench/TusBench.java MODE ...}. Sends {@code Authorization: Bearer $BENCH_TOKEN}.
 *
 * <pre>
 * raw     --base URL --file F
 *         POST /fhir/R4/Binary with the file as body; prints: seconds=.. mbps=..
 * upload  --base URL --file F --chunk BYTES [--url-file PATH]
 *         creates an upload and PATCHes the file in pieces of --chunk bytes, one after another (the
 *         next piece read from the file while the current one is sent, as a streaming client does); writes
 *         the upload URL to --url-file once created; stops at the first failure (a killed server).
 *         prints: sent=.. offset=.. seconds=.. mbps=.. last_patch_s=.. patches_s=.. (the PATCHes from request
 *         to answer, summed) ok=true|false
 * resume  --base URL --file F --chunk BYTES --url URL
 *         asks HEAD for the offset (retrying while the server starts or answers 409) and sends the
 *         rest, then checks the Binary's ETag against the file's SHA-256; prints: resumed_at=.. sent=..
 *         seconds=.. head_wait_s=.. last_patch_s=.. ok=true|false etag_ok=true|false
 * </pre>
 */
public final class TusBench {
  private static final String TOKEN = System.getenv().getOrDefault("BENCH_TOKEN", "");
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    Path file = Path.of(opt.get("file"));
    long size = Files.size(file);
    switch (args[0]) {
      case "raw" -> raw(opt.get("base"), file, size);
      case "upload" -> upload(opt.get("base"), file, size, Long.parseLong(opt.get("chunk")), opt.get("url-file"));
      case "resume" -> resume(opt.get("url"), file, size, Long.parseLong(opt.get("chunk")));
      default -> throw new IllegalArgumentException("usage: TusBench raw|upload|resume --key value ...");
    }
  }

  private static HttpRequest.Builder request(String url) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10));
    if (!TOKEN.isEmpty()) {
      b.header("Authorization", "Bearer " + TOKEN);
    }
    return b;
  }

  private static void raw(String base, Path file, long size) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = HTTP.send(request(base + "/fhir/R4/Binary").header("Content-Type", "video/mp4")
        .POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
    double s = (System.nanoTime() - t0) / 1e9;
    if (r.statusCode() != 201) {
      throw new IllegalStateException("POST answered " + r.statusCode() + ": " + r.body());
    }
    System.out.printf("seconds=%.2f mbps=%.0f%n", s, size / 1e6 / s);
  }

  private static void upload(String base, Path file, long size, long chunk, String urlFile) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> created = HTTP.send(request(base + "/fhir/R4/Binary/$upload").header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", Long.toString(size)).header("Upload-Metadata", "filetype dmlkZW8vbXA0")
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    if (created.statusCode() != 201) {
      throw new IllegalStateException("creation answered " + created.statusCode() + ": " + created.body());
    }
    String url = created.headers().firstValue("Location").orElseThrow();
    if (urlFile != null) {
      Files.writeString(Path.of(urlFile), url);
    }
    Result r = send(url, file, 0, size, chunk);
    double s = (System.nanoTime() - t0) / 1e9;
    System.out.printf("sent=%d offset=%d seconds=%.2f mbps=%.0f last_patch_s=%.2f patches_s=%.2f ok=%s%n", r.sent,
        r.offset, s, r.sent / 1e6 / s, r.lastPatch, r.patches, r.offset == size);
  }

  private static void resume(String url, Path file, long size, long chunk) throws Exception {
    long t0 = System.nanoTime();
    long offset = -1;
    for (int attempt = 0; attempt < 600 && offset < 0; attempt++) {
      try {
        HttpResponse<Void> head = HTTP.send(request(url).header("Tus-Resumable", "1.0.0")
            .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        if (head.statusCode() == 200) {
          offset = Long.parseLong(head.headers().firstValue("Upload-Offset").orElseThrow());
          break;
        }
      } catch (IOException e) {
        // the server is still starting
      }
      Thread.sleep(100);
    }
    double headWait = (System.nanoTime() - t0) / 1e9;
    if (offset < 0) {
      throw new IllegalStateException("the upload did not answer HEAD within 60 s");
    }
    long t1 = System.nanoTime();
    Result r = send(url, file, offset, size, chunk);
    double s = (System.nanoTime() - t1) / 1e9;
    System.out.printf("resumed_at=%d sent=%d seconds=%.2f head_wait_s=%.2f last_patch_s=%.2f ok=%s etag_ok=%s%n",
        offset, r.sent, s, headWait, r.lastPatch, r.offset == size, etagMatches(r, file));
  }

  /** {@code patches}: seconds from sending each PATCH to its answer, summed (the rest is the client's own time). */
  private record Result(long sent, long offset, double lastPatch, String binary, double patches) {}

  /**
   * Whether the Binary {@code r} names (its Content-Location) has the file's SHA-256 as its ETag:
   * the server's digests of bytes that came in pieces, maybe to two processes, checked.
   */
  private static boolean etagMatches(Result r, Path file) throws Exception {
    if (r.binary == null) {
      return false;
    }
    HttpResponse<Void> head = HTTP.send(request(r.binary).header("Accept", "*/*")
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
    try (java.io.InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 20];
      int n;
      while ((n = in.read(buf)) > 0) {
        sha.update(buf, 0, n);
      }
    }
    String expected = "\"" + java.util.HexFormat.of().formatHex(sha.digest()) + "\"";
    return head.statusCode() == 200 && expected.equals(head.headers().firstValue("ETag").orElse(""));
  }

  /**
   * PATCHes [from, size) in pieces; a piece answered 409 is retried after a pause, up to 20 times.
   * The next piece is read from the file while the current one is on the wire (two buffers,
   * reused), as a client that streams from disk would: the time between an answer and the next
   * request is the client's, not the server's.
   */
  private static Result send(String url, Path file, long from, long size, long chunk) throws Exception {
    long offset = from;
    long sent = 0;
    double last = 0;
    double patches = 0;
    String binary = null;
    int conflicts = 0;
    int cap = (int) Math.min(chunk, Math.max(1, size - from));
    byte[][] buffers = {new byte[cap], new byte[cap]};
    int current = 0;
    java.util.concurrent.ExecutorService reader = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "piece-reader");
      t.setDaemon(true);
      return t;
    });
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      java.util.concurrent.Future<Integer> ready = readPiece(reader, in, buffers[current], offset, size, chunk);
      while (offset < size) {
        long at = offset;
        int n = ready.get();
        byte[] piece = buffers[current];
        long nextAt = at + n;
        java.util.concurrent.Future<Integer> following = nextAt < size
            ? readPiece(reader, in, buffers[1 - current], nextAt, size, chunk) : null;
        long t = System.nanoTime();
        HttpResponse<String> r;
        try {
          r = HTTP.send(request(url).header("Tus-Resumable", "1.0.0")
              .header("Content-Type", "application/offset+octet-stream").header("Upload-Offset", Long.toString(at))
              .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(piece, 0, n)).build(),
              HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
          return new Result(sent, offset, last, null, patches);
        }
        last = (System.nanoTime() - t) / 1e9;
        patches += last;
        if (r.statusCode() == 409 && ++conflicts <= 20) {
          Thread.sleep(500);
          if (following != null) {
            following.get();
          }
          ready = readPiece(reader, in, buffers[current], at, size, chunk);
          continue;
        }
        if (r.statusCode() != 204) {
          System.err.println("PATCH at " + at + " answered " + r.statusCode() + ": " + r.body());
          return new Result(sent, offset, last, null, patches);
        }
        sent += n;
        offset = Long.parseLong(r.headers().firstValue("Upload-Offset").orElseThrow());
        binary = r.headers().firstValue("Content-Location").orElse(null);
        if (offset != nextAt && offset < size) {
          if (following != null) {
            following.get();
          }
          following = readPiece(reader, in, buffers[1 - current], offset, size, chunk);
        }
        ready = following;
        current = 1 - current;
      }
    } finally {
      reader.shutdownNow();
    }
    return new Result(sent, offset, last, binary, patches);
  }

  /** Reads the piece at {@code at} into {@code buffer} on the reader thread; its length. */
  private static java.util.concurrent.Future<Integer> readPiece(java.util.concurrent.ExecutorService reader,
      RandomAccessFile in, byte[] buffer, long at, long size, long chunk) {
    int n = (int) Math.min(chunk, size - at);
    return reader.submit(() -> {
      synchronized (in) {
        in.seek(at);
        in.readFully(buffer, 0, n);
      }
      return n;
    });
  }
}
