import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * tus uploads for bench/run-tus. JDK 17 only, no dependencies; run with
 * {@code java bench/TusBench.java MODE ...}. Sends {@code Authorization: Bearer $BENCH_TOKEN}.
 *
 * <p>Both the raw {@code POST} and the tus {@code PATCH}es go through the same minimal HTTP/1.1
 * client: one kept-alive connection, headers written by hand, the body sent from the file with
 * {@code FileChannel.transferTo} (sendfile). The JDK's {@code HttpClient} sent a raw 1 GiB
 * {@code POST} at 211 MB/s where curl sent it at 697 MB/s on the same host, so the ratio measured
 * the client as much as the server; with sendfile the server is the slower side of both flows.
 *
 * <pre>
 * raw     --base URL --file F
 *         POST /fhir/R4/Binary with the file as body; prints: seconds=.. mbps=..
 * upload  --base URL --file F --chunk BYTES [--url-file PATH] [--offset-file PATH]
 *         creates an upload and PATCHes the file in pieces of --chunk bytes, one after another; writes
 *         the upload URL to --url-file once created, and the acknowledged offset to --offset-file after
 *         each PATCH; stops at the first failure (a killed server).
 *         prints: sent=.. offset=.. seconds=.. mbps=.. last_patch_s=.. patches_s=.. (the PATCHes from request
 *         to answer, summed) ok=true|false
 * resume  --base URL --file F --chunk BYTES --url URL
 *         asks HEAD for the offset (retrying while the server starts or answers 409) and sends the
 *         rest, then checks the Binary's hash (SHA-1) against the file's; prints: resumed_at=.. sent=..
 *         seconds=.. head_wait_s=.. first_patch_s=.. last_patch_s=.. ok=true|false hash_ok=true|false
 * </pre>
 */
