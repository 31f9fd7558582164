import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * The two ways a resumable upload can know SHA-256 and SHA-1 of bytes that came in many requests,
 * possibly to many nodes, timed on one large file (bench/run-tus; JDK 17):
 *
 * <ul>
 *   <li><b>exported state</b>: Bouncy Castle's SHA256Digest and SHA1Digest (EncodableDigest) over
 *       every byte, their state saved and restored at each piece boundary, as it would be stored
 *       in the database between PATCHes;
 *   <li><b>JDK digests</b> (CPU SHA instructions) while the bytes arrive, which cannot export
 *       their state; the pieces that reach another node or a restarted one are followed by one
 *       more read of the whole file.
 * </ul>
 *
 * Run: {@code java -cp bcprov-jdk18on-1.87.jar bench/DigestState.java FILE PIECE_BYTES}. Bouncy
 * Castle is used through reflection, so this file compiles without it. Prints
 * {@code jdk_mbps=.. bc_state_mbps=.. reread_s=.. state_bytes=..}: the JDK digests over the file
 * (read from the page cache), Bouncy Castle's with the state saved and restored per piece, and
 * the time of reading the file again with the JDK digests (what a resume on another node costs
 * at the end). Third of three rounds; the first two warm the JIT.
 */
public final class DigestState {
  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int piece = Integer.parseInt(args[1]);
    long size = Files.size(file);
    Class<?> sha256 = Class.forName("org.bouncycastle.crypto.digests.SHA256Digest");
    Class<?> sha1 = Class.forName("org.bouncycastle.crypto.digests.SHA1Digest");
    double jdk = 0;
    double bc = 0;
    double reread = 0;
    int stateBytes = 0;
    for (int round = 0; round < 3; round++) {
      long t0 = System.nanoTime();
      jdk(file);
      jdk = size / 1e6 / ((System.nanoTime() - t0) / 1e9);
      reread = (System.nanoTime() - t0) / 1e9;
      long t1 = System.nanoTime();
      stateBytes = bc(file, piece, sha256, sha1);
      bc = size / 1e6 / ((System.nanoTime() - t1) / 1e9);
    }
    System.out.printf("jdk_mbps=%.0f bc_state_mbps=%.0f reread_s=%.2f state_bytes=%d%n", jdk, bc, reread, stateBytes);
  }

  private static void jdk(Path file) throws Exception {
    MessageDigest a = MessageDigest.getInstance("SHA-256");
    MessageDigest b = MessageDigest.getInstance("SHA-1");
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        a.update(buf, 0, n);
        b.update(buf, 0, n);
      }
    }
    a.digest();
    b.digest();
  }

  /** Bouncy Castle over the file, exporting and restoring both states every {@code piece} bytes. */
  private static int bc(Path file, int piece, Class<?> sha256, Class<?> sha1) throws Exception {
    Object a = sha256.getConstructor().newInstance();
    Object b = sha1.getConstructor().newInstance();
    Method update = sha256.getMethod("update", byte[].class, int.class, int.class);
    Method update1 = sha1.getMethod("update", byte[].class, int.class, int.class);
    Method state = sha256.getMethod("getEncodedState");
    Method state1 = sha1.getMethod("getEncodedState");
    Constructor<?> restore = sha256.getConstructor(byte[].class);
    Constructor<?> restore1 = sha1.getConstructor(byte[].class);
    byte[] buf = new byte[1 << 20];
    long inPiece = 0;
    int bytes = 0;
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        update.invoke(a, buf, 0, n);
        update1.invoke(b, buf, 0, n);
        inPiece += n;
        if (inPiece >= piece) {
          byte[] sa = (byte[]) state.invoke(a);
          byte[] sb = (byte[]) state1.invoke(b);
          bytes = sa.length + sb.length;
          a = restore.newInstance(sa);
          b = restore1.newInstance(sb);
          inPiece = 0;
        }
      }
    } catch (IOException e) {
      throw e;
    }
    return bytes;
  }
}
