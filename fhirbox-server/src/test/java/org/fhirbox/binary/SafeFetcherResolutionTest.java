package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the fetcher does with what a host name resolves to. Names resolve through a
 * {@link HostResolver} of the test's ({@code .example} names no real resolver answers), so a
 * name can point at any address, the test's own server on 127.0.0.1 included: a DNS answer an
 * attacker controls (rebinding) is one such answer.
 */
class SafeFetcherResolutionTest {
  private Upstream upstream;
  private int port;
  private final CountDownLatch stuck = new CountDownLatch(1);

  @BeforeEach
  void start() throws Exception {
    upstream = new Upstream();
    port = Integer.parseInt(upstream.origin().substring(upstream.origin().lastIndexOf(':') + 1));
  }

  @AfterEach
  void stop() {
    stuck.countDown();
    upstream.close();
  }

  /** Resolves each name of {@code names} to its addresses, and no other. */
  private static HostResolver names(Map<String, String> names) {
    return host -> {
      String ip = names.get(host);
      if (ip == null) {
        throw new UnknownHostException(host);
      }
      return List.of(AddressGuard.literal(ip));
    };
  }

  private static SafeFetcher fetcher(UrlPolicy policy, HostResolver resolver, Duration connectTimeout) {
    return new SafeFetcher(policy, new SafeFetcher.Settings(connectTimeout, Duration.ofSeconds(5),
        Duration.ofSeconds(20), 5, 1 << 20, 0, Duration.ofSeconds(30)), resolver);
  }

  private static SafeFetcher fetcher(UrlPolicy policy, HostResolver resolver) {
    return fetcher(policy, resolver, Duration.ofSeconds(2));
  }

  private static void assertRefusedAddress(SafeFetcher f, String url, String kind) {
    assertThatThrownBy(() -> f.open(url)).isInstanceOfSatisfying(FetchException.class, e -> {
      assertThat(e.kind()).as(e.getMessage()).isEqualTo(FetchException.Kind.REFUSED);
      assertThat(e.aboutHostAddress()).isTrue();
      assertThat(e.getMessage()).contains("resolves to a " + kind).contains("which is not fetched");
    });
  }

  @Test
  void aNameOnTheAllowListThatResolvesToLoopbackIsRefused() throws Exception {
    upstream.serve("/files/a", "text/plain", new byte[] {1});
    String prefix = "http://files.example:" + port + "/files/";
    try (SafeFetcher f = fetcher(new UrlPolicy(List.of(prefix), List.of()),
        names(Map.of("files.example", "127.0.0.1")))) {
      assertRefusedAddress(f, prefix + "a", "loopback address");
    }
    assertThat(upstream.rawPaths()).isEmpty();
  }

  @Test
  void anAllowedInternalBlockLetsAnAllowListedNameReachItOverTheAddressThatWasChecked() throws Exception {
    byte[] body = Upstream.content(10_000, 7);
    upstream.serve("/files/a", "application/octet-stream", body);
    String prefix = "http://files.example:" + port + "/files/";
    AtomicInteger lookups = new AtomicInteger();
    HostResolver resolver = names(Map.of("files.example", "127.0.0.1"));
    try (SafeFetcher f = fetcher(new UrlPolicy(List.of(prefix), List.of(), List.of("127.0.0.0/8")), host -> {
      lookups.incrementAndGet();
      return resolver.resolve(host);
    }); SafeFetcher.Fetched got = f.open(prefix + "a")) {
      assertThat(got.body().readAllBytes()).isEqualTo(body);
    }
    // no system resolver knows files.example: the connection went to the one answer that was judged
    assertThat(lookups).hasValue(1);
    assertThat(upstream.hits("/files/a")).isEqualTo(1);
  }

  @Test
  void anAllowedInternalBlockCoversOnlyHostsAnAllowListPrefixNames() throws Exception {
    upstream.serve("/files/a", "text/plain", new byte[] {1});
    UrlPolicy policy = new UrlPolicy(List.of("http://files.example:" + port + "/files/",
        "http://other.example:" + port + "/"), List.of(), List.of("127.0.0.0/8"));
    try (SafeFetcher f = fetcher(policy, names(Map.of("files.example", "10.0.0.1", "other.example", "127.0.0.1")))) {
      // the block is 127/8: 10.0.0.1 stays refused for a listed name
      assertRefusedAddress(f, "http://files.example:" + port + "/files/a", "private address");
    }
    assertThat(upstream.rawPaths()).isEmpty();
  }

  @Test
  void linkLocalAndCloudMetadataAddressesAreRefusedForANameWhateverTheAllowedBlocks() throws Exception {
    String prefix = "http://meta.example:" + port + "/";
    for (String ip : List.of("169.254.169.254", "169.254.1.1", "fd00:ec2::254", "100.100.100.200", "fe80::1")) {
      UrlPolicy policy = new UrlPolicy(List.of(prefix), List.of(),
          List.of("169.254.0.0/16", "fc00::/7", "fe80::/10", "100.64.0.0/10"));
      try (SafeFetcher f = fetcher(policy, names(Map.of("meta.example", ip)))) {
        assertThatThrownBy(() -> f.open(prefix + "latest/meta-data/")).as(ip)
            .isInstanceOfSatisfying(FetchException.class, e -> {
              assertThat(e.kind()).isEqualTo(FetchException.Kind.REFUSED);
              assertThat(e.getMessage()).contains("which is not fetched");
            });
      }
    }
    // an IP literal prefix names its address itself, and is the one way to allow such an address
    UrlPolicy literal = new UrlPolicy(List.of("http://169.254.169.254/"), List.of());
    assertThat(literal.addressRefusal("http", "169.254.169.254", 80, AddressGuard.literal("169.254.169.254")))
        .isNull();
  }

