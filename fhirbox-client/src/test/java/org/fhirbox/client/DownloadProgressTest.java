package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The progress a download reports when its response says no length (no Content-Length, chunked). */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DownloadProgressTest {
  private static final String SIGNED = "storage/abc-123/1?Expires=1700000000&KeyId=k1&Signature=c2lnbmF0dXJl";

  @RegisterExtension
  final PeerServer peer = PeerServer.started();

  /** Serves {@code data} chunked: the length is known to nobody until the body ends. */
  private void serveChunked(byte[] data) {
    peer.on("/storage/", ex -> {
      ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
      ex.sendResponseHeaders(200, 0);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(data);
      }
    });
  }

  private List<long[]> download(byte[] data) {
    serveChunked(data);
    List<long[]> calls = new CopyOnWriteArrayList<>();
    FhirboxClient client = FhirboxClient.builder().baseUrl(peer.root()).build();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    client.download(peer.root() + SIGNED, out, (done, total) -> calls.add(new long[] {done, total}));
    assertThat(out.toByteArray()).isEqualTo(data);
    return calls;
  }

  @Test
  void aDownloadOfUnknownLengthEndsWithOneCallGivingTheTotal() {
    byte[] data = BinaryTransferTest.randomBytes(300_000);

    List<long[]> calls = download(data);

    assertThat(calls.subList(0, calls.size() - 1)).allSatisfy(call -> assertThat(call[1]).isEqualTo(-1));
    assertThat(calls.get(calls.size() - 1)).containsExactly(data.length, data.length);
  }

  @Test
  void anEmptyDownloadOfUnknownLengthGetsItsOneCallToo() {
    assertThat(download(new byte[0])).singleElement().satisfies(call -> assertThat(call).containsExactly(0, 0));
  }
}
