import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writer and checker for bench/run-crash. JDK 17 only, no dependencies; loopback targets only;
 * every loop is bounded by a duration or a count. The bearer token comes from BENCH_TOKEN.
 *
 * <pre>
 * write --base URL --log FILE --seconds S [--uploads 40] [--bundlers 4] [--creators 4] [--upload-bytes 65536]
 *     sends Binary uploads, transaction Bundles and Patient creates on their own threads until
 *     the server stops answering (or S seconds pass); every 2xx is appended to FILE at once:
 *       binary ID SIZE | bundle-sent TAG | bundle TAG | patient ID
 *     prints: acked_binaries=.. acked_bundles=.. acked_patients=.. errors=..
 * check --base URL --log FILE
 *     prints: lost=.. partial_bundles=.. binaries_without_content=.. hash_mismatches=.. binaries=.. (see run-crash)
 * </pre>
 *
 * The check downloads each acknowledged Binary and compares its length with the size written and
 * the SHA-1 of its bytes (computed as they stream in) with the {@code hash} the server gives an
 * Attachment naming that Binary: it creates DocumentReferences, each naming up to
 * {@value #HASHES_PER_REQUEST} Binaries, and reads the hashes from their answers. A mismatch
 * counts as a Binary without its content.
 *
 * A transaction Bundle holds one Patient and three Observations naming it, each carrying the
 * identifier {@code urn:fhirbox:crash|TAG}: FHIR R4 transactions are all or nothing (3.1.0.11.2),
 * so after a crash every Bundle that was sent must have all four or none of them, and every
 * acknowledged one all four.
 */
public final class Crash {
  private static final String TOKEN = System.getenv().getOrDefault("BENCH_TOKEN", "");
  private static final Pattern ID = Pattern.compile("/(?:Binary|Patient)/([^/]+)");
  private static final Pattern TOTAL = Pattern.compile("\"total\"\\s*:\\s*(\\d+)");
  private static final Pattern ENTRY_ID = Pattern.compile("\"fullUrl\"\\s*:\\s*\"[^\"]*/Binary/([^\"/]+)\"");
  private static final int HASHES_PER_REQUEST = 100;
  private static final Pattern ATTACHMENT = Pattern.compile("\"attachment\"\\s*:\\s*\\{([^{}]*)\\}");
  private static final Pattern NAMED_BINARY = Pattern.compile("\"url\"\\s*:\\s*\"[^\"]*/(?:storage|Binary)/([^/\"?]+)");
  private static final Pattern HASH = Pattern.compile("\"hash\"\\s*:\\s*\"([^\"]+)\"");
  private static final Pattern NEXT = Pattern.compile(
      "\"relation\"\\s*:\\s*\"next\"\\s*,\\s*\"url\"\\s*:\\s*\"([^\"]+)\"");

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).executor(Executors.newFixedThreadPool(4)).build();
    switch (args.length == 0 ? "" : args[0]) {
      case "write" -> write(http, opt);
      case "check" -> check(http, opt);
      default -> throw new IllegalArgumentException("usage: Crash write|check --base URL --log FILE ...");
    }
    System.exit(0);
  }

  private static HttpRequest.Builder request(String url) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
    if (!TOKEN.isEmpty()) {
      b.header("Authorization", "Bearer " + TOKEN);
    }
    return b;
  }

  // ---- write ----

  private static void write(HttpClient http, Map<String, String> opt) throws Exception {
    String fhir = opt.get("base") + "/fhir/R4";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(opt.getOrDefault("seconds", "20")));
    int uploads = Integer.parseInt(opt.getOrDefault("uploads", "40"));
    int bundlers = Integer.parseInt(opt.getOrDefault("bundlers", "4"));
    int creators = Integer.parseInt(opt.getOrDefault("creators", "4"));
    int uploadBytes = Integer.parseInt(opt.getOrDefault("upload-bytes", "65536"));
    AtomicBoolean down = new AtomicBoolean();
    long[] counts = new long[4];
    try (PrintWriter log = new PrintWriter(Files.newBufferedWriter(Path.of(opt.get("log"))), true)) {
      ExecutorService pool = Executors.newFixedThreadPool(uploads + bundlers + creators);
      for (int i = 0; i < uploads; i++) {
        pool.execute(loop(deadline, down, counts, log, () -> {
          byte[] body = new byte[uploadBytes];
          ThreadLocalRandom.current().nextBytes(body);
          HttpResponse<String> r = http.send(request(fhir + "/Binary")
              .header("Content-Type", "application/octet-stream")
              .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
          return r.statusCode() == 201 ? new String[] {"binary " + idOf(r) + " " + body.length} : refused(r);
        }));
      }
      for (int i = 0; i < bundlers; i++) {
        pool.execute(loop(deadline, down, counts, log, () -> {
          String tag = UUID.randomUUID().toString();
          synchronized (log) {
            log.println("bundle-sent " + tag); // before the request: an unanswered Bundle must be all or nothing too
          }
          HttpResponse<String> r = http.send(request(fhir).header("Content-Type", "application/fhir+json")
              .POST(HttpRequest.BodyPublishers.ofString(bundle(tag))).build(), HttpResponse.BodyHandlers.ofString());
          return r.statusCode() == 200 ? new String[] {"bundle " + tag} : refused(r);
        }));
      }
      for (int i = 0; i < creators; i++) {
        pool.execute(loop(deadline, down, counts, log, () -> {
          String body = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Crash\",\"given\":[\"W\"]}]}";
          HttpResponse<String> r = http.send(request(fhir + "/Patient").header("Content-Type", "application/fhir+json")
              .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
          return r.statusCode() == 201 ? new String[] {"patient " + idOf(r)} : refused(r);
        }));
      }
      pool.shutdown();
      pool.awaitTermination(Long.parseLong(opt.getOrDefault("seconds", "20")) + 90, TimeUnit.SECONDS);
      pool.shutdownNow();
    }
    System.out.printf("acked_binaries=%d acked_bundles=%d acked_patients=%d errors=%d%n",
        counts[0], counts[1], counts[2], counts[3]);
  }

  private interface Call {
    String[] run() throws Exception;
  }

  /** Repeats one kind of write until the deadline, or until the server stops answering. */
  private static Runnable loop(long deadline, AtomicBoolean down, long[] counts, PrintWriter log, Call call) {
    return () -> {
      int failures = 0;
      while (System.nanoTime() < deadline && failures < 3) {
        try {
          String[] acked = call.run();
          synchronized (log) {
            if (acked == null) {
              counts[3]++;
              continue;
            }
            log.println(acked[0]);
            counts[acked[0].startsWith("binary") ? 0 : acked[0].startsWith("bundle") ? 1 : 2]++;
          }
          if (down.get()) {
            failures++; // the server answered after all, but the run is over
          }
        } catch (IOException e) {
          down.set(true); // connection refused or reset: the process is gone
          failures++;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (Exception e) {
          synchronized (log) {
            counts[3]++;
          }
          failures++;
        }
      }
    };
  }

  private static String[] refused(HttpResponse<String> r) {
    String body = r.body();
    System.err.println("write answered " + r.statusCode() + ": " + body.substring(0, Math.min(300, body.length())));
    return null;
  }

  private static String idOf(HttpResponse<String> r) {
    String location = r.headers().firstValue("Location").orElse("");
    Matcher m = ID.matcher(location);
    if (!m.find()) {
      throw new IllegalStateException("2xx without a usable Location: " + location);
    }
    return m.group(1);
  }

  private static String bundle(String tag) {
    String identifier = "\"identifier\":[{\"system\":\"urn:fhirbox:crash\",\"value\":\"" + tag + "\"}]";
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
    String patient = "urn:uuid:" + UUID.randomUUID();
    b.append("{\"fullUrl\":\"").append(patient).append("\",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"},")
        .append("\"resource\":{\"resourceType\":\"Patient\",").append(identifier)
        .append(",\"name\":[{\"family\":\"Crash\"}]}}");
    for (int i = 0; i < 3; i++) {
      b.append(",{\"request\":{\"method\":\"POST\",\"url\":\"Observation\"},\"resource\":{\"resourceType\":\"Observation\",")
          .append(identifier).append(",\"status\":\"final\",\"code\":{\"text\":\"crash ").append(i)
          .append("\"},\"subject\":{\"reference\":\"").append(patient).append("\"}}}");
    }
    return b.append("]}").toString();
  }

  // ---- check ----

  private static void check(HttpClient http, Map<String, String> opt) throws Exception {
    String fhir = opt.get("base") + "/fhir/R4";
    List<String> lines = Files.readAllLines(Path.of(opt.get("log")));
    Set<String> sentBundles = new HashSet<>();
    Set<String> ackedBundles = new HashSet<>();
    List<String[]> binaries = new ArrayList<>();
    List<String> patients = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.split(" ");
      switch (f[0]) {
        case "binary" -> binaries.add(f);
        case "bundle-sent" -> sentBundles.add(f[1]);
        case "bundle" -> ackedBundles.add(f[1]);
        case "patient" -> patients.add(f[1]);
        default -> throw new IllegalStateException("bad log line " + line);
      }
    }
    int lostPatients = 0;
    for (String id : patients) {
      if (status(http, fhir + "/Patient/" + id) != 200) {
        lostPatients++;
      }
    }
    int lostBinaries = 0;
    int withoutContent = 0;
    int hashMismatches = 0;
    Map<String, String> hashes = hashes(http, fhir, binaries.stream().map(b -> b[1]).toList());
    for (String[] b : binaries) {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      long got = content(http, fhir + "/Binary/" + b[1], sha1);
      if (got == -404) {
        lostBinaries++;
      } else if (got != Long.parseLong(b[2])) {
        withoutContent++;
      } else if (!Base64.getEncoder().encodeToString(sha1.digest()).equals(hashes.get(b[1]))) {
        hashMismatches++;
        withoutContent++;
      }
    }
    int lostBundles = 0;
    int partial = 0;
    for (String tag : sentBundles) {
      String q = "?identifier=urn:fhirbox:crash%7C" + tag + "&_summary=count";
      int p = total(http, fhir + "/Patient" + q);
      int o = total(http, fhir + "/Observation" + q);
      boolean whole = p == 1 && o == 3;
      if (!whole && !(p == 0 && o == 0)) {
        partial++;
      } else if (!whole && ackedBundles.contains(tag)) {
        lostBundles++;
      }
    }
    // Every Binary the server lists, acknowledged or not, must serve its content.
    int listed = 0;
    String next = fhir + "/Binary?_count=200";
    for (int page = 0; next != null && page < 1000; page++) {
      HttpResponse<String> r = http.send(request(next).header("Accept", "application/fhir+json").build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("Binary search answered " + r.statusCode() + ": " + r.body());
      }
      Matcher m = ENTRY_ID.matcher(r.body());
      while (m.find()) {
        listed++;
        if (content(http, fhir + "/Binary/" + m.group(1), null) <= 0) {
          withoutContent++;
        }
      }
      Matcher n = NEXT.matcher(r.body());
      next = n.find() ? n.group(1) : null;
    }
    System.out.printf("lost=%d lost_patients=%d lost_bundles=%d lost_binaries=%d partial_bundles=%d"
            + " binaries_without_content=%d hash_mismatches=%d binaries=%d acked_patients=%d acked_bundles=%d"
            + " sent_bundles=%d acked_binaries=%d%n",
        lostPatients + lostBundles + lostBinaries, lostPatients, lostBundles, lostBinaries, partial, withoutContent,
        hashMismatches, listed, patients.size(), ackedBundles.size(), sentBundles.size(), binaries.size());
  }

  private static int status(HttpClient http, String url) throws Exception {
    return http.send(request(url).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /**
   * The {@code hash} (SHA-1, base64) the server gives an Attachment naming each Binary of {@code ids}
   * that exists: read from the answers to DocumentReferences that name them, in their order. A
   * Binary the server does not know fails its whole request (400); its group is then asked one by one.
   */
  private static Map<String, String> hashes(HttpClient http, String fhir, List<String> ids) throws Exception {
    Map<String, String> out = new HashMap<>();
    for (int from = 0; from < ids.size(); from += HASHES_PER_REQUEST) {
      List<String> group = ids.subList(from, Math.min(ids.size(), from + HASHES_PER_REQUEST));
      if (!hashesOf(http, fhir, group, out) && group.size() > 1) {
        for (String id : group) {
          hashesOf(http, fhir, List.of(id), out);
        }
      }
    }
    return out;
  }

  private static boolean hashesOf(HttpClient http, String fhir, List<String> ids, Map<String, String> out)
      throws Exception {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"DocumentReference\",\"status\":\"current\",\"content\":[");
    for (int i = 0; i < ids.size(); i++) {
      b.append(i == 0 ? "" : ",").append("{\"attachment\":{\"url\":\"Binary/").append(ids.get(i)).append("\"}}");
    }
    HttpResponse<String> r = http.send(request(fhir + "/DocumentReference")
        .header("Content-Type", "application/fhir+json").header("Accept", "application/fhir+json")
        .header("Prefer", "return=representation")
        .POST(HttpRequest.BodyPublishers.ofString(b.append("]}").toString(), StandardCharsets.UTF_8)).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    if (r.statusCode() != 201) {
      return false;
    }
    Matcher attachment = ATTACHMENT.matcher(r.body());
    for (int i = 0; i < ids.size() && attachment.find(); i++) {
      Matcher hash = HASH.matcher(attachment.group(1));
      // the answer signs each url ({base}/storage/{id}/{version}?...): the id it names, else its place
      Matcher named = NAMED_BINARY.matcher(attachment.group(1));
      if (hash.find()) {
        out.put(named.find() ? named.group(1) : ids.get(i), hash.group(1));
      }
    }
    return true;
  }

  /**
   * The number of content bytes served, or minus the status when it is not 200; the bytes go
   * through {@code digest} (when not null) as they arrive.
   */
  private static long content(HttpClient http, String url, MessageDigest digest) throws Exception {
    HttpResponse<java.io.InputStream> r = http.send(request(url).header("Accept", "application/octet-stream").build(),
        HttpResponse.BodyHandlers.ofInputStream());
    try (java.io.InputStream in = r.body()) {
      if (r.statusCode() != 200) {
        return -r.statusCode();
      }
      long n = 0;
      byte[] buf = new byte[65536];
      for (int k; (k = in.read(buf)) > 0; ) {
        n += k;
        if (digest != null) {
          digest.update(buf, 0, k);
        }
      }
      return n;
    } catch (IOException e) {
      return -1; // the stream broke: the content is not all there
    }
  }

  private static int total(HttpClient http, String url) throws Exception {
    HttpResponse<String> r = http.send(request(url).header("Accept", "application/fhir+json").build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    Matcher m = TOTAL.matcher(r.body());
    if (r.statusCode() != 200 || !m.find()) {
      throw new IllegalStateException("search " + url + " answered " + r.statusCode() + ": " + r.body());
    }
    return Integer.parseInt(m.group(1));
  }
}
