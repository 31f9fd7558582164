import java.util.Map;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVStore;

/**
 * What an embedded H2 file's commits write: the live chunks of an MVStore file (one chunk per
 * store; with {@code WRITE_DELAY=0}, one per commit or per group of concurrent commits), with the
 * pages and bytes each holds. Read-only; run it on a copy, or on the file of a stopped server
 * (after a SIGKILL, before the server restarts, to see the chunks as the commits left them).
 *
 * <pre>java -cp h2-VERSION.jar bench/H2Chunks.java DATA_DIR/db/fhirbox.mv.db</pre>
 *
 * prints: file_mb=.. version=.. chunks=.. pages_per_chunk=.. kib_per_chunk=.. max_pages=.. max_kib=..
 */
public final class H2Chunks {
  public static void main(String[] args) {
    java.io.File file = new java.io.File(args[0]);
    try (MVStore s = new MVStore.Builder().fileName(file.getPath()).readOnly().open()) {
      long chunks = 0;
      long pages = 0;
      long blocks = 0;
      long maxPages = 0;
      long maxBlocks = 0;
      for (Map.Entry<String, String> e : s.getLayoutMap().entrySet()) {
        if (!e.getKey().startsWith("chunk.")) {
          continue;
        }
        Map<String, String> c = DataUtils.parseMap(e.getValue());
        long p = Long.parseLong(c.get("pages"), 16);
        long b = Long.parseLong(c.get("len"), 16);
        chunks++;
        pages += p;
        blocks += b;
        maxPages = Math.max(maxPages, p);
        maxBlocks = Math.max(maxBlocks, b);
      }
      // a chunk's length is counted in blocks of 4 KiB (MVStore's FileStore.BLOCK_SIZE)
      System.out.printf("file_mb=%d version=%d chunks=%d pages_per_chunk=%.1f kib_per_chunk=%.1f max_pages=%d max_kib=%d%n",
          file.length() >> 20, s.getCurrentVersion(), chunks, chunks == 0 ? 0.0 : (double) pages / chunks,
          chunks == 0 ? 0.0 : 4.0 * blocks / chunks, maxPages, 4 * maxBlocks);
    }
  }
}
