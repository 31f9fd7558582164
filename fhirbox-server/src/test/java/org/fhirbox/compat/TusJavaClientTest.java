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
import java.util.Base64;
import java.util.Map;
import org.fhirbox.testing.CuttingProxy;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.Test;

/**
 * The official Java client, tus-java-client 0.5.1 (it sends PATCH as a POST with
 * X-HTTP-Method-Override, with Expect: 100-continue and a chunked body): its connection is cut
 * mid-upload, and it resumes from the offset the server kept, not from the start.
 */
class TusJavaClientTest {

  private static TusUpload upload(byte[] content) {
    TusUpload u = new TusUpload();
    u.setSize(content.length);
    u.setInputStream(new ByteArrayInputStream(content));
    u.setFingerprint("clip.mp4-" + content.length);
    u.setMetadata(Map.of("filename", "clip.mp4", "filetype", "video/mp4"));
    return u;
  }

  private static void sendAll(TusUploader uploader) throws IOException, ProtocolException {
    uploader.setChunkSize(256 * 1024);
    while (uploader.uploadChunk() > -1) {
      // on to the next chunk
    }
    uploader.finish();
  }

  @Test
  void anUploadCutOffMidwayResumesWhereTheServerStopped() throws Exception {
    byte[] content = Tus.random(6 << 20, 40);
    try (CuttingProxy proxy = new CuttingProxy();
        TestServer server = TestServer.start(Map.of("FHIRBOX_BASE_URL", proxy.baseUrl()))) {
      proxy.forwardTo(server.server().port());
      TusClient client = new TusClient();
      client.setUploadCreationURL(new URL(proxy.baseUrl() + Tus.CREATE));
      client.setHeaders(Map.of("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (TestServer.ADMIN_ID + ":" + TestServer.ADMIN_SECRET).getBytes(StandardCharsets.UTF_8))));
      client.enableResuming(new TusURLMemoryStore());

      proxy.cutAfter(2_500_000);
      TusUploader cut = client.resumeOrCreateUpload(upload(content));
      URL url = cut.getUploadURL();
      assertThatThrownBy(() -> sendAll(cut)).isInstanceOfAny(IOException.class, ProtocolException.class);
      assertThat(proxy.cuts()).isEqualTo(1);

      TusUploader uploader = client.resumeOrCreateUpload(upload(content));
      assertThat(uploader.getUploadURL()).isEqualTo(url);
      long resumedAt = uploader.getOffset();
      sendAll(uploader);

      assertThat(resumedAt).isBetween(1L, 2_500_000L);
      HttpResponse<String> head = new Tus(server.client()).head(url.toString());
      assertThat(head.headers().firstValue("Upload-Offset")).contains(Long.toString(content.length));
      HttpResponse<byte[]> raw = server.client().sendBytes(server.client()
          .request("fhir/R4/" + Tus.binaryVersion(head)).header("Accept", "*/*").GET());
      assertThat(raw.body()).isEqualTo(content);
      assertThat(raw.headers().firstValue("Content-Type")).contains("video/mp4");
    }
  }
}
