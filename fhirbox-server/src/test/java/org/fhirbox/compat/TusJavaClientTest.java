package org.fhirbox.compat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tus.java.client.ProtocolException;
import io.tus.java.client.TusClient;
import io.tus.java.client.TusURLMemoryStore;
import io.tus.java.client.TusUpload;
import io.tus.java.client.TusUploader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirbox.testing.CuttingProxy;
import org.fhirbox.testing.ServerJvm;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.fhirbox.testing.TwoNodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official Java client, tus-java-client 0.5.1 (it sends PATCH as a POST with
 * X-HTTP-Method-Override, with Expect: 100-continue and a chunked body): its connection is cut
 * mid-upload (also while a load balancer moves it to a second node sharing PostgreSQL and S3), or
 * the server is killed with SIGKILL and started again on the same data, and it resumes from the
 * offset the server kept, not from the start.
 */
class TusJavaClientTest {
  /** Bytes the proxy passes on before it cuts the connection: past the fourth PATCH of 512 KiB, into the fifth. */
  private static final long CUT = 2_500_000;

  private static TusUpload upload(byte[] content) {
    TusUpload u = new TusUpload();
    u.setSize(content.length);
    u.setInputStream(new ByteArrayInputStream(content));
    u.setFingerprint("clip.mp4-" + content.length);
    u.setMetadata(Map.of("filename", "clip.mp4", "filetype", "video/mp4"));
    return u;
  }

  /**
   * A tus-java-client upload sent in PATCHes of {@code perPatch} bytes, each body in two chunks,
   * that records what the server acknowledged. The client ends a PATCH once its
   * requestPayloadSize is sent and reads the answer, failing unless its Upload-Offset is the offset
   * sent; {@link TusUploader#getOffset()} alone counts bytes written to the connection, answered
   * or not.
   */
  private static final class Patches {
    private final TusUploader uploader;
    private final int perPatch;
    private final long start;
    private long acknowledged;
    private long sent;

    Patches(TusUploader uploader, int perPatch) {
      this.uploader = uploader;
      this.perPatch = perPatch;
      uploader.setChunkSize(perPatch / 2);
      uploader.setRequestPayloadSize(perPatch);
      start = acknowledged = sent = uploader.getOffset();
    }

    /** Sends chunks until {@code offset} bytes are written. */
    void sendUntil(long offset) throws IOException, ProtocolException {
      while (uploader.getOffset() < offset) {
        sendChunk();
      }
    }

    /** Sends half of a PATCH's body; after the second half, the client reads the PATCH's answer. */
    void sendChunk() throws IOException, ProtocolException {
      sent = uploader.getOffset() + perPatch / 2; // a write that fails may have passed part of its chunk on
      uploader.uploadChunk();
      sent = uploader.getOffset();
      if ((sent - start) % perPatch == 0) {
        acknowledged = sent;
      }
    }

    /** The offset of the last PATCH the server answered (with that Upload-Offset). */
    long acknowledged() {
      return acknowledged;
    }

    /** The most that can have reached the server: the bytes written, and all of a chunk whose writing failed. */
    long sent() {
      return sent;
    }
  }

  private static void sendAll(TusUploader uploader) throws IOException, ProtocolException {
    uploader.setChunkSize(256 * 1024);
    while (uploader.uploadChunk() > -1) {
      // on to the next chunk
    }
    uploader.finish();
  }

