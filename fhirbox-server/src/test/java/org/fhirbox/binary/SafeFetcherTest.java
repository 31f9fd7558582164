package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The SSRF guard. Forbidden targets are literal IPs or {@code localhost}, refused before any
 * connection; the only traffic goes to the test's own server on 127.0.0.1.
 */
class SafeFetcherTest {
  private Upstream upstream;
  private Upstream other;

  @BeforeEach
  void start() throws Exception {
    upstream = new Upstream();
    other = new Upstream();
  }

  @AfterEach
  void stop() {
    upstream.close();
    other.close();
  }

  private static SafeFetcher fetcher(List<String> allowed, List<String> ignored) {
    return new SafeFetcher(new UrlPolicy(allowed, ignored), new SafeFetcher.Settings(Duration.ofSeconds(2),
        Duration.ofSeconds(5), Duration.ofSeconds(10), 5, 1 << 20, 0, Duration.ofSeconds(30)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "::1", "169.254.169.254", "10.0.0.1", "172.16.0.1", "192.168.1.1",
      "100.64.0.1", "224.0.0.1", "0.0.0.0", "::ffff:127.0.0.1", "fe80::1", "fc00::1", "255.255.255.255", "::",
      "::127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "2002:7f00:1::", "ff02::1", "127.1.2.3",
      "2001:db8::1", "2001:db8:ffff:ffff::1", "64:ff9b:1::a00:1", "64:ff9b:1:ffff::808:808",
      "::ffff:0:7f00:1", "::ffff:0:a9fe:a9fe", "::ffff:0:a00:1", "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
      "3fff::1", "3fff:fff:ffff:ffff::1", "2001:2::1", "2001:10::1", "2001:1ff:ffff::1", "100::1", "100:0:0:1::1",
      "5f00::1", "5f00:ffff::1", "192.88.99.0", "192.88.99.255", "2002:c058:6301::", "64:ff9b::c058:6301",
      "fd00:ec2::254", "100.100.100.200"})
  void forbiddenAddressClassesAreRefused(String ip) {
    assertThat(AddressGuard.refusal(AddressGuard.literal(ip))).isNotNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"93.184.215.14", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
      "64:ff9b::808:808", "::ffff:0:808:808", "2001:4860:4860::8888", "2001:200::1", "100:0:0:2::1", "5f01::1",
      "192.88.98.255", "192.88.100.1"})
  void publicAddressesPass(String ip) {
    assertThat(AddressGuard.refusal(AddressGuard.literal(ip))).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://127.0.0.1/x", "https://[::1]/x", "https://169.254.169.254/latest/meta-data/",
      "https://10.0.0.1/x", "https://172.16.0.1/x", "https://192.168.1.1/x", "https://100.64.0.1/x",
      "https://224.0.0.1/x", "https://0.0.0.0/x", "https://[::ffff:127.0.0.1]/x", "https://[fe80::1]/x",
      "https://[fc00::1]/x", "https://localhost/x", "https://localhost:8443/x"})
  void defaultPolicyRefusesInternalTargetsAfterResolution(String url) throws Exception {
    try (SafeFetcher f = fetcher(List.of(), List.of())) {
      assertThatThrownBy(() -> f.open(url))
          .isInstanceOfSatisfying(FetchException.class, e -> {
            assertThat(e.kind()).isEqualTo(FetchException.Kind.REFUSED);
            assertThat(e.getMessage()).contains("which is not fetched");
          });
    }
  }

  @Test
  void defaultPolicyRefusesPlainHttpWithoutResolving() throws Exception {
    try (SafeFetcher f = fetcher(List.of(), List.of())) {
      assertThatThrownBy(() -> f.open(upstream.origin() + "/x"))
          .isInstanceOfSatisfying(FetchException.class, e -> {
            assertThat(e.kind()).isEqualTo(FetchException.Kind.REFUSED);
            assertThat(e.getMessage()).contains("only https");
          });
    }
    assertThat(upstream.hits("/x")).isZero();
  }

  @Test
  void explicitAllowListPrefixPermitsLoopbackAndStreamsTheBody() throws Exception {
    byte[] body = Upstream.content(100_000, 1);
    upstream.serve("/files/a.bin", "image/png", body);
    try (SafeFetcher f = fetcher(List.of(upstream.origin() + "/files/"), List.of());
        SafeFetcher.Fetched got = f.open(upstream.origin() + "/files/a.bin")) {
      assertThat(got.contentType()).isEqualTo("image/png");
      assertThat(got.contentLength()).isEqualTo(body.length);
      try (InputStream in = got.body()) {
        assertThat(in.readAllBytes()).isEqualTo(body);
      }
    }
  }

  @Test
  void allowListRefusesOtherPathsAndIgnoreListWins() throws Exception {
    upstream.serve("/files/secret/a", "text/plain", new byte[] {1});
    upstream.serve("/other", "text/plain", new byte[] {1});
    try (SafeFetcher f = fetcher(List.of(upstream.origin() + "/files/"), List.of(upstream.origin() + "/files/secret/"))) {
      assertThatThrownBy(() -> f.open(upstream.origin() + "/other"))
          .hasMessageContaining("not on the allow list");
      assertThatThrownBy(() -> f.open(upstream.origin() + "/files/secret/a"))
          .hasMessageContaining("ignore list");
    }
    assertThat(upstream.hits("/other")).isZero();
    assertThat(upstream.hits("/files/secret/a")).isZero();
  }

  @Test
  void prefixMatchingComparesHostsExactly() {
    UrlPolicy p = new UrlPolicy(List.of("https://cdn.example.org"), List.of());
    assertThat(p.permits("https://cdn.example.org/a.mp4")).isTrue();
    assertThat(p.permits("https://CDN.example.org:443/a.mp4")).isTrue();
    assertThat(p.permits("https://cdn.example.org.evil.test/a.mp4")).isFalse();
    assertThat(p.permits("https://cdn.example.org@evil.test/a.mp4")).isFalse();
    assertThat(p.permits("https://cdn.example.org:8443/a.mp4")).isFalse();
    assertThat(p.permits("http://cdn.example.org/a.mp4")).isFalse();
    assertThat(p.namesHostExplicitly("https", "cdn.example.org", 443)).isTrue();
    assertThat(p.namesHostExplicitly("https", "CDN.example.org.", 443)).isTrue();
    assertThat(p.namesHostExplicitly("https", "cdn.example.org", 80)).isFalse();
    assertThat(p.namesHostExplicitly("http", "cdn.example.org", 443)).isFalse();
    assertThat(p.namesHostExplicitly(null, "cdn.example.org", 443)).isFalse();
  }

  @Test
  void ignoredHostsAreMatchedWhateverTheirSpelling() {
    UrlPolicy p = new UrlPolicy(List.of(), List.of("https://blocked.example/", "https://93.184.215.14/",
        "https://[2001:db8::1]/"));
    for (String url : List.of("https://blocked.example./x", "https://BLOCKED.example./x",
        "https://[::ffff:93.184.215.14]/", "https://[::ffff:5db8:d70e]/x", "https://[2001:0db8:0:0::0001]/x")) {
      assertThat(p.refusal(url)).as(url).hasValue("the URL is on the ignore list (FHIRBOX_INGEST_IGNORED_URL_PREFIXES)");
    }
    assertThat(p.permits("https://unblocked.example./x")).isTrue();
    UrlPolicy trailing = new UrlPolicy(List.of("https://cdn.example.org./files/"), List.of());
    assertThat(trailing.permits("https://cdn.example.org/files/a")).isTrue();
  }

  @Test
  void anAllowListPrefixLiftsTheAddressGuardForItsOwnSchemeOnly() {
    UrlPolicy httpOnly = new UrlPolicy(List.of("http://10.1.2.3:443/files/"), List.of());
    assertThat(httpOnly.namesHostExplicitly("http", "10.1.2.3", 443)).isTrue();
    assertThat(httpOnly.namesHostExplicitly("HTTP", "10.1.2.3", 443)).isTrue();
    assertThat(httpOnly.namesHostExplicitly("https", "10.1.2.3", 443)).isFalse();
    // over the wire the guard is lifted for the prefix's own scheme:
    // explicitAllowListPrefixPermitsLoopbackAndStreamsTheBody
  }

  @Test
  void onlyHttpUrlsAreJudgedFurtherWhateverTheSchemesCase() {
    UrlPolicy p = new UrlPolicy(List.of(), List.of());
    assertThat(p.permits("HTTPS://cdn.example.org/a.mp4")).isTrue();
    assertThat(p.permits("Https://cdn.example.org/a.mp4")).isTrue();
    assertThat(p.refusal("HTTP://cdn.example.org/a.mp4")).hasValue("only https URLs are fetched");
    for (String url : List.of("Binary/abc", "urn:uuid:5b2ba6a6-1a3b-4d8e-9f7a-0c1d2e3f4a5b", "ftp://x.example/a",
        "/fhir/R4/Binary/abc", "", " https://cdn.example.org/a.mp4", "httpx://cdn.example.org/a")) {
      assertThat(p.refusal(url)).as(url).hasValue("only http(s) URLs can be fetched");
    }
  }

  @Test
  void redirectsAreFollowedWithTheSameChecks() throws Exception {
    byte[] body = Upstream.content(1000, 2);
    upstream.serve("/files/final", "text/plain", body);
    upstream.on("/files/moved", ex -> {
      ex.getResponseHeaders().set("Location", "/files/final");
      ex.sendResponseHeaders(302, -1);
    });
    upstream.on("/files/to-metadata", ex -> {
      ex.getResponseHeaders().set("Location", "http://169.254.169.254/latest/meta-data/");
      ex.sendResponseHeaders(302, -1);
    });
    other.serve("/files/x", "text/plain", body);
    upstream.on("/files/to-other", ex -> {
      ex.getResponseHeaders().set("Location", other.origin() + "/files/x");
      ex.sendResponseHeaders(307, -1);
    });
    try (SafeFetcher f = fetcher(List.of(upstream.origin() + "/files/"), List.of())) {
      try (SafeFetcher.Fetched got = f.open(upstream.origin() + "/files/moved")) {
        assertThat(got.body().readAllBytes()).isEqualTo(body);
      }
      assertThatThrownBy(() -> f.open(upstream.origin() + "/files/to-metadata"))
          .isInstanceOfSatisfying(FetchException.class, e -> {
            assertThat(e.kind()).isEqualTo(FetchException.Kind.REFUSED);
            assertThat(e.getMessage()).contains("redirect to http://169.254.169.254");
          });
      assertThatThrownBy(() -> f.open(upstream.origin() + "/files/to-other"))
          .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.kind())
              .isEqualTo(FetchException.Kind.REFUSED));
    }
    assertThat(other.hits("/files/x")).isZero();
  }

  @Test
  void redirectLoopsStopAfterTheLimit() throws Exception {
    upstream.on("/files/loop", ex -> {
      ex.getResponseHeaders().set("Location", "/files/loop");
      ex.sendResponseHeaders(302, -1);
    });
    try (SafeFetcher f = fetcher(List.of(upstream.origin() + "/files/"), List.of())) {
      assertThatThrownBy(() -> f.open(upstream.origin() + "/files/loop"))
          .hasMessageContaining("more than 5 redirects");
    }
    assertThat(upstream.hits("/files/loop")).isEqualTo(6);
  }

  @Test
  void theTotalTimeoutCoversEveryRedirectTogether() throws Exception {
    // each hop answers within the total timeout (2 s) on its own; the four together take 3.2 s
    for (int i = 1; i <= 4; i++) {
      int hop = i;
      upstream.on("/files/slow" + hop, ex -> {
        try {
          Thread.sleep(800);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        if (hop < 4) {
          ex.getResponseHeaders().set("Location", "/files/slow" + (hop + 1));
          ex.sendResponseHeaders(302, -1);
        } else {
          Upstream.send(ex, 200, "text/plain", new byte[] {1});
        }
      });
    }
    long start = System.nanoTime();
    try (SafeFetcher f = new SafeFetcher(new UrlPolicy(List.of(upstream.origin() + "/files/"), List.of()),
        new SafeFetcher.Settings(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(2), 5, 1 << 20, 0,
            Duration.ofSeconds(30)))) {
      assertThatThrownBy(() -> f.open(upstream.origin() + "/files/slow1"))
          .isInstanceOfSatisfying(FetchException.class, e -> {
            assertThat(e.kind()).isEqualTo(FetchException.Kind.TRANSIENT);
            assertThat(e.detail()).isEqualTo(FetchException.Detail.UPSTREAM_TIMED_OUT);
          })
          // Jetty's request timeout or the wait for the answer's head, whichever fires first
          .hasMessage("the fetch did not finish within 2 s (FHIRBOX_INGEST_TIMEOUT)");
    }
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(3_000));
    assertThat(upstream.hits("/files/slow4")).isZero();
  }

  @Test
  void statusCodesAreClassifiedForRetry() throws Exception {
    upstream.on("/files/503", ex -> Upstream.send(ex, 503, "text/plain", new byte[] {1}));
    upstream.on("/files/403", ex -> Upstream.send(ex, 403, "text/plain", new byte[] {1}));
    upstream.on("/files/big", ex -> Upstream.send(ex, 200, "text/plain", new byte[(1 << 20) + 1]));
    try (SafeFetcher f = fetcher(List.of(upstream.origin() + "/files/"), List.of())) {
      assertThatThrownBy(() -> f.open(upstream.origin() + "/files/503"))
          .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.kind())
              .isEqualTo(FetchException.Kind.TRANSIENT));
      assertThatThrownBy(() -> f.open(upstream.origin() + "/files/403"))
          .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.kind())
              .isEqualTo(FetchException.Kind.PERMANENT));
      assertThatThrownBy(() -> f.open(upstream.origin() + "/files/big"))
          .isInstanceOfSatisfying(FetchException.class, e -> {
            assertThat(e.kind()).isEqualTo(FetchException.Kind.PERMANENT);
            assertThat(e.getMessage()).contains("limit");
          });
    }
  }
  @ParameterizedTest
  @ValueSource(strings = {"/public/../private/secret.txt", "/public/%2e%2e/private/secret.txt",
      "/public/%2E%2E/private/secret.txt", "/public/..%2fprivate/secret.txt", "/public/.%2e/private/secret.txt",
      "/public/%2e./private/secret.txt", "/public/..%5cprivate/secret.txt", "/public/..;/private/secret.txt",
      "/public/%252e%252e/private/secret.txt", "/public//../../private/secret.txt", "/public/./../private/secret.txt"})
  void pathsLeavingTheAllowListPrefixAreRefusedBeforeAnyRequest(String path) throws Exception {
    upstream.resolvingDotSegments().serve("/private/secret.txt", "text/plain", "secret".getBytes());
    try (SafeFetcher f = fetcher(List.of(upstream.origin() + "/public/"), List.of())) {
      assertThatThrownBy(() -> f.open(upstream.origin() + path))
          .isInstanceOfSatisfying(FetchException.class, e -> assertThat(e.kind())
              .isEqualTo(FetchException.Kind.REFUSED));
    }
    assertThat(upstream.rawPaths()).isEmpty();
  }

  @Test
  void theNormalisedUrlIsExactlyWhatIsRequested() throws Exception {
    byte[] body = Upstream.content(500, 3);
    upstream.resolvingDotSegments().serve("/public/a/~jo-x.txt", "text/plain", body);
    try (SafeFetcher f = fetcher(List.of(upstream.origin() + "/public/"), List.of());
        SafeFetcher.Fetched got = f.open(upstream.origin().replace("http", "HTTP")
            + "/public/a/./b/../%7Ejo%2dx.txt#fragment")) {
      assertThat(got.body().readAllBytes()).isEqualTo(body);
      assertThat(got.uri().toString()).isEqualTo(upstream.origin() + "/public/a/~jo-x.txt");
    }
    assertThat(upstream.rawPaths()).containsExactly("/public/a/~jo-x.txt");
  }

  @Test
  void anEndlessResponseHeaderFailsPermanentlyAtTheHeadLimit() throws Exception {
    // a raw upstream: the status line, then one header line that never ends (up to 64 MiB)
    java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    try (java.net.ServerSocket raw = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getByAddress(new byte[] {127, 0, 0, 1}))) {
      Thread t = new Thread(() -> {
        try (java.net.Socket s = raw.accept(); java.io.OutputStream out = s.getOutputStream()) {
          // the request's head first, as an HTTP server reads it
          InputStream in = s.getInputStream();
          for (int ends = 0; ends < 4; ) {
            int ch = in.read();
            if (ch < 0) {
              return;
            }
            ends = ch == '\r' || ch == '\n' ? ends + 1 : 0;
          }
          out.write("HTTP/1.1 200 OK\r\nX-Endless: ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          byte[] chunk = "a".repeat(8192).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
          while (written.get() < 64L << 20) {
            out.write(chunk);
            written.addAndGet(chunk.length);
          }
          in.read(); // holds the connection until the client closes it
        } catch (java.io.IOException e) {
          // the client closed the connection
        } finally {
          done.countDown();
        }
      }, "endless-header");
      t.setDaemon(true);
      t.start();
      String origin = "http://127.0.0.1:" + raw.getLocalPort();
      long start = System.nanoTime();
      try (SafeFetcher f = new SafeFetcher(new UrlPolicy(List.of(origin + "/files/"), List.of()),
          new SafeFetcher.Settings(Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(5), 5, 1 << 20, 0,
              Duration.ofSeconds(30)))) {
        assertThatThrownBy(() -> f.open(origin + "/files/x"))
            .isInstanceOfSatisfying(FetchException.class, e -> {
              assertThat(e.kind()).as(e.getMessage()).isEqualTo(FetchException.Kind.PERMANENT);
              assertThat(e.getMessage()).contains("response head").contains("larger than 65536 bytes");
            });
      }
      // ended by the limit, before any of the 5 s timeouts could end it (a loaded machine takes seconds for the 64 KiB)
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(4900));
      assertThat(done.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the connection closed").isTrue();
      // what the kernel's socket buffers took besides the 64 KiB read
      assertThat(written.get()).isLessThan(16L << 20);
    }
  }

  @Test
  void redirectsAreNormalisedAndJudgedTheSameWay() throws Exception {
    byte[] body = Upstream.content(100, 4);
    upstream.resolvingDotSegments().serve("/public/ok.txt", "text/plain", body);
    upstream.serve("/private/secret.txt", "text/plain", "secret".getBytes());
    upstream.on("/public/to-dots", ex -> {
      ex.getResponseHeaders().set("Location", "/public/x/../ok.txt");
      ex.sendResponseHeaders(302, -1);
    });
    upstream.on("/public/to-encoded-dots", ex -> {
      ex.getResponseHeaders().set("Location", "/public/%2e%2e/private/secret.txt");
      ex.sendResponseHeaders(302, -1);
    });
    try (SafeFetcher f = fetcher(List.of(upstream.origin() + "/public/"), List.of())) {
      try (SafeFetcher.Fetched got = f.open(upstream.origin() + "/public/to-dots")) {
        assertThat(got.body().readAllBytes()).isEqualTo(body);
      }
      assertThatThrownBy(() -> f.open(upstream.origin() + "/public/to-encoded-dots"))
          .isInstanceOfSatisfying(FetchException.class, e -> {
            assertThat(e.kind()).isEqualTo(FetchException.Kind.REFUSED);
            assertThat(e.getMessage()).contains("redirect to").contains("dot-segments");
          });
    }
    assertThat(upstream.rawPaths()).containsExactly("/public/to-dots", "/public/ok.txt", "/public/to-encoded-dots");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0177.0.0.1", "127.0.0.01", "0127.0.0.1", "0x7f.0.0.1", "0X7F.0.0.1", "0x7f000001",
      "127.1", "127.0.1", "2130706433", "017700000001", "127.0.0.1.", "127.0.0.1.5", "256.0.0.1", "1.2.3.0x4",
      "[::ffff:0177.0.0.1]"})
  void ambiguousIpv4HostsAreRefusedBeforeAnyRequest(String host) throws Exception {
    int port = Integer.parseInt(upstream.origin().substring(upstream.origin().lastIndexOf(':') + 1));
    upstream.serve("/files/x", "text/plain", new byte[] {1});
    try (SafeFetcher f = fetcher(List.of(upstream.origin() + "/files/"), List.of())) {
      for (String url : List.of("http://" + host + ":" + port + "/files/x", "https://" + host + "/files/x")) {
        assertThatThrownBy(() -> f.open(url))
            .isInstanceOfSatisfying(FetchException.class, e -> {
              assertThat(e.kind()).isEqualTo(FetchException.Kind.REFUSED);
              assertThat(e.getMessage()).contains("ambiguous IPv4 address");
            });
      }
    }
    assertThat(upstream.rawPaths()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://0177.0.0.1/", "http://127.1/files/", "https://cdn.example.org/files/%2e%2e/"})
  void ambiguousAllowListPrefixesAreRefusedAtStart(String prefix) {
    assertThatThrownBy(() -> new UrlPolicy(List.of(prefix), List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void allowListPrefixesMatchWholePathSegments() {
    UrlPolicy p = new UrlPolicy(List.of("https://cdn.example.org/files"), List.of());
    assertThat(p.permits("https://cdn.example.org/files")).isTrue();
    assertThat(p.permits("https://cdn.example.org/files/a.png")).isTrue();
    assertThat(p.permits("https://cdn.example.org/files-private/a.png")).isFalse();
    assertThat(p.permits("https://cdn.example.org/files/../files-private/a.png")).isFalse();
    assertThat(p.permits("https://cdn.example.org/%66iles/a.png")).isTrue();
  }
}
