import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A long mixed load on one server: each thread picks, at random, a create with a photo (a
 * Binary of --photo random bytes, then a Patient whose photo names it: 20%), a read of a
 * Patient created before (40%), a name search with _count=10 (20%: a prefix that matches a few
 * Patients, one in five a name nobody has) or a 1 KiB Range read of a photo through its signed
 * URL (20%). Operations are counted per kind; a create is one operation of two requests.
 */
final class Soak {
  private static final String[] KINDS = {"create", "read", "search", "range"};
  private static final Pattern SIGNED = Pattern.compile("\"url\"\\s*:\\s*\"(http[^\"]+/storage/[^\"]+)\"");

  public static void main(String[] args) throws Exception {
    run(Bench.options(args, 0));
  }

  static void run(Map<String, String> o) throws Exception {
    String base = o.get("base").replaceAll("/+$", "");
    Bench.requireLoopback(base);
    int threads = Integer.parseInt(o.getOrDefault("threads", "32"));
    double warmup = Double.parseDouble(o.getOrDefault("warmup", "60"));
    double duration = Double.parseDouble(o.getOrDefault("duration", "600"));
    double reportEvery = Double.parseDouble(o.getOrDefault("report", "30"));
    int photoBytes = Integer.parseInt(o.getOrDefault("photo", "16384"));
    long pid = Long.parseLong(o.get("pid"));
    // fsync latency of the file system the server writes to, sampled beside the load: a closed-loop
    // mix slows every kind of request when the disk's flushes slow down, so it is reported with them
    Path probeDir = Path.of(o.getOrDefault("probe-dir", System.getProperty("java.io.tmpdir")));
    URI baseUri = URI.create(base);
    String fhir = (baseUri.getRawPath() == null ? "" : baseUri.getRawPath()) + "/fhir/R4";
    // the Patients created so far (a ring: reads pick among the newest 65,536)
    java.util.concurrent.atomic.AtomicReferenceArray<String> created =
        new java.util.concurrent.atomic.AtomicReferenceArray<>(1 << 16);
    AtomicLong createdCount = new AtomicLong();
    AtomicLong names = new AtomicLong();
    java.util.concurrent.atomic.AtomicReference<String> signedUrl = new java.util.concurrent.atomic.AtomicReference<>();
    // per interval: operations and latencies per kind, errors
    ConcurrentLinkedQueue<long[]> samples = new ConcurrentLinkedQueue<>(); // {kind, nanos, ok, end, status}
    ConcurrentLinkedQueue<long[]> fsyncs = new ConcurrentLinkedQueue<>(); // {nanos, end}
    long start = System.nanoTime();
    long measureFrom = start + (long) (warmup * 1e9);
    long end = measureFrom + (long) (duration * 1e9);
    Thread probe = new Thread(() -> {
      Path f = probeDir.resolve(".soak-fsync-probe");
      byte[] page = new byte[4096];
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f,
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
        while (System.nanoTime() < end) {
          long t0 = System.nanoTime();
          ch.write(java.nio.ByteBuffer.wrap(page), 0);
          ch.force(false);
          long t1 = System.nanoTime();
          fsyncs.add(new long[] {t1 - t0, t1});
          Thread.sleep(200);
        }
      } catch (IOException | InterruptedException e) {
        System.err.println("soak: fsync probe stopped: " + e);
      } finally {
        try {
          Files.deleteIfExists(f);
        } catch (IOException ignored) {
          // a probe file left behind in a temporary data folder is harmless
        }
      }
    }, "fsync-probe");
    probe.setDaemon(true);
    probe.start();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    for (int t = 0; t < threads; t++) {
      pool.submit(() -> {
        Bench.Conn c = new Bench.Conn(baseUri, true);
        Bench.Conn storage = null;
        String myUrl = null;
        byte[] photo = new byte[photoBytes];
        while (System.nanoTime() < end) {
          ThreadLocalRandom r = ThreadLocalRandom.current();
          int dice = r.nextInt(100);
          long n = createdCount.get();
          int kind = n < 50 || dice < 20 ? 0 : dice < 60 ? 1 : dice < 80 ? 2 : 3;
          if (kind == 3 && signedUrl.get() == null) {
            kind = 1;
          }
          long t0 = System.nanoTime();
          boolean ok;
          int[] status = {0};
          try {
            switch (kind) {
              case 0 -> {
                r.nextBytes(photo);
                ok = (status[0] = c.exchange("POST", fhir + "/Binary", "Content-Type: image/jpeg\r\n" + Bench.FHIR_JSON,
                    photo)) == 201;
                Matcher m = Bench.ID.matcher(c.bodyText());
                if (ok && m.find()) {
                  long k = names.incrementAndGet();
                  String json = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Soak" + k
                      + "\",\"given\":[\"P" + k + "\"]}],\"birthDate\":\"1980-01-01\","
                      + "\"photo\":[{\"contentType\":\"image/jpeg\",\"url\":\"Binary/" + m.group(1) + "\"}]}";
                  ok = (status[0] = c.exchange("POST", fhir + "/Patient", Bench.CREATE_HEADERS,
                      json.getBytes(java.nio.charset.StandardCharsets.UTF_8))) == 201;
                  Matcher id = Bench.ID.matcher(c.bodyText());
                  if (ok && id.find()) {
                    long slot = createdCount.getAndIncrement();
                    created.set((int) (slot & 0xFFFF), id.group(1));
                    Matcher u = SIGNED.matcher(c.bodyText());
                    if (u.find()) {
                      signedUrl.set(u.group(1));
                    }
                  }
                }
              }
              case 1 -> {
                String id = created.get((int) (r.nextLong(Math.min(n, 1 << 16))));
                ok = id != null && (status[0] = c.exchange("GET", fhir + "/Patient/" + id, Bench.FHIR_JSON, null)) == 200;
              }
              case 2 -> {
                // Soak<k> for k up to the names given so far: "Soak12" matches Soak12, Soak120..129, ...
                String q = r.nextInt(5) == 0 ? "Zzz" + r.nextInt(1000) : "Soak" + (1 + r.nextLong(Math.max(1, n)));
                ok = (status[0] = c.exchange("GET", fhir + "/Patient?name=" + q + "&_count=10", Bench.FHIR_JSON, null))
                    == 200;
              }
              default -> {
                String url = signedUrl.get();
                if (!url.equals(myUrl)) {
                  if (storage != null) {
                    storage.close();
                  }
                  storage = new Bench.Conn(URI.create(url), false);
                  myUrl = url;
                }
                URI u = URI.create(url);
                long off = r.nextLong(photoBytes - 1024);
                ok = (status[0] = storage.exchange("GET", u.getRawPath() + "?" + u.getRawQuery(),
                    "Range: bytes=" + off + "-" + (off + 1023) + "\r\n", null)) == 206 && storage.bodyLength == 1024;
              }
            }
          } catch (Exception e) {
            ok = false;
            status[0] = -1; // no answer: the connection failed or timed out
            c.close();
          }
          long t1 = System.nanoTime();
          if (t0 >= measureFrom) {
            samples.add(new long[] {kind, t1 - t0, ok ? 1 : 0, t1, status[0]});
          }
        }
        c.close();
        if (storage != null) {
          storage.close();
        }
        return null;
      });
    }
    pool.shutdown();
    // report every interval from the samples that ended in it
    List<Long> rss = new ArrayList<>();
    int intervals = (int) Math.ceil(duration / reportEvery);
    long intervalNanos = (long) (reportEvery * 1e9);
    double[] intervalRps = new double[intervals];
    while (System.nanoTime() < measureFrom) {
      Thread.sleep(50);
    }
    long cpuBefore = cpuTicks(pid); // from the end of the warm-up, as the intervals are
    for (int i = 0; i < intervals; i++) {
      long to = measureFrom + (i + 1) * intervalNanos;
      while (System.nanoTime() < to + 200_000_000L) {
        Thread.sleep(100);
      }
      long[] perKind = new long[4];
      long errors = 0;
      java.util.TreeMap<Long, Integer> errorStatuses = new java.util.TreeMap<>();
      List<Long> lat = new ArrayList<>();
      for (java.util.Iterator<long[]> it = samples.iterator(); it.hasNext(); ) {
        long[] s = it.next();
        if (s[3] <= to) {
          it.remove();
          if (s[2] == 1) {
            perKind[(int) s[0]]++;
            lat.add(s[1]);
          } else {
            errors++;
            errorStatuses.merge(s[4], 1, Integer::sum);
          }
        }
      }
      List<Long> flushes = new ArrayList<>();
      for (java.util.Iterator<long[]> it = fsyncs.iterator(); it.hasNext(); ) {
        long[] f = it.next();
        if (f[1] <= to) {
          it.remove();
          flushes.add(f[0]);
        }
      }
      long[] flushSorted = flushes.stream().mapToLong(Long::longValue).sorted().toArray();
      long cpuNow = cpuTicks(pid);
      // /proc/PID/stat counts in clock ticks of 1/100 s on Linux
      double cores = (cpuNow - cpuBefore) / 100.0 / reportEvery;
      cpuBefore = cpuNow;
      long[] sorted = lat.stream().mapToLong(Long::longValue).sorted().toArray();
      long ops = Arrays.stream(perKind).sum();
      intervalRps[i] = ops / reportEvery;
      long rssKib = rssKib(pid);
      rss.add(rssKib);
      System.out.printf(java.util.Locale.ROOT, "soak t_s=%.0f rps=%.0f create=%d read=%d search=%d range=%d"
          + " p99_ms=%.1f errors=%d error_statuses=%s rss_mib=%d patients=%d server_cores=%.2f"
          + " fsync_p50_ms=%.1f fsync_max_ms=%.1f load1=%s%n", (i + 1) * reportEvery, intervalRps[i], perKind[0],
          perKind[1], perKind[2], perKind[3], Bench.pct(sorted, 0.99), errors,
          errorStatuses.isEmpty() ? "-" : errorStatuses.toString().replace(" ", ""), rssKib / 1024,
          createdCount.get(), cores, Bench.pct(flushSorted, 0.5), Bench.pct(flushSorted, 1.0),
          Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    }
    if (!pool.awaitTermination(120, TimeUnit.SECONDS)) {
      pool.shutdownNow();
    }
    int perMin = (int) Math.max(1, Math.round(60 / reportEvery));
    double first = 0;
    double last = 0;
    for (int i = 0; i < perMin && i < intervals; i++) {
      first += intervalRps[i] / perMin;
      last += intervalRps[intervals - 1 - i] / perMin;
    }
    // RSS once the heap is warm: from the end of the third minute on, it may grow by at most 10%
    int warm = Math.min(rss.size() - 1, (int) Math.round(180 / reportEvery) - 1);
    long warmRss = rss.get(Math.max(0, warm));
    long endRss = rss.get(rss.size() - 1);
    long maxAfterWarm = rss.subList(Math.max(0, warm), rss.size()).stream().mapToLong(Long::longValue).max().orElse(0);
    boolean throughputOk = last >= 0.8 * first && last <= 1.2 * first;
    boolean rssOk = maxAfterWarm <= warmRss * 1.10;
    System.out.printf(java.util.Locale.ROOT, "soak_result first_min_rps=%.0f last_min_rps=%.0f ratio=%.2f"
        + " throughput=%s warm_rss_mib=%d max_rss_after_mib=%d end_rss_mib=%d rss=%s patients=%d%n", first, last,
        first > 0 ? last / first : 0, throughputOk ? "pass" : "FAIL", warmRss / 1024, maxAfterWarm / 1024,
        endRss / 1024, rssOk ? "pass" : "FAIL", createdCount.get());
  }

  /** User plus system CPU time of the process, in clock ticks (fields 14 and 15 of /proc/PID/stat). */
  private static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  private static long rssKib(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
