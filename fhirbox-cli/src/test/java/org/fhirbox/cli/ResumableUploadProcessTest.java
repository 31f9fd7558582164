package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.fhirbox.client.FhirboxClient;
import org.fhirbox.client.ResumableUploads;
import org.fhirbox.client.RetryPolicy;
import org.fhirbox.client.Upload;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Binary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resumable uploads interrupted the hard way, with {@code fhirbox serve} and {@code fhirbox upload}
 * as real processes: the server killed with SIGKILL halfway and started again on the same data
 * while the SDK keeps going by itself, and an upload command killed halfway and run again, which
 * goes on from the offset the server kept. Each compares the stored bytes' SHA-256 with the file's.
 */
@SlowTest
class ResumableUploadProcessTest {
  private static final int MIB = 1 << 20;

  @TempDir
  Path work;

  private Path file(String name, int bytes) throws Exception {
    Path f = work.resolve(name);
    byte[] block = new byte[MIB];
    Random random = new Random(bytes);
    try (var out = Files.newOutputStream(f)) {
      for (int done = 0; done < bytes; done += MIB) {
        random.nextBytes(block);
        out.write(block, 0, Math.min(MIB, bytes - done));
      }
    }
    return f;
  }

  private static String sha256(InputStream in) throws Exception {
    try (DigestInputStream d = new DigestInputStream(in, MessageDigest.getInstance("SHA-256"))) {
      d.transferTo(java.io.OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(d.getMessageDigest().digest());
    }
  }

  private static FhirboxClient client(String baseUrl) {
    return FhirboxClient.builder().baseUrl(baseUrl).basicAuth(TestServer.ADMIN_ID, TestServer.ADMIN_SECRET).build();
  }

  /** The Binary's bytes as the server serves them, and its ETag. */
  private static HttpResponse<InputStream> raw(ServerProcess server, String binaryId) throws Exception {
    HttpResponse<InputStream> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create(server.baseUrl + "fhir/R4/Binary/" + binaryId))
        .header("Authorization", server.authorization()).header("Accept", "*/*").build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    return r;
  }

  private static long bytesIn(ServerProcess server) throws Exception {
    String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.baseUrl + "metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = Pattern.compile("(?m)^fhirbox_bytes_in_total (\\S+)$").matcher(text);
    assertThat(m.find()).as(text).isTrue();
    return (long) Double.parseDouble(m.group(1));
  }

  private static long offset(ServerProcess server, String upload) throws Exception {
    HttpResponse<Void> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(upload))
        .header("Authorization", server.authorization()).header("Tus-Resumable", "1.0.0")
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
    assertThat(r.statusCode()).isEqualTo(200);
    return Long.parseLong(r.headers().firstValue("Upload-Offset").orElseThrow());
  }

  @Test
  void theSdkGoesOnByItselfWhenTheServerIsKilledAndStartedAgain() throws Exception {
    int size = 48 * MIB;
    Path file = file("ultrasound.mp4", size);
    Path data = Files.createTempDirectory("fhirbox-proc");
    ServerProcess first = new ServerProcess(data, "256m", Map.of());
    int port = first.port();
    AtomicReference<ServerProcess> second = new AtomicReference<>();
    AtomicBoolean killed = new AtomicBoolean();
    AtomicReference<CompletableFuture<Void>> restart = new AtomicReference<>();
    try {
      FhirboxClient client = client(first.baseUrl).newBuilder().resumableUploads(ResumableUploads.DEFAULT
          .withThreshold(0).withChunkSize(4 * MIB)
          .withRetries(new RetryPolicy(30, Duration.ofMillis(200), Duration.ofSeconds(2), Duration.ofSeconds(5))))
          .build();
      Binary b = client.createBinary(Upload.of(file, "video/mp4").withProgress((done, total) -> {
        if (done >= size / 3 && killed.compareAndSet(false, true)) {
          restart.set(CompletableFuture.runAsync(() -> {
            try {
              first.kill();
              second.set(new ServerProcess(data, "256m", Map.of(), port));
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }));
        }
      }));
      restart.get().get(120, TimeUnit.SECONDS);

      assertThat(first.process.isAlive()).isFalse();
      HttpResponse<InputStream> stored = raw(second.get(), b.getIdElement().getIdPart());
      String expected = sha256(Files.newInputStream(file));
      // the content's ETag names its blob (32 hex digits); the bytes are compared by their SHA-256
      assertThat(stored.headers().firstValue("ETag")).hasValueSatisfying(e -> assertThat(e).matches(TestBytes.BLOB_ETAG));
      assertThat(sha256(stored.body())).isEqualTo(expected);
      // killed once 16 MiB had been handed over in 4 MiB pieces: at least 12 MiB were acknowledged
      assertThat(bytesIn(second.get())).as("bytes the restarted server received").isLessThanOrEqualTo(size - 12L * MIB);
    } finally {
      first.kill();
      if (second.get() != null) {
        second.get().close();
      } else {
        TestServer.deleteTree(data);
      }
    }
  }

  @Test
  void anUploadCommandKilledHalfwayGoesOnWhenRunAgain() throws Exception {
    int size = 64 * MIB;
    Path file = file("echo.mp4", size);
    Path cache = work.resolve("cache");
    Path states = cache.resolve("fhirbox").resolve("uploads");
    try (ServerProcess server = ServerProcess.start("256m")) {
      Map<String, String> env = Map.of("FHIRBOX_SERVER", server.baseUrl, "FHIRBOX_CLIENT_ID", TestServer.ADMIN_ID,
          "FHIRBOX_CLIENT_SECRET", TestServer.ADMIN_SECRET, "XDG_CACHE_HOME", cache.toString());
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), Main.class.getName(),
          "upload", file.toString(), "--resumable", "--chunk-size", Integer.toString(256 * 1024)));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(work.resolve("upload.log").toFile());
      pb.environment().putAll(env);
      Process upload = pb.start();
      String url = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        if (url == null && Files.isDirectory(states)) {
          try (Stream<Path> kept = Files.list(states)) {
            url = kept.filter(p -> p.toString().endsWith(".tus")).findFirst()
                .map(p -> readQuietly(p)).orElse(null);
          }
        }
        if (url != null && offset(server, url) >= 8 * MIB) {
          break;
        }
        assertThat(upload.isAlive()).as("the upload ended before it could be killed:%n%s",
            Files.readString(work.resolve("upload.log"))).isTrue();
        Thread.sleep(20);
      }
      upload.destroyForcibly();
      upload.waitFor(30, TimeUnit.SECONDS);
      long left = offset(server, url);
      assertThat(left).isBetween(8L * MIB, size - 1L);

      Cli.Result again = Cli.withEnv(env).run("upload", file.toString(), "--resumable");

      assertThat(again.exitCode()).as(again.toString()).isZero();
      assertThat(again.err()).contains("resuming an interrupted upload at");
      String id = again.json().path("id").asText();
      HttpResponse<InputStream> stored = raw(server, id);
      assertThat(sha256(stored.body())).isEqualTo(sha256(Files.newInputStream(file)));
      assertThat(bytesIn(server)).as("bytes received over both runs").isLessThan(size + 8L * MIB);
      try (Stream<Path> kept = Files.list(states)) {
        assertThat(kept.filter(p -> p.toString().endsWith(".tus")).toList()).isEmpty();
      }
    }
  }

  private static String readQuietly(Path p) {
    try {
      String s = Files.readString(p).strip();
      return s.isEmpty() ? null : s;
    } catch (java.io.IOException e) {
      return null;
    }
  }
}
