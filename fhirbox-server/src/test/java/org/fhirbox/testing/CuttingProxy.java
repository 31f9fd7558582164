package org.fhirbox.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 in front of a server, that can cut the connections it carries once a
 * client has sent a given number of bytes: a network failure mid-request, as a phone on a bad
 * Wi-Fi has, seen by both sides as a broken connection. Connections made after a cut pass. It can
 * also stall a connection there instead, so that the server waits in the middle of a request (for
 * a test to kill it then). A client that connects while the server is down is disconnected, as a
 * load balancer without a live backend does. And it can lose a request's answer: the server does the
 * work, the client sees its connection break before any answer, or once the answer's head and the
 * first bytes of its body have reached it. Or it can answer a request
 * itself, once, as a server busy with another request on the same resource does.
 */
public final class CuttingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private volatile int target;
  private final AtomicLong budget = new AtomicLong(-1);
  private volatile boolean stall;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private final AtomicLong cuts = new AtomicLong();
  private final AtomicLong stalls = new AtomicLong();
  private volatile String loseAnswerTo;
  private volatile String cutAnswerBodyTo;
  private volatile String cutAnswerBodyMarker;
  private volatile String answerTo;
  private volatile byte[] answer;
  private final AtomicLong answered = new AtomicLong();

  /** A proxy that listens now; {@link #forwardTo} names the server (which may be told the proxy's URL first). */
  public CuttingProxy() throws IOException {
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::accept, "cutting-proxy");
    accept.setDaemon(true);
    accept.start();
  }

  public CuttingProxy forwardTo(int port) {
    this.target = port;
    return this;
  }

  /** The base URL through the proxy, ending in '/'. */
  public String baseUrl() {
    return "http://127.0.0.1:" + listener.getLocalPort() + "/";
  }

  /** Cuts every connection once clients have sent {@code bytes} more bytes through the proxy. */
  public void cutAfter(long bytes) {
    stall = false;
    budget.set(bytes);
  }

  /**
   * Closes the connections it carries now, without counting a cut: a client then sends its next
   * request on a new connection. A browser that meets a broken connection it had reused for a
   * request sends that request again by itself, unseen by the page, and only on a new connection
   * does the failure reach the page's code.
   */
  public void dropConnections() {
    for (Socket s : open) {
      closeQuietly(s);
    }
    open.clear();
  }

  /**
   * Once clients have sent {@code bytes} more bytes through the proxy, passes nothing more the
   * client sends on the connection that carried the last of them (it is read and dropped, as a
   * dead network loses it), until either side closes it.
   */
  public void stallAfter(long bytes) {
    stall = true;
    budget.set(bytes);
  }

  /**
   * Passes the next request that starts with {@code requestStart} (e.g. {@code "POST /storage/"}) to
   * the server, then cuts its connection, counting a cut, when the server's answer begins: the
   * request was carried out and the client never hears of it.
   */
  public void loseAnswerTo(String requestStart) {
    loseAnswerTo = requestStart;
  }

  /**
   * Passes the next request that starts with {@code requestStart} and whose request line holds
   * {@code marker} (e.g. {@code "POST /"} and {@code "?uploadId="}) to the server, then passes the
   * head of the server's answer and the first bytes of its body, and cuts its connection, counting a
   * cut: the request was carried out, and the client has read a success whose body breaks off.
   */
  public void cutAnswerBodyTo(String requestStart, String marker) {
    cutAnswerBodyMarker = marker;
    cutAnswerBodyTo = requestStart;
  }

  /**
   * Answers the next request that starts with {@code requestStart} (e.g. {@code "HEAD /fhir/"}) with
   * {@code response} (a whole HTTP/1.1 answer without a body, e.g. a 409 with {@code Retry-After})
   * instead of passing it on; the connection goes on carrying later requests. Only for requests
   * without a body.
   */
  public void answerOnce(String requestStart, String response) {
    answer = response.getBytes(StandardCharsets.ISO_8859_1);
    answerTo = requestStart;
  }

  /** How many requests the proxy answered itself. */
  public long answered() {
    return answered.get();
  }

  /** How many times the proxy cut. */
  public long cuts() {
    return cuts.get();
  }

  /** How many connections the proxy stalled. */
  public long stalls() {
    return stalls.get();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket();
        try {
          server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target));
        } catch (IOException e) {
          closeQuietly(client); // the server is down
          continue;
        }
        open.add(client);
        open.add(server);
        AtomicBoolean answerLost = new AtomicBoolean();
        AtomicBoolean bodyCut = new AtomicBoolean();
        pump(client, server, true, answerLost, bodyCut);
        pump(server, client, false, answerLost, bodyCut);
      } catch (IOException e) {
        // closed
      }
    }
  }

  /**
   * Copies from one side to the other; {@code answerLost} and {@code bodyCut} are shared by the two
   * directions of one connection.
   */
  private void pump(Socket from, Socket to, boolean counted, AtomicBoolean answerLost, AtomicBoolean bodyCut) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        boolean stalled = false;
        boolean headPassed = false;
        while ((n = in.read(buf)) >= 0) {
          if (stalled) {
            continue;
          }
          String own = answerTo;
          if (counted && own != null && startsWith(buf, n, own)) {
            answerTo = null;
            answered.incrementAndGet();
            OutputStream back = from.getOutputStream();
            back.write(answer);
            back.flush();
            continue;
          }
          String marker = loseAnswerTo;
          if (counted && marker != null
              && new String(buf, 0, Math.min(n, marker.length()), StandardCharsets.ISO_8859_1)
                  .equals(marker)) {
            loseAnswerTo = null;
            answerLost.set(true);
          }
          String bodyTo = cutAnswerBodyTo;
          if (counted && bodyTo != null && startsWith(buf, n, bodyTo)
              && requestLine(buf, n).contains(cutAnswerBodyMarker)) {
            cutAnswerBodyTo = null;
            bodyCut.set(true);
          }
          if (!counted && answerLost.get()) {
            cut();
            return;
          }
          if (!counted && bodyCut.get()) {
            // the body starts after the head's end, in this read or the next one
            int bodyStart = headPassed ? 0 : indexOf(buf, n, HEAD_END);
            bodyStart = bodyStart < 0 || headPassed ? bodyStart : bodyStart + HEAD_END.length;
            if (bodyStart >= 0 && n > bodyStart) {
              out.write(buf, 0, Math.min(n - 1, bodyStart + 8));
              out.flush();
              cut();
              return;
            }
            headPassed = bodyStart >= 0;
          }
          if (counted && budget.get() >= 0) {
            long left = budget.get();
            if (n >= left) {
              out.write(buf, 0, (int) left);
              out.flush();
              if (!stall) {
                cut();
                return;
              }
              budget.set(-1);
              stalls.incrementAndGet();
              stalled = true;
              continue;
            }
            budget.addAndGet(-n);
          }
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // the other side went away, or we cut
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "cutting-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static final byte[] HEAD_END = "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

  private static String requestLine(byte[] buf, int n) {
    String start = new String(buf, 0, Math.min(n, 2048), StandardCharsets.ISO_8859_1);
    int end = start.indexOf("\r\n");
    return end < 0 ? start : start.substring(0, end);
  }

  private static int indexOf(byte[] buf, int n, byte[] what) {
    outer:
    for (int i = 0; i + what.length <= n; i++) {
      for (int j = 0; j < what.length; j++) {
        if (buf[i + j] != what[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static boolean startsWith(byte[] buf, int n, String start) {
    return new String(buf, 0, Math.min(n, start.length()), StandardCharsets.ISO_8859_1).equals(start);
  }

  private void cut() {
    budget.set(-1);
    cuts.incrementAndGet();
    dropConnections();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    cut();
  }
}