public final class TusBench {
  private static final String TOKEN = System.getenv().getOrDefault("BENCH_TOKEN", "");

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    Path file = Path.of(opt.get("file"));
    long size = Files.size(file);
    switch (args[0]) {
      case "raw" -> raw(opt.get("base"), file, size);
      case "upload" -> upload(opt.get("base"), file, size, Long.parseLong(opt.get("chunk")), opt.get("url-file"),
          opt.get("offset-file"));
      case "resume" -> resume(opt.get("url"), file, size, Long.parseLong(opt.get("chunk")));
      default -> throw new IllegalArgumentException("usage: TusBench raw|upload|resume --key value ...");
    }
  }

  private static void raw(String base, Path file, long size) throws Exception {
    try (Http http = new Http(base); FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      long t0 = System.nanoTime();
      Response r = http.send("POST", base + "/fhir/R4/Binary", Map.of("Content-Type", "video/mp4"), in, 0, size);
      double s = (System.nanoTime() - t0) / 1e9;
      if (r.status != 201) {
        throw new IllegalStateException("POST answered " + r.status + ": " + r.body);
      }
      System.out.printf("seconds=%.2f mbps=%.0f%n", s, size / 1e6 / s);
    }
  }

  private static void upload(String base, Path file, long size, long chunk, String urlFile, String offsetFile)
      throws Exception {
    try (Http http = new Http(base)) {
      long t0 = System.nanoTime();
      Response created = http.send("POST", base + "/fhir/R4/Binary/$upload", Map.of("Tus-Resumable", "1.0.0",
          "Upload-Length", Long.toString(size), "Upload-Metadata", "filetype dmlkZW8vbXA0"), null, 0, 0);
      if (created.status != 201) {
        throw new IllegalStateException("creation answered " + created.status + ": " + created.body);
      }
      String url = URI.create(base + "/").resolve(created.header("Location")).toString();
      if (urlFile != null) {
        Files.writeString(Path.of(urlFile), url);
      }
      Result r = send(http, url, file, 0, size, chunk, false, offsetFile == null ? null : Path.of(offsetFile));
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.printf("sent=%d offset=%d seconds=%.2f mbps=%.0f last_patch_s=%.2f patches_s=%.2f ok=%s%n", r.sent,
          r.offset, s, r.sent / 1e6 / s, r.lastPatch, r.patches, r.offset == size);
    }
  }

  private static void resume(String url, Path file, long size, long chunk) throws Exception {
    long t0 = System.nanoTime();
    long offset = -1;
    for (int attempt = 0; attempt < 600 && offset < 0; attempt++) {
      try (Http http = new Http(url)) {
        Response head = http.send("HEAD", url, Map.of("Tus-Resumable", "1.0.0"), null, 0, 0);
        if (head.status == 200) {
          offset = Long.parseLong(head.header("Upload-Offset"));
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
    try (Http http = new Http(url)) {
      long t1 = System.nanoTime();
      Result r = send(http, url, file, offset, size, chunk, true, null);
      double s = (System.nanoTime() - t1) / 1e9;
      System.out.printf("resumed_at=%d sent=%d seconds=%.2f head_wait_s=%.2f first_patch_s=%.2f last_patch_s=%.2f "
          + "ok=%s hash_ok=%s%n", offset, r.sent, s, headWait, r.firstPatch, r.lastPatch, r.offset == size,
          hashMatches(http, url, r, file));
    }
  }

  /** {@code patches}: seconds from sending each PATCH to its answer, summed (the rest is the client's own time). */
  private record Result(long sent, long offset, double lastPatch, String binary, double patches, double firstPatch) {}

  /**
   * Whether the Binary {@code r} names (its Content-Location) has the file's SHA-1 as the
   * {@code hash} an Attachment naming it is given: the server's digest of bytes that came in
   * pieces, maybe to two processes, checked.
   */
  private static boolean hashMatches(Http http, String url, Result r, Path file) throws Exception {
    if (r.binary == null) {
      return false;
    }
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-1");
    try (java.io.InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 20];
      int n;
      while ((n = in.read(buf)) > 0) {
        sha.update(buf, 0, n);
      }
    }
    String binary = r.binary.replaceFirst("^.*?(Binary/[^/]+).*$", "$1");
    Path json = Files.createTempFile("tusbench-media", ".json");
    try {
      Files.writeString(json, "{\"resourceType\":\"Media\",\"status\":\"completed\",\"content\":{\"url\":\""
          + binary + "\"}}");
      try (FileChannel body = FileChannel.open(json)) {
        Response media = http.send("POST", URI.create(url).resolve("/fhir/R4/Media").toString(),
            Map.of("Content-Type", "application/fhir+json"), body, 0, body.size());
        String expected = "\"hash\":\"" + java.util.Base64.getEncoder().encodeToString(sha.digest()) + "\"";
        return media.status == 201 && media.body.contains(expected);
      }
    } finally {
      Files.deleteIfExists(json);
    }
  }

  /**
   * PATCHes [from, size) in pieces, one after another; a piece answered 409 is retried after a
   * pause, up to 20 times. A failed connection ends the upload (the server was killed), unless
   * {@code recover}: then the client reconnects, asks HEAD for the offset and goes on from there,
   * as a resuming client does (up to 20 times). {@code offsetFile}, when not null, gets the
   * acknowledged offset after each piece (written to a temporary name and renamed, so a reader
   * never sees half a number).
   */
  private static Result send(Http http, String url, Path file, long from, long size, long chunk, boolean recover,
      Path offsetFile) throws Exception {
    long offset = from;
    long sent = 0;
    double last = 0;
    double first = -1;
    double patches = 0;
    String binary = null;
    int conflicts = 0;
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      while (offset < size) {
        long n = Math.min(chunk, size - offset);
        long t = System.nanoTime();
        Response r;
        try {
          r = http.send("PATCH", url, Map.of("Tus-Resumable", "1.0.0", "Content-Type",
              "application/offset+octet-stream", "Upload-Offset", Long.toString(offset)), in, offset, n);
        } catch (IOException e) {
          if (!recover || ++conflicts > 20) {
            return new Result(sent, offset, last, null, patches, first);
          }
          Thread.sleep(500);
          try {
            Response head = http.send("HEAD", url, Map.of("Tus-Resumable", "1.0.0"), null, 0, 0);
            if (head.status == 200) {
              offset = Long.parseLong(head.header("Upload-Offset"));
            }
          } catch (IOException again) {
            // the next round tries the piece, and then HEAD, once more
          }
          continue;
        }
        last = (System.nanoTime() - t) / 1e9;
        patches += last;
        if (first < 0) {
          first = last;
        }
        if (r.status == 409 && ++conflicts <= 20) {
          Thread.sleep(500);
          continue;
        }
        if (r.status != 204) {
          System.err.println("PATCH at " + offset + " answered " + r.status + ": " + r.body);
          return new Result(sent, offset, last, null, patches, first);
        }
        sent += n;
        offset = Long.parseLong(r.header("Upload-Offset"));
        binary = r.header("Content-Location");
        if (offsetFile != null) {
          Path tmp = offsetFile.resolveSibling(offsetFile.getFileName() + ".tmp");
          Files.writeString(tmp, Long.toString(offset));
          Files.move(tmp, offsetFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
      }
    }
    return new Result(sent, offset, last, binary, patches, first);
  }

  /** A response: status, headers by lower-case name, body as text. */
  private record Response(int status, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /**
   * A minimal HTTP/1.1 client on one kept-alive connection (reopened after an answer with
   * {@code Connection: close}; a connection closed without one fails the next request): enough
   * for this benchmark's requests and the server's answers (Content-Length or chunked bodies),
   * nothing more. It sends a whole body before it reads the answer.
   */
  private static final class Http implements AutoCloseable {
    private final InetSocketAddress address;
    private final String authority;
    private SocketChannel channel;
    private final ByteBuffer in = ByteBuffer.allocate(64 << 10);

    Http(String url) {
      URI u = URI.create(url);
      int port = u.getPort() < 0 ? 80 : u.getPort();
      this.address = new InetSocketAddress(u.getHost(), port);
      this.authority = u.getHost() + ":" + port;
    }

    Response send(String method, String url, Map<String, String> headers, FileChannel body, long from, long length)
        throws IOException {
      if (channel == null) {
        channel = SocketChannel.open(address);
        channel.socket().setTcpNoDelay(true);
        in.clear().flip();
      }
      URI u = URI.create(url);
      StringBuilder head = new StringBuilder(method).append(' ').append(u.getRawPath())
          .append(u.getRawQuery() == null ? "" : "?" + u.getRawQuery()).append(" HTTP/1.1\r\nHost: ")
          .append(authority).append("\r\n");
      if (!TOKEN.isEmpty()) {
        head.append("Authorization: Bearer ").append(TOKEN).append("\r\n");
      }
      for (Map.Entry<String, String> h : headers.entrySet()) {
        head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
      }
      if (!method.equals("HEAD") && !method.equals("GET")) {
        head.append("Content-Length: ").append(length).append("\r\n");
      }
      head.append("\r\n");
      ByteBuffer h = ByteBuffer.wrap(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      try {
        while (h.hasRemaining()) {
          channel.write(h);
        }
        for (long sent = 0; sent < length; ) {
          sent += body.transferTo(from + sent, length - sent, channel);
        }
        return read(method.equals("HEAD"));
      } catch (IOException e) {
        close();
        throw e;
      }
    }

    private Response read(boolean head) throws IOException {
      String statusLine = line();
      int status = Integer.parseInt(statusLine.split(" ")[1]);
      Map<String, String> headers = new LinkedHashMap<>();
      for (String l = line(); !l.isEmpty(); l = line()) {
        int colon = l.indexOf(':');
        headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
      }
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      if (!head && status != 204 && status != 304) {
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
          for (int n = Integer.parseInt(line().split(";")[0].trim(), 16); n > 0;
              n = Integer.parseInt(line().split(";")[0].trim(), 16)) {
            bytes(body, n);
            line();
          }
          while (!line().isEmpty()) {
            // trailers
          }
        } else if (headers.containsKey("content-length")) {
          bytes(body, Long.parseLong(headers.get("content-length")));
        }
      }
      if ("close".equalsIgnoreCase(headers.get("connection"))) {
        close();
      }
      return new Response(status, headers, body.toString(StandardCharsets.UTF_8));
    }

    private int next() throws IOException {
      if (!in.hasRemaining()) {
        in.clear();
        if (channel.read(in) < 0) {
          throw new IOException("the server closed the connection");
        }
        in.flip();
      }
      return in.get() & 0xff;
    }

    private String line() throws IOException {
      StringBuilder b = new StringBuilder();
      for (int c = next(); c != '\n'; c = next()) {
        if (c != '\r') {
          b.append((char) c);
        }
      }
      return b.toString();
    }

    private void bytes(ByteArrayOutputStream to, long n) throws IOException {
      for (long i = 0; i < n; i++) {
        to.write(next());
      }
    }

    @Override
    public void close() throws IOException {
      if (channel != null) {
        channel.close();
        channel = null;
      }
    }
  }
}
