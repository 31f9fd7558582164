import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load generator for bench/run. JDK 17 only, no dependencies; run with {@code java bench/Bench.java MODE ...}.
 *
 * <pre>
 * load    --base URL --mode create|read --threads N --warmup S --duration S --binary ID
 *         prints: rps=.. p50_ms=.. p99_ms=.. ok=.. errors=..
 * range   --url URL --size BYTES --threads N --warmup S --duration S
 *         prints: rps=.. p50_ms=.. p99_ms=.. ok=.. errors=..       (ok = 206 with 1024 bytes)
 * upload  --url URL --method POST|PUT --size BYTES --threads N --warmup S --duration S
 *         [--bearer] [--s3-key ID:SECRET]
 *         prints: rps=.. mbps=.. p50_ms=.. p99_ms=.. ok=.. errors=..  (ok = 200, 201 or 204)
 * startup --root DIR --data-dir DIR --runs N [--keep]
 *         prints: startup_ms=median all=a,b,c
 * </pre>
 *
 * The long mixed load of bench/run-soak is {@code Soak} (bench/Soak.java), and the disk's own
 * figures of bench/run are {@code DiskFloor} (bench/DiskFloor.java), both built on this class.
 * Every loop is bounded by a fixed duration or count. Loopback targets only. An OAuth2 bearer
 * token, when the server has one, comes from the BENCH_TOKEN environment variable.
 */
