package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The normal form that ingestion matches and fetches (RFC 3986 §6.2.2, §5.2.4). */
class FetchUrlTest {

  @ParameterizedTest
  @CsvSource({
      "HTTPS://CDN.Example.ORG/a.png, https://cdn.example.org/a.png",
      "https://cdn.example.org:443/a.png, https://cdn.example.org/a.png",
      "http://cdn.example.org:8080, http://cdn.example.org:8080/",
      "https://h.example/a/b/c/./../../g, https://h.example/a/g",
      "https://h.example/mid/content=5/../6, https://h.example/mid/6",
      "https://h.example/a/.., https://h.example/",
      "https://h.example/a/b/., https://h.example/a/b/",
      "https://h.example/../../x, https://h.example/x",
      "https://h.example/%7Efoo/%41%62%2D%5f%2E%30.txt, https://h.example/~foo/Ab-_.0.txt",
      "https://h.example/a%2fb%3a?q=%2e%2e, ",
      "https://h.example/a%3ab%c3%a9?x=1#frag, https://h.example/a%3Ab%C3%A9?x=1",
      "https://h.example/caf\u00e9, https://h.example/caf%C3%A9",
      "https://[2001:DB8::1]:8443/x, https://[2001:db8::1]:8443/x",
      "https://192.0.2.1/x, https://192.0.2.1/x",
      "https://1e100.net/x, https://1e100.net/x",
      "https://123.example/x, https://123.example/x",
      "https://Blocked.Example./x, https://blocked.example/x",
      "https://[::ffff:93.184.215.14]/x, https://93.184.215.14/x",
      "https://[::FFFF:5db8:d70e]:8443/x, https://93.184.215.14:8443/x",
      "https://[2001:0db8:0000:0000:0001:0000:0000:0001]/x, https://[2001:db8::1:0:0:1]/x",
      "https://[0:0:0:0:0:0:0:1]/x, https://[::1]/x",
      "https://[::ffff:0:a00:1]/x, https://[::ffff:0:a00:1]/x"})
  void normalises(String in, String expected) {
    if (expected == null) {
      assertThatThrownBy(() -> FetchUrl.parse(in)).isInstanceOf(IllegalArgumentException.class);
    } else {
      assertThat(FetchUrl.parse(in).toString()).isEqualTo(expected);
      assertThat(FetchUrl.parse(expected).toString()).as("idempotent").isEqualTo(expected);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"/a/%2e%2e/b", "/a/.%2e/b", "/a/%2e./b", "/a/%2e/b", "/a/..%2f..%2fb", "/a%2Fb",
      "/a%5cb", "/a/..;/b", "/a/.;x/b", "/a/%2e%2e;x/b", "/a/%252e%252e/b", "/a/%252fb"})
  void encodedSlashesAndDotSegmentsAreRefused(String path) {
    assertThatThrownBy(() -> FetchUrl.parse("https://h.example" + path))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not fetched");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0177.0.0.1", "127.0.0.01", "00.0.0.0", "0x7f.0.0.1", "0x7f000001", "0x", "127.1",
      "127.0.1", "2130706433", "127.0.0.1.", "1.2.3.4.5", "256.1.1.1", "example.0x10", "a.b.c.99"})
  void ambiguousIpv4HostsAreRefused(String host) {
    assertThatThrownBy(() -> FetchUrl.parse("https://" + host + "/x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ambiguous IPv4 address");
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://user:pw@h.example/x", "ftp://h.example/x", "file:///etc/passwd", "https:///x",
      "https://%31%32%37.0.0.1/x", "Binary/123", "urn:uuid:0b1f", "https://a.example../x", "https://./x"})
  void otherUnfetchableUrlsAreRefused(String url) {
    assertThatThrownBy(() -> FetchUrl.parse(url)).isInstanceOf(IllegalArgumentException.class);
  }
}