  @Test
  @SlowTest
  void anUploadResumesOnAServerStartedAgainAfterASigkill(@TempDir Path work) throws Exception {
    byte[] content = TestBytes.random(6 << 20, 41);
    Path data = work.resolve("data");
    ServerJvm first = ServerJvm.start(data, 0, Map.of());
    ServerJvm second = null;
    try {
      TusClient client = new TusClient();
      client.setUploadCreationURL(new URL(first.baseUrl() + Tus.CREATE));
      client.setHeaders(Map.of("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (TestServer.ADMIN_ID + ":" + TestServer.ADMIN_SECRET).getBytes(StandardCharsets.UTF_8))));
      client.enableResuming(new TusURLMemoryStore());
      TusUploader before = client.resumeOrCreateUpload(upload(content));
      Patches patches = new Patches(before, 512 * 1024); // each PATCH is stored on its own
      patches.sendUntil(content.length / 2);
      patches.sendChunk(); // half of the next PATCH's body is sent; its answer is not read
      long acknowledged = patches.acknowledged();
      long sent = patches.sent();
      assertThat(acknowledged).isPositive().isLessThan(sent);
      first.kill(); // that PATCH in flight is never answered; this uploader is abandoned, as a crashed app's is

      second = ServerJvm.start(data, first.port(), Map.of());
      TusUploader after = client.resumeOrCreateUpload(upload(content));
      assertThat(after.getUploadURL()).isEqualTo(before.getUploadURL());
      // every acknowledged PATCH survives the kill; of the one in flight, a part may have been kept
      assertThat(after.getOffset()).as("where the killed server had stored up to").isBetween(acknowledged, sent);
      sendAll(after);

      HttpResponse<String> head = new Tus(second.client()).head(after.getUploadURL().toString());
      HttpResponse<byte[]> raw = second.client().sendBytes(second.client()
          .request("fhir/R4/" + Tus.binaryVersion(head)).header("Accept", "*/*").GET());
      assertThat(raw.body()).isEqualTo(content);
    } finally {
      first.kill();
      if (second != null) {
        second.kill();
      }
    }
  }

  @Test
  @SlowTest
  void anUploadCutOffMidwayResumesOnTheOtherNode() throws Exception {
    byte[] content = TestBytes.random(12 << 20, 42);
    // Two nodes behind one address (the proxy, as a load balancer), sharing PostgreSQL and S3.
    try (CuttingProxy balancer = new CuttingProxy();
        TwoNodes nodes = TwoNodes.start(Map.of("FHIRBOX_BASE_URL", balancer.baseUrl()))) {
      balancer.forwardTo(nodes.a().server().port());
      TusClient client = new TusClient();
      client.setUploadCreationURL(new URL(balancer.baseUrl() + Tus.CREATE));
      client.setHeaders(Map.of("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (TestServer.ADMIN_ID + ":" + TestServer.ADMIN_SECRET).getBytes(StandardCharsets.UTF_8))));
      client.enableResuming(new TusURLMemoryStore());
      TusUploader before = client.resumeOrCreateUpload(upload(content));
      URL url = before.getUploadURL();
      Patches patches = new Patches(before, 1 << 20); // one PATCH per MiB: each is stored on its own
      patches.sendUntil(content.length / 2);
      long acknowledged = patches.acknowledged();
      assertThat(acknowledged).as("node a acknowledged every PATCH").isEqualTo(content.length / 2);
      assertThat(new Tus(nodes.a().client()).offset(onNode(nodes.a(), url))).isEqualTo(acknowledged);

      balancer.forwardTo(nodes.b().server().port());
      balancer.cutAfter(300_000); // the PATCH under way on node a's connection breaks off
      assertThatThrownBy(() -> patches.sendUntil(content.length))
          .isInstanceOfAny(IOException.class, ProtocolException.class);
      assertThat(balancer.cuts()).isEqualTo(1);
      long reached = Math.min(patches.sent(), acknowledged + 300_000);
      double onB = bytesIn(nodes.b());

      TusUploader after = client.resumeOrCreateUpload(upload(content));
      assertThat(after.getUploadURL()).isEqualTo(url);
      long resumedAt = after.getOffset();
      // nothing node a acknowledged is sent again; of the PATCH cut off, what arrived may have been kept
      assertThat(resumedAt).as("where node a stopped").isBetween(acknowledged, reached);
      sendAll(after);

      assertThat(bytesIn(nodes.b()) - onB).as("the rest went to node b")
          .isGreaterThanOrEqualTo(content.length - resumedAt);
      HttpResponse<String> head = new Tus(nodes.b().client()).head(onNode(nodes.b(), url));
      HttpResponse<byte[]> raw = nodes.b().client().sendBytes(nodes.b().client()
          .request("fhir/R4/" + Tus.binaryVersion(head)).header("Accept", "*/*").GET());
      TestBytes.assertBlobEtag(raw.headers());
      assertThat(raw.body()).isEqualTo(content);
    }
  }

  /** The upload URL (the balancer's) on one node directly. */
  private static String onNode(TestServer node, URL url) {
    String u = url.toString();
    return node.baseUrl() + u.substring(u.indexOf("fhir/R4/"));
  }

  private static double bytesIn(TestServer node) {
    Matcher m = Pattern.compile("(?m)^fhirbox_bytes_in_total (\\S+)$").matcher(node.client().get("metrics").body());
    assertThat(m.find()).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void anUploadCutOffMidwayResumesWhereTheServerStopped() throws Exception {
    byte[] content = TestBytes.random(6 << 20, 40);
    try (CuttingProxy proxy = new CuttingProxy();
        TestServer server = TestServer.start(Map.of("FHIRBOX_BASE_URL", proxy.baseUrl()))) {
      proxy.forwardTo(server.server().port());
      TusClient client = new TusClient();
      client.setUploadCreationURL(new URL(proxy.baseUrl() + Tus.CREATE));
      client.setHeaders(Map.of("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (TestServer.ADMIN_ID + ":" + TestServer.ADMIN_SECRET).getBytes(StandardCharsets.UTF_8))));
      client.enableResuming(new TusURLMemoryStore());

      proxy.cutAfter(CUT);
      TusUploader cut = client.resumeOrCreateUpload(upload(content));
      URL url = cut.getUploadURL();
      Patches patches = new Patches(cut, 512 * 1024); // each PATCH is stored on its own
      assertThatThrownBy(() -> patches.sendUntil(content.length))
          .isInstanceOfAny(IOException.class, ProtocolException.class);
      assertThat(proxy.cuts()).isEqualTo(1);
      long acknowledged = patches.acknowledged();
      // the proxy passed CUT bytes on, the requests' heads and chunk framing among them
      long reached = Math.min(patches.sent(), CUT);
      assertThat(acknowledged).as("the PATCHes before the one cut off were answered").isGreaterThan(CUT - 512 * 1024);

      TusUploader uploader = client.resumeOrCreateUpload(upload(content));
      assertThat(uploader.getUploadURL()).isEqualTo(url);
      // every acknowledged PATCH is kept; of the one cut off, what arrived may be (tus: store as much as possible)
      assertThat(uploader.getOffset()).as("where the server stopped").isBetween(acknowledged, reached);
      sendAll(uploader);

      HttpResponse<String> head = new Tus(server.client()).head(url.toString());
      assertThat(head.headers().firstValue("Upload-Offset")).contains(Long.toString(content.length));
      HttpResponse<byte[]> raw = server.client().sendBytes(server.client()
          .request("fhir/R4/" + Tus.binaryVersion(head)).header("Accept", "*/*").GET());
      assertThat(raw.body()).isEqualTo(content);
      assertThat(raw.headers().firstValue("Content-Type")).contains("video/mp4");
    }
  }
}