public final class Bench {
  private static final String TOKEN = System.getenv().getOrDefault("BENCH_TOKEN", "");

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      throw new IllegalArgumentException("usage: Bench load|range|upload|startup --key value ...");
    }
    Map<String, String> opt = options(args, 1);
    switch (args[0]) {
      case "load" -> load(opt);
      case "range" -> range(opt);
      case "upload" -> upload(opt);
      case "startup" -> startup(opt);
      default -> throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  /** {@code --key value} pairs from {@code args[from]} on; a {@code --flag} alone is "true". */
  static Map<String, String> options(String[] args, int from) {
    Map<String, String> opt = new HashMap<>();
    for (int i = from; i < args.length; i++) {
      String k = args[i];
      if (!k.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + k);
      }
      if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        opt.put(k.substring(2), args[++i]);
      } else {
        opt.put(k.substring(2), "true");
      }
    }
    return opt;
  }

  static void requireLoopback(String url) {
    String host = URI.create(url).getHost();
    if (!(host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]") || host.equals("::1"))) {
      throw new IllegalArgumentException("bench targets loopback only, got " + host);
    }
  }

  // ---------------------------------------------------------------- a lean HTTP/1.1 client

  /**
   * One keep-alive HTTP/1.1 connection per load thread, written and parsed by hand, like wrk or ab.
   * The JDK's HttpClient hands every exchange between three threads and spent about a core of this
   * 2-core machine on a 1-client test, time the server under test then did not get.
   */
  static final class Conn implements AutoCloseable {
    private final String host;
    private final int port;
    private final String authority;
    private final boolean bearer;
    private java.net.Socket socket;
    private java.io.BufferedInputStream in;
    private java.io.OutputStream out;
    private byte[] body = new byte[64 * 1024];
    int status;
    int bodyLength;

    Conn(URI base, boolean bearer) {
      this.bearer = bearer && !TOKEN.isEmpty();
      this.host = base.getHost();
      this.port = base.getPort() < 0 ? 80 : base.getPort();
      this.authority = host + ":" + port;
    }

    /** Sends one request and reads the whole response; body and status stay on this object. */
    int exchange(String method, String pathAndQuery, String extraHeaders, byte[] requestBody) throws IOException {
      StringBuilder h = new StringBuilder(256).append(method).append(' ').append(pathAndQuery)
          .append(" HTTP/1.1\r\nHost: ").append(authority).append("\r\n");
      if (bearer) {
        h.append("Authorization: Bearer ").append(TOKEN).append("\r\n");
      }
      h.append(extraHeaders);
      if (requestBody != null) {
        h.append("Content-Length: ").append(requestBody.length).append("\r\n");
      }
      h.append("\r\n");
      byte[] head = h.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
      for (int attempt = 0; ; attempt++) {
        boolean reused = socket != null;
        try {
          if (socket == null) {
            open();
          }
          if (requestBody == null) {
            out.write(head);
          } else if (requestBody.length <= 64 * 1024) {
            byte[] all = Arrays.copyOf(head, head.length + requestBody.length);
            System.arraycopy(requestBody, 0, all, head.length, requestBody.length);
            out.write(all);
          } else {
            out.write(head);
            out.write(requestBody);
          }
          out.flush();
          readResponse();
          return status;
        } catch (IOException e) {
          close();
          if (!reused || attempt > 0) { // a kept-alive connection the server closed: retry once on a new one
            throw e;
          }
        }
      }
    }

    private void open() throws IOException {
      socket = new java.net.Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new java.net.InetSocketAddress(host, port), 5000);
      socket.setSoTimeout(30_000);
      in = new java.io.BufferedInputStream(socket.getInputStream(), 64 * 1024);
      out = socket.getOutputStream();
    }

    private void readResponse() throws IOException {
      String statusLine = line();
      if (!statusLine.startsWith("HTTP/1.1 ") || statusLine.length() < 12) {
        throw new IOException("bad status line: " + statusLine);
      }
      status = Integer.parseInt(statusLine.substring(9, 12));
      long length = -1;
      boolean chunked = false;
      boolean close = false;
      for (String l = line(); !l.isEmpty(); l = line()) {
        int colon = l.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String name = l.substring(0, colon).trim();
        String value = l.substring(colon + 1).trim();
        if (name.equalsIgnoreCase("Content-Length")) {
          length = Long.parseLong(value);
        } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
          chunked = value.equalsIgnoreCase("chunked");
        } else if (name.equalsIgnoreCase("Connection")) {
          close = value.equalsIgnoreCase("close");
        }
      }
      bodyLength = 0;
      if (status == 204 || status == 304) {
        // RFC 9110 §6.4.1: no content, whatever the headers say
      } else if (chunked) {
        for (long n = Long.parseLong(line().split(";")[0].trim(), 16); n > 0;
            n = Long.parseLong(line().split(";")[0].trim(), 16)) {
          readBody(n);
          line();
        }
        for (String l = line(); !l.isEmpty(); l = line()) {
          // trailers: none expected, skipped
        }
      } else if (length >= 0) {
        readBody(length);
      } else {
        throw new IOException("response without Content-Length or chunked body");
      }
      if (close) {
        close();
      }
    }

    private void readBody(long n) throws IOException {
      if (bodyLength + n > Integer.MAX_VALUE - 8) {
        throw new IOException("response body too large for the bench client");
      }
      int need = (int) (bodyLength + n);
      if (need > body.length) {
        body = Arrays.copyOf(body, Math.max(need, body.length * 2));
      }
      int off = bodyLength;
      while (off < need) {
        int r = in.read(body, off, need - off);
        if (r < 0) {
          throw new java.io.EOFException("connection closed mid-body");
        }
        off += r;
      }
      bodyLength = need;
    }

    private String line() throws IOException {
      StringBuilder b = new StringBuilder(64);
      for (int c = in.read(); c != '\n'; c = in.read()) {
        if (c < 0) {
          throw new java.io.EOFException("connection closed");
        }
        if (c != '\r') {
          b.append((char) c);
        }
      }
      return b.toString();
    }

    String bodyText() {
      return new String(body, 0, bodyLength, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // closing a loopback socket: nothing to recover
        }
      }
      socket = null;
    }
  }

  // ---------------------------------------------------------------- small resources

  static String patientJson(int n, String binaryId) {
    return "{\"resourceType\":\"Patient\",\"active\":true,"
        + "\"name\":[{\"family\":\"Bench\",\"given\":[\"P" + n + "\"]}],"
        + "\"birthDate\":\"1980-01-01\",\"gender\":\"unknown\","
        + "\"photo\":[{\"contentType\":\"application/octet-stream\",\"url\":\"Binary/" + binaryId + "\"}]}";
  }

  static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*\"([A-Za-z0-9\\-.]{1,64})\"");
  static final String FHIR_JSON = "Accept: application/fhir+json\r\n";
  static final String CREATE_HEADERS =
      "Content-Type: application/fhir+json\r\n" + FHIR_JSON + "Prefer: return=representation\r\n";

  private static void load(Map<String, String> o) throws Exception {
    String base = o.get("base").replaceAll("/+$", "");
    requireLoopback(base);
    String mode = o.getOrDefault("mode", "create");
    int threads = Integer.parseInt(o.getOrDefault("threads", "1"));
    double warmup = Double.parseDouble(o.getOrDefault("warmup", "3"));
    double duration = Double.parseDouble(o.getOrDefault("duration", "10"));
    String binaryId = o.get("binary");
    URI baseUri = URI.create(base);
    String patients = (baseUri.getRawPath() == null ? "" : baseUri.getRawPath()) + "/fhir/R4/Patient";
    ThreadLocal<Conn> conns = ThreadLocal.withInitial(() -> new Conn(baseUri, true));

    // Read mode: a fixed pool of patients to read back, created up front (bounded: 200).
    List<String> ids = new ArrayList<>();
    if (mode.equals("read")) {
      try (Conn c = new Conn(baseUri, true)) {
        for (int i = 0; i < 200; i++) {
          byte[] json = patientJson(i, binaryId).getBytes(java.nio.charset.StandardCharsets.UTF_8);
          if (c.exchange("POST", patients, CREATE_HEADERS, json) != 201) {
            throw new IllegalStateException("seeding Patient failed: " + c.status + " " + c.bodyText());
          }
          Matcher m = ID.matcher(c.bodyText());
          if (!m.find()) {
            throw new IllegalStateException("no id in " + c.bodyText());
          }
          ids.add(m.group(1));
        }
      }
    }
    String[] idArr = ids.toArray(new String[0]);
    Op op = mode.equals("read")
        ? () -> conns.get().exchange("GET", patients + "/" + idArr[ThreadLocalRandom.current().nextInt(idArr.length)],
            FHIR_JSON, null) == 200
        : () -> conns.get().exchange("POST", patients, CREATE_HEADERS,
            patientJson(ThreadLocalRandom.current().nextInt(1_000_000), binaryId)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)) == 201;
    // Fail fast on a broken setup rather than measuring errors.
    if (!op.run()) {
      throw new IllegalStateException(mode + " request failed on the first try: " + conns.get().status
          + " " + conns.get().bodyText());
    }
    report(drive(op, threads, warmup, duration));
  }

  // ---------------------------------------------------------------- range requests

  private static void range(Map<String, String> o) throws Exception {
    String url = o.get("url");
    requireLoopback(url);
    long size = Long.parseLong(o.get("size"));
    int threads = Integer.parseInt(o.getOrDefault("threads", "32"));
    double warmup = Double.parseDouble(o.getOrDefault("warmup", "3"));
    double duration = Double.parseDouble(o.getOrDefault("duration", "10"));
    URI uri = URI.create(url);
    String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    // No bearer token: signed URLs and nginx need none.
    ThreadLocal<Conn> conns = ThreadLocal.withInitial(() -> new Conn(uri, false));
    Op op = () -> {
      long off = ThreadLocalRandom.current().nextLong(size - 1024);
      Conn c = conns.get();
      return c.exchange("GET", target, "Range: bytes=" + off + "-" + (off + 1023) + "\r\n", null) == 206
          && c.bodyLength == 1024;
    };
    if (!op.run()) {
      throw new IllegalStateException("range request did not answer 206 with 1024 bytes");
    }
    report(drive(op, threads, warmup, duration));
  }

  // ---------------------------------------------------------------- many uploads

  /**
   * Uploads of one random body of {@code --size} bytes, one after another on each of N kept-alive
   * connections. POST sends to the URL as is (fhirbox's Binary endpoint, with the bearer token
   * when {@code --bearer}); PUT names a new object per upload under the URL's path, cycling
   * through 64 names per connection so that the disk use of a long run stays bounded (nginx
   * writes a temp file and renames it over the old one, as for a new name). With
   * {@code --s3-key} each PUT is signed with AWS SigV4 and an unsigned payload, as
   * {@code curl --aws-sigv4} does.
   */
  private static void upload(Map<String, String> o) throws Exception {
    String url = o.get("url");
    requireLoopback(url);
    String method = o.getOrDefault("method", "POST");
    int size = Integer.parseInt(o.get("size"));
    int threads = Integer.parseInt(o.getOrDefault("threads", "1"));
    double warmup = Double.parseDouble(o.getOrDefault("warmup", "3"));
    double duration = Double.parseDouble(o.getOrDefault("duration", "10"));
    boolean bearer = Boolean.parseBoolean(o.getOrDefault("bearer", "false"));
    String s3Key = o.get("s3-key");
    URI uri = URI.create(url);
    String path = uri.getRawPath();
    byte[] body = new byte[size];
    new java.util.Random(size).nextBytes(body);
    ThreadLocal<Conn> conns = ThreadLocal.withInitial(() -> new Conn(uri, bearer));
    java.util.concurrent.atomic.AtomicInteger ids = new java.util.concurrent.atomic.AtomicInteger();
    ThreadLocal<int[]> counters = ThreadLocal.withInitial(() -> new int[] {ids.getAndIncrement(), 0});
    Op op = () -> {
      Conn c = conns.get();
      String target = path;
      String headers = "Content-Type: application/octet-stream\r\n";
      if (method.equals("PUT")) {
        int[] k = counters.get();
        target = path + "/c" + k[0] + "-" + (k[1]++ % 64) + ".bin";
        if (s3Key != null) {
          headers += SigV4.headers(s3Key, "PUT", uri.getHost() + ":" + uri.getPort(), target);
        }
      }
      int status = c.exchange(method, target, headers, body);
      return status == 200 || status == 201 || status == 204;
    };
    if (!op.run()) {
      throw new IllegalStateException("upload did not succeed: " + conns.get().status);
    }
    reportTransfers(drive(op, threads, warmup, duration), size);
  }

  /** The line of a run that moved {@code size} bytes per operation: rate, MB/s, latencies. */
  static void reportTransfers(Result r, int size) {
    System.out.printf(java.util.Locale.ROOT, "rps=%.1f mbps=%.1f p50_ms=%.2f p99_ms=%.2f ok=%d errors=%d%n",
        r.ok() / r.seconds(), r.ok() * (double) size / 1e6 / r.seconds(), pct(r.latenciesNanos(), 0.50),
        pct(r.latenciesNanos(), 0.99), r.ok(), r.errors());
  }

  /** AWS Signature Version 4 headers for a request with an unsigned payload (S3 only). */
  static final class SigV4 {
    private static final java.time.format.DateTimeFormatter STAMP =
        java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC);

    static String headers(String idAndSecret, String method, String host, String path) throws Exception {
      String id = idAndSecret.substring(0, idAndSecret.indexOf(':'));
      String secret = idAndSecret.substring(idAndSecret.indexOf(':') + 1);
      String amzDate = STAMP.format(java.time.Instant.now());
      String day = amzDate.substring(0, 8);
      String scope = day + "/us-east-1/s3/aws4_request";
      String canonical = method + "\n" + path + "\n\n"
          + "host:" + host + "\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:" + amzDate + "\n\n"
          + "host;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD";
      String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex(sha256(canonical));
      byte[] key = hmac(("AWS4" + secret).getBytes(java.nio.charset.StandardCharsets.UTF_8), day);
      key = hmac(hmac(hmac(key, "us-east-1"), "s3"), "aws4_request");
      return "x-amz-content-sha256: UNSIGNED-PAYLOAD\r\nx-amz-date: " + amzDate + "\r\n"
          + "Authorization: AWS4-HMAC-SHA256 Credential=" + id + "/" + scope
          + ", SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + hex(hmac(key, toSign)) + "\r\n";
    }

    private static byte[] sha256(String s) throws Exception {
      return java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static byte[] hmac(byte[] key, String data) throws Exception {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static String hex(byte[] b) {
      return java.util.HexFormat.of().formatHex(b);
    }
  }

  // ---------------------------------------------------------------- driver

  @FunctionalInterface
  interface Op {
    boolean run() throws Exception;
  }

  record Result(long ok, long errors, double seconds, long[] latenciesNanos) {}

  /** N threads, each doing sequential requests: warm-up (not recorded), then the measured window. */
  static Result drive(Op op, int threads, double warmupS, double durationS) throws Exception {
    long warmNanos = (long) (warmupS * 1e9);
    long runNanos = (long) (durationS * 1e9);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch ready = new CountDownLatch(threads);
    long start = System.nanoTime() + 50_000_000L; // all threads start together
    long measureFrom = start + warmNanos;
    long measureTo = measureFrom + runNanos;
    AtomicLong ok = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    ConcurrentLinkedQueue<long[]> lats = new ConcurrentLinkedQueue<>();
    for (int t = 0; t < threads; t++) {
      pool.submit(() -> {
        long[] mine = new long[1 << 16];
        int n = 0;
        ready.countDown();
        while (System.nanoTime() < start) {
          Thread.onSpinWait();
        }
        while (true) {
          long t0 = System.nanoTime();
          if (t0 >= measureTo) {
            break;
          }
          boolean good;
          try {
            good = op.run();
          } catch (Exception e) {
            good = false;
          }
          long t1 = System.nanoTime();
          if (t0 >= measureFrom && t1 <= measureTo) {
            if (good) {
              ok.incrementAndGet();
              if (n == mine.length) {
                mine = Arrays.copyOf(mine, n * 2);
              }
              mine[n++] = t1 - t0;
            } else {
              errors.incrementAndGet();
            }
          }
        }
        lats.add(Arrays.copyOf(mine, n));
        return null;
      });
    }
    pool.shutdown();
    if (!pool.awaitTermination((long) (warmupS + durationS + 60), TimeUnit.SECONDS)) {
      pool.shutdownNow();
      throw new IllegalStateException("load threads did not finish");
    }
    long[] all = lats.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    return new Result(ok.get(), errors.get(), durationS, all);
  }

  static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
    return sorted[i] / 1e6;
  }

  private static void report(Result r) {
    System.out.printf(java.util.Locale.ROOT, "rps=%.0f p50_ms=%.2f p99_ms=%.2f ok=%d errors=%d%n",
        r.ok() / r.seconds(), pct(r.latenciesNanos(), 0.50), pct(r.latenciesNanos(), 0.99), r.ok(), r.errors());
  }

  // ---------------------------------------------------------------- startup

  /** Starts {@code ROOT/fhirbox serve} N times on DATA_DIR, timing process start to the first 200 from /healthz. */
  private static void startup(Map<String, String> o) throws Exception {
    Path root = Path.of(o.get("root")).toAbsolutePath();
    Path dataDir = Path.of(o.get("data-dir")).toAbsolutePath();
    int runs = Integer.parseInt(o.getOrDefault("runs", "3"));
    boolean fresh = Boolean.parseBoolean(o.getOrDefault("fresh", "false"));
    Path log = Path.of(o.getOrDefault("log", "/dev/null"));
    double[] ms = new double[runs];
    for (int i = 0; i < runs; i++) {
      Path dir = fresh ? dataDir.resolve("fresh-" + i) : dataDir;
      int port = freePort();
      ProcessBuilder pb = new ProcessBuilder(root.resolve("fhirbox").toString(), "serve",
          "--port", Integer.toString(port), "--data-dir", dir.toString())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      long t0 = System.nanoTime();
      Process p = pb.start();
      try {
        ms[i] = waitHealthy(p, port, t0);
      } finally {
        p.destroy(); // SIGTERM: the server drains and exits 0
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
    double[] sorted = ms.clone();
    Arrays.sort(sorted);
    StringBuilder all = new StringBuilder();
    for (double m : ms) {
      all.append(all.length() == 0 ? "" : ",").append(Math.round(m));
    }
    System.out.printf(java.util.Locale.ROOT, "startup_ms=%.0f all=%s%n", sorted[runs / 2], all);
  }

  private static double waitHealthy(Process p, int port, long t0) throws Exception {
    URL url = new URL("http://127.0.0.1:" + port + "/healthz");
    long deadline = t0 + TimeUnit.SECONDS.toNanos(120); // bounded: includes a first build
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("server exited with " + p.exitValue() + " before /healthz answered");
      }
      try {
        HttpURLConnection c = (HttpURLConnection) url.openConnection();
        c.setConnectTimeout(200);
        c.setReadTimeout(2000);
        int code = c.getResponseCode();
        c.getInputStream().readAllBytes();
        c.disconnect();
        if (code == 200) {
          return (System.nanoTime() - t0) / 1e6;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("/healthz did not answer 200 within 120 s");
  }

  private static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  // ---------------------------------------------------------------- soak
}
