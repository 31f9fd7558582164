package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A base URL with credentials ({@code user:password@}) is refused, and no message shows them or a
 * token in a query, whether a URL is refused or a request to it fails.
 */
class UrlCredentialsTest {
  @RegisterExtension
  final PeerServer peer = PeerServer.started();

  @Test
  void anUnparsableBaseUrlIsRefusedWithoutItsUserinfoOrQuery() {
    assertThatThrownBy(() -> FhirboxClient.builder().baseUrl("http://alice:pa55word@fhir box.example/?key=k3y").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("baseUrl must be an absolute http(s) URL")
        .hasMessageContaining("fhir box.example")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("alice", "pa55word", "k3y"))
        .hasNoCause();
  }

  @Test
  void aBaseUrlOfAnotherSchemeIsRefusedWithoutItsUserinfoOrQuery() {
    assertThatThrownBy(() -> FhirboxClient.builder().baseUrl("ftp://alice:pa55word@example.org/?key=k3y").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ftp://")
        .hasMessageContaining("example.org")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("alice", "pa55word", "k3y"));
  }

  @Test
  void aBaseUrlWithUserinfoIsRefusedWithoutIt() {
    assertThatThrownBy(() -> FhirboxClient.builder()
        .baseUrl(peer.root().replace("http://", "http://alice:pa55word@")).accessToken("t").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must not hold user:password")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("alice", "pa55word"));
  }

  @Test
  void aDownloadOfAMalformedUrlIsRefusedWithoutItsUserinfo() {
    FhirboxClient client = peer.client(1);

    assertThatThrownBy(() -> client.download("http://alice:pa55word@bad host/x?sig=k3y", OutputStream.nullOutputStream()))
        .isInstanceOf(IllegalArgumentException.class)
        .satisfies(e -> assertThat(e.getMessage()).contains("bad host").doesNotContain("alice", "pa55word", "k3y"));
  }
}