  @Test
  void allowedInternalBlocksAreCheckedAtStart() {
    for (String bad : List.of("10.0.0.0/33", "10.0.0.0/", "example.org/8", "fc00::/129", "10.0.0.1/8",
        "cafe/16", "10.1/16", "010.0.0.0/8")) {
      assertThatThrownBy(() -> new UrlPolicy(List.of("https://files.example/"), List.of(), List.of(bad)))
          .as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("FHIRBOX_INGEST_ALLOWED_INTERNAL_CIDRS");
    }
    assertThatThrownBy(() -> new UrlPolicy(List.of(), List.of(), List.of("10.0.0.0/8")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FHIRBOX_INGEST_ALLOWED_URL_PREFIXES");
  }

  @Test
  void aResolverThatDoesNotAnswerFailsTheFetchWithinTheConnectTimeout() throws Exception {
    HostResolver hanging = host -> {
      try {
        stuck.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new UnknownHostException(host);
    };
    long start = System.nanoTime();
    try (SafeFetcher f = fetcher(new UrlPolicy(List.of(), List.of()), hanging, Duration.ofSeconds(1))) {
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> f.open("https://slow.example/file.pdf"))
            .isInstanceOfSatisfying(FetchException.class, e -> {
              assertThat(e.kind()).as(e.getMessage()).isEqualTo(FetchException.Kind.TRANSIENT);
              assertThat(e.detail()).isEqualTo(FetchException.Detail.RESOLVER_TIMED_OUT);
              assertThat(e.getMessage()).isEqualTo("host slow.example could not be resolved within 1 s");
            });
      }
    }
    // three fetches, each ended by the 1 s bound, not by the 20 s total timeout
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
  }

  @Test
  void anIpLiteralIsNotLookedUp() throws Exception {
    upstream.serve("/files/a", "text/plain", new byte[] {1});
    HostResolver none = host -> {
      throw new AssertionError("looked up " + host);
    };
    try (SafeFetcher f = fetcher(new UrlPolicy(List.of(upstream.origin() + "/files/"), List.of()), none);
        SafeFetcher.Fetched got = f.open(upstream.origin() + "/files/a")) {
      assertThat(got.body().readAllBytes()).containsExactly(1);
    }
  }

  @Test
  void aResolverThatAnswersNoAddressIsAHostThatDoesNotResolve() throws Exception {
    try (SafeFetcher f = fetcher(new UrlPolicy(List.of(), List.of()), host -> List.of())) {
      assertThatThrownBy(() -> f.open("https://empty.example/file.pdf"))
          .isInstanceOfSatisfying(FetchException.class, e -> {
            assertThat(e.kind()).as(e.getMessage()).isEqualTo(FetchException.Kind.PERMANENT);
            assertThat(e.aboutHostAddress()).isTrue();
            assertThat(e.getMessage()).isEqualTo("unknown host empty.example");
          });
    }
  }

  /**
   * The JDK reports a resolver that failed and a name that does not exist alike, as an
   * UnknownHostException with getaddrinfo's text after the host; an answer from its cache of a
   * failed lookup has the host alone, which is read as the failure it caches.
   */
  @Test
  void theSystemResolverTellsAResolverFailureFromANameThatDoesNotExist() throws Exception {
    AtomicLong now = new AtomicLong();
    Map<String, String> answers = new java.util.HashMap<>(Map.of(
        "servfail.example", "servfail.example: Temporary failure in name resolution",
        "refused.example", "refused.example: Non-recoverable failure in name resolution",
        "missing.example", "missing.example: Name or service not known"));
    SystemResolver system = new SystemResolver(host -> {
      throw new UnknownHostException(answers.get(host));
    }, TimeUnit.SECONDS.toNanos(11), now::get);

    assertThatThrownBy(() -> system.resolve("servfail.example"))
        .isInstanceOfSatisfying(HostResolver.TemporaryFailure.class,
            e -> assertThat(e.reason()).isEqualTo("Temporary failure in name resolution"));
    assertThatThrownBy(() -> system.resolve("refused.example")).isInstanceOf(HostResolver.TemporaryFailure.class);
    assertThatThrownBy(() -> system.resolve("missing.example")).isInstanceOf(UnknownHostException.class)
        .isNotInstanceOf(HostResolver.TemporaryFailure.class);

    // the JDK's cache answers: the host alone
    answers.replaceAll((host, message) -> host);
    now.set(TimeUnit.SECONDS.toNanos(10));
    assertThatThrownBy(() -> system.resolve("servfail.example"))
        .isInstanceOfSatisfying(HostResolver.TemporaryFailure.class,
            e -> assertThat(e.reason()).isEqualTo("Temporary failure in name resolution"));
    assertThatThrownBy(() -> system.resolve("missing.example")).isNotInstanceOf(HostResolver.TemporaryFailure.class);
    // past the cache's time a bare answer is the JDK's own again: a name without an address
    now.set(TimeUnit.SECONDS.toNanos(12));
    assertThatThrownBy(() -> system.resolve("servfail.example")).isInstanceOf(UnknownHostException.class)
        .isNotInstanceOf(HostResolver.TemporaryFailure.class);
  }
}
