package org.fhirbox.webapp;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.fhirbox.testing.TestServer;

/**
 * Another server on 127.0.0.1, the one an Attachment's URL still names when ingestion is off: over
 * https (with a certificate of its own, which the browser must be told to accept) and over http,
 * each serving a page dressed as a sign-in form at {@code /fake.html} and a PDF at
 * {@code /report.pdf}, and counting every request. Over https too, since that is what a policy
 * allowing any {@code https:} source for frames, media and images would let through.
 */
final class OutsideServer implements AutoCloseable {
  private static final char[] PASSWORD = "outside".toCharArray();
  private static final byte[] PAGE = ("<!doctype html><title>Sign in</title><form><input name=password"
      + " type=password><button>Sign in again</button></form>").getBytes(StandardCharsets.UTF_8);

  private final Path folder;
  private final HttpsServer https;
  private final HttpServer http;
  private final List<String> requests = new CopyOnWriteArrayList<>();

  private OutsideServer() throws Exception {
    folder = Files.createTempDirectory("fhirbox-outside");
    https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    https.setHttpsConfigurator(new HttpsConfigurator(tls(folder.resolve("outside.p12"))));
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    for (HttpServer s : List.of(https, http)) {
      s.createContext("/", this::answer);
      s.start();
    }
  }

  static OutsideServer start() throws Exception {
    return new OutsideServer();
  }

  /** {@code https://127.0.0.1:port{path}}. */
  String https(String path) {
    return "https://127.0.0.1:" + https.getAddress().getPort() + path;
  }

  /** {@code http://127.0.0.1:port{path}}. */
  String http(String path) {
    return "http://127.0.0.1:" + http.getAddress().getPort() + path;
  }

  /** Every request either server received, as {@code METHOD path}. */
  List<String> requests() {
    return List.copyOf(requests);
  }

  private void answer(HttpExchange ex) throws IOException {
    requests.add(ex.getRequestMethod() + " " + ex.getRequestURI());
    try (ex) {
      String path = ex.getRequestURI().getPath();
      byte[] body = path.equals("/fake.html") ? PAGE : path.equals("/report.pdf") ? WebApp.pdf() : null;
      if (body == null) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      ex.getResponseHeaders().set("Content-Type", path.endsWith(".html") ? "text/html" : "application/pdf");
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
    }
  }

  /** A TLS context with a fresh self-signed certificate for 127.0.0.1, made by the JDK's keytool. */
  private static SSLContext tls(Path keyStore) throws Exception {
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", "outside", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
        "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-storetype", "PKCS12",
        "-keystore", keyStore.toString(), "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD))
        .redirectErrorStream(true).start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!keytool.waitFor(60, TimeUnit.SECONDS) || keytool.exitValue() != 0) {
      throw new IllegalStateException("keytool failed: " + output);
    }
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keyStore)) {
      keys.load(in, PASSWORD);
    }
    KeyManagerFactory managers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    managers.init(keys, PASSWORD);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(managers.getKeyManagers(), null, null);
    return context;
  }

  @Override
  public void close() throws IOException {
    https.stop(0);
    http.stop(0);
    TestServer.deleteTree(folder);
  }
}
