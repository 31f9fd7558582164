import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * What the disk allows, with no server and no network, for bench/run to print beside fhirbox and
 * nginx. JDK 17 only; compiled with bench/Bench.java, whose load driver it uses.
 *
 * <pre>
 * floor --dir DIR --size BYTES --threads N --warmup S --duration S
 *       prints: rps=.. mbps=.. p50_ms=.. p99_ms=.. ok=.. errors=..
 * dsync --dir DIR --count N
 *       prints: p50_ms=.. p90_ms=.. per_s=..
 * </pre>
 *
 * DIR must be on the disk that holds fhirbox's data. Every loop is bounded by a duration or count;
 * both modes delete what they wrote.
 */
public final class DiskFloor {
  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      throw new IllegalArgumentException("usage: DiskFloor floor|dsync --key value ...");
    }
    Map<String, String> opt = Bench.options(args, 1);
    switch (args[0]) {
      case "floor" -> floor(opt);
      case "dsync" -> dsync(opt);
      default -> throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  /**
   * The durable floor of many uploads: each of N threads writes the body to a new temporary file,
   * fdatasyncs it and renames it over one of 64 names of its own, as nginx's PUT does plus the one
   * sync that makes the content durable (the name is not synced). A server that acknowledges only
   * durable uploads does at least this much per upload, so beside nginx's PUT and fhirbox's POST
   * of the same body and threads it says how much of the gap between the two is the disk's.
   */
  private static void floor(Map<String, String> o) throws Exception {
    Path dir = Path.of(o.get("dir"));
    int size = Integer.parseInt(o.get("size"));
    int threads = Integer.parseInt(o.getOrDefault("threads", "1"));
    double warmup = Double.parseDouble(o.getOrDefault("warmup", "2"));
    double duration = Double.parseDouble(o.getOrDefault("duration", "10"));
    Files.createDirectories(dir);
    byte[] body = new byte[size];
    new Random(size).nextBytes(body);
    AtomicInteger ids = new AtomicInteger();
    ThreadLocal<int[]> counters = ThreadLocal.withInitial(() -> new int[] {ids.getAndIncrement(), 0});
    Bench.Op op = () -> {
      int[] k = counters.get();
      Path temp = dir.resolve("t" + k[0] + ".tmp");
      Path target = dir.resolve("c" + k[0] + "-" + (k[1]++ % 64) + ".bin");
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
        ByteBuffer bb = ByteBuffer.wrap(body);
        while (bb.hasRemaining()) {
          ch.write(bb);
        }
        ch.force(false);
      }
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return true;
    };
    try {
      op.run();
      Bench.reportTransfers(Bench.drive(op, threads, warmup, duration), size);
    } finally {
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.deleteIfExists(f);
        }
      }
    }
  }

  /**
   * The latency of one durable 4 KiB append (O_DSYNC), one after another: the least a commit that
   * is durable before it is acknowledged waits, so 1000 / p50 bounds what one client, waiting for
   * each answer before its next request, can get from any such server.
   */
  private static void dsync(Map<String, String> o) throws Exception {
    Path dir = Path.of(o.get("dir"));
    int count = Integer.parseInt(o.getOrDefault("count", "2000"));
    Files.createDirectories(dir);
    Path file = dir.resolve("dsync.bin");
    long[] lat = new long[count];
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND, StandardOpenOption.DSYNC)) {
      ByteBuffer bb = ByteBuffer.allocate(4096);
      for (int i = 0; i < count; i++) {
        bb.clear();
        long t0 = System.nanoTime();
        while (bb.hasRemaining()) {
          ch.write(bb);
        }
        lat[i] = System.nanoTime() - t0;
      }
    } finally {
      Files.deleteIfExists(file);
    }
    Arrays.sort(lat);
    double p50 = Bench.pct(lat, 0.50);
    System.out.printf(java.util.Locale.ROOT, "p50_ms=%.3f p90_ms=%.3f per_s=%.0f%n", p50, Bench.pct(lat, 0.90),
        1000 / p50);
  }
}
