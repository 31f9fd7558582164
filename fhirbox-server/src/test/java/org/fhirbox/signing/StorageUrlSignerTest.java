package org.fhirbox.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.signing.StorageUrlSigner.Ref;
import org.fhirbox.signing.StorageUrlSigner.Verified;
import org.fhirbox.storage.BlobKey;
import org.junit.jupiter.api.Test;

class StorageUrlSignerTest {
  private static final String BASE = "https://fhir.example.org";
  private static final Duration TTL = Duration.ofMinutes(60);
  private static final Instant T0 = Instant.parse("2030-01-01T10:00:00.250Z");
  private static final SigningKeys KEYS =
      SigningKeys.parse("k2:" + SigningKeysTest.key(2, 32) + ",k1:" + SigningKeysTest.key(1, 32));

  private static StorageUrlSigner signerAt(Instant now) {
    return signerAt(KEYS, now);
  }

  private static StorageUrlSigner signerAt(SigningKeys keys, Instant now) {
    return new StorageUrlSigner(keys, TTL, Clock.fixed(now, ZoneOffset.UTC));
  }

  /** What a servlet container hands the route: the decoded path and decoded query parameters. */
  private record Request(String path, Map<String, String> params) {
    static Request of(String url) {
      URI uri = URI.create(url);
      Map<String, String> params = new LinkedHashMap<>();
      for (String pair : uri.getRawQuery().split("&")) {
        int eq = pair.indexOf('=');
        params.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
      return new Request(uri.getPath(), params);
    }

    Request with(String name, String value) {
      Map<String, String> copy = new LinkedHashMap<>(params);
      if (value == null) {
        copy.remove(name);
      } else {
        copy.put(name, value);
      }
      return new Request(path, copy);
    }
  }

  private static Verified verify(StorageUrlSigner signer, String method, Request r) {
    return signer.verify(method, r.path(), r.params());
  }

  private static int statusOf(Runnable call) {
    try {
      call.run();
    } catch (FhirException e) {
      return e.status();
    }
    throw new AssertionError("expected a FhirException");
  }

  @Test
  void signedUrlHasTheDocumentedShape() {
    String url = signerAt(T0).sign(BASE + "/", "abc-1.x", "3", null);

    assertThat(url).matches("https://fhir\\.example\\.org/storage/abc-1\\.x/3"
        + "\\?Expires=[0-9]+&KeyId=k2&Signature=[A-Za-z0-9_-]{43}");
  }

  @Test
  void signedUrlVerifiesForGetAndHead() {
    StorageUrlSigner signer = signerAt(T0);
    Request r = Request.of(signer.sign(BASE, "abc", "3", null));

    Verified get = verify(signer, "GET", r);
    Verified head = verify(signer, "HEAD", r);

    assertThat(get.binaryId()).isEqualTo("abc");
    assertThat(get.versionId()).isEqualTo("3");
    assertThat(get.downloadFilename()).isNull();
    assertThat(get.expires()).isEqualTo(Instant.ofEpochSecond(Long.parseLong(r.params().get("Expires"))));
    assertThat(head).isEqualTo(get);
  }

  /**
   * A share link says so, signed; one without the mark is taken for a share link only when it has
   * more than 1.1 × TTL left, which an ordinary URL never has.
   */
  @Test
  void aShareLinkIsKnownByItsSignedMarkOrItsLifetime() {
    StorageUrlSigner signer = signerAt(T0);
    BinaryContent c = new BinaryContent("p", "abc", 3, new BlobKey("0".repeat(32)), 1, null, null, "text/plain",
        null, null, T0);
    Request shortShare = Request.of(signer.signFor(BASE, c, null, Duration.ofMinutes(1)));
    assertThat(shortShare.params()).containsEntry("Share", "1");
    assertThat(verify(signer, "GET", shortShare).shareLink()).isTrue();
    assertThat(statusOf(() -> verify(signer, "GET", shortShare.with("Share", null)))).isEqualTo(403);
    assertThat(verify(signer, "GET", Request.of(signer.sign(BASE, c, null))).shareLink()).isFalse();
    assertThat(statusOf(() -> verify(signer, "GET", Request.of(signer.sign(BASE, c, null)).with("Share", "1"))))
        .isEqualTo(403);
    // the documented canonical string of a share link ends in a line "share"
    assertThat(shortShare.params().get("Signature"))
        .isEqualTo(hmacK2("/storage/abc/3", shortShare.params().get("Expires"), "\nshare"));
    // the latest an ordinary URL can expire, and one second more (no mark: as made before it existed)
    long latest = T0.getEpochSecond() + TTL.toSeconds() + TTL.toSeconds() / 10;
    for (long expires : new long[] {latest, latest + 1}) {
      Request unmarked = new Request("/storage/abc/3", Map.of("Expires", Long.toString(expires), "KeyId", "k2",
          "Signature", hmacK2("/storage/abc/3", Long.toString(expires), "")));
      assertThat(verify(signer, "GET", unmarked).shareLink()).as("expires %d", expires).isEqualTo(expires > latest);
    }
  }

  /**
   * A share link's {@code Context} (the versions along its securityContext chain) is signed: it can
   * be neither removed, changed nor added to a link without it, and only a share link carries it.
   * One number, as a link to a Binary filed directly under a resource carries, verifies as before.
   */
  @Test
  void aShareLinksContextVersionIsSigned() {
    StorageUrlSigner signer = signerAt(T0);
    BinaryContent c = new BinaryContent("p", "abc", 3, new BlobKey("0".repeat(32)), 1, null, null, "text/plain",
        null, "Patient/x", T0);
    Request bound = Request.of(signer.signFor(BASE, c, null, Duration.ofDays(1), List.of(7L)));
    assertThat(bound.params()).containsEntry("Share", "1").containsEntry("Context", "7");
    assertThat(verify(signer, "GET", bound).contextVersions()).containsExactly(7L);
    assertThat(bound.params().get("Signature"))
        .isEqualTo(hmacK2("/storage/abc/3", bound.params().get("Expires"), "\nshare\ncontext=7"));
    assertThat(statusOf(() -> verify(signer, "GET", bound.with("Context", null)))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", bound.with("Context", "8")))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", bound.with("Context", "x")))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", bound.with("Context", "7.1")))).isEqualTo(403);
    Request unbound = Request.of(signer.signFor(BASE, c, null, Duration.ofDays(1)));
    assertThat(unbound.params()).doesNotContainKey("Context");
    assertThat(verify(signer, "GET", unbound).contextVersions()).isNull();
    assertThat(statusOf(() -> verify(signer, "GET", unbound.with("Context", "7")))).isEqualTo(403);
    assertThat(verify(signer, "GET", Request.of(signer.sign(BASE, c, null)).with("Context", "7")).contextVersions())
        .as("an ordinary URL: neither covered nor honoured").isNull();
  }

  /**
   * Through Binaries a share link carries a version per step of the chain, dot-separated and signed
   * as one line; a step cannot be dropped or changed, and more than 16 steps are never signed nor verified.
   */
  @Test
  void aShareLinksContextHoldsAVersionPerStepOfTheChain() {
    StorageUrlSigner signer = signerAt(T0);
    BinaryContent c = new BinaryContent("p", "abc", 3, new BlobKey("0".repeat(32)), 1, null, null, "text/plain",
        null, "Binary/b", T0);
    Request chained = Request.of(signer.signFor(BASE, c, null, Duration.ofDays(1), List.of(1L, 3L)));
    assertThat(chained.params()).containsEntry("Context", "1.3");
    assertThat(verify(signer, "GET", chained).contextVersions()).containsExactly(1L, 3L);
    assertThat(chained.params().get("Signature"))
        .isEqualTo(hmacK2("/storage/abc/3", chained.params().get("Expires"), "\nshare\ncontext=1.3"));
    for (String tampered : List.of("1", "1.4", "1.3.1", "1..3", "1.3.", ".1.3")) {
      assertThat(statusOf(() -> verify(signer, "GET", chained.with("Context", tampered)))).as(tampered)
          .isEqualTo(403);
    }
    List<Long> longest = Collections.nCopies(StorageUrlSigner.MAX_CONTEXT_STEPS, 2L);
    assertThat(verify(signer, "GET", Request.of(signer.signFor(BASE, c, null, Duration.ofDays(1), longest)))
        .contextVersions()).isEqualTo(longest);
    List<Long> tooLong = Collections.nCopies(StorageUrlSigner.MAX_CONTEXT_STEPS + 1, 2L);
    assertThatThrownBy(() -> signer.signFor(BASE, c, null, Duration.ofDays(1), tooLong))
        .isInstanceOf(IllegalArgumentException.class);
    String tooLongValue = String.join(".", Collections.nCopies(StorageUrlSigner.MAX_CONTEXT_STEPS + 1, "2"));
    assertThat(statusOf(() -> verify(signer, "GET", chained.with("Context", tooLongValue)))).isEqualTo(403);
    assertThat(Request.of(signer.signFor(BASE, c, null, Duration.ofDays(1), List.of())).params())
        .as("no chain, no Context").doesNotContainKey("Context");
  }

  /** The signature under key k2 of a GET of {@code path} without Download, and {@code more} lines. */
  private static String hmacK2(String path, String expires, String more) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(Base64.getDecoder().decode(SigningKeysTest.key(2, 32)), "HmacSHA256"));
      String canonical = String.join("\n", "fhirbox-storage-v1", "GET", path, expires, "k2", "-") + more;
      return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(canonical.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void otherMethodsDoNotVerify() {
    StorageUrlSigner signer = signerAt(T0);
    Request r = Request.of(signer.sign(BASE, "abc", "3", null));

    assertThat(statusOf(() -> verify(signer, "PUT", r))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "DELETE", r))).isEqualTo(403);
  }

  @Test
  void urlsAreIdenticalWithinOneWindow() {
    // window = ttl / 10 = 6 minutes; T0 is 10:00:00.25, so the expiry rounds up to 11:06.
    String first = signerAt(T0).sign(BASE, "abc", "1", null);
    String later = signerAt(T0.plus(Duration.ofMinutes(5))).sign(BASE, "abc", "1", null);
    String nextWindow = signerAt(T0.plus(Duration.ofMinutes(6))).sign(BASE, "abc", "1", null);

    assertThat(later).isEqualTo(first);
    assertThat(nextWindow).isNotEqualTo(first);
    assertThat(Request.of(first).params().get("Expires"))
        .isEqualTo(Long.toString(Instant.parse("2030-01-01T11:06:00Z").getEpochSecond()));
  }

  @Test
  void lifetimeIsAlwaysBetweenTtlAndElevenTenthsOfIt() {
    for (long offsetMillis = 0; offsetMillis < 2 * 3_600_000L; offsetMillis += 7_919) {
      Instant now = T0.plusMillis(offsetMillis);
      Verified v = verify(signerAt(now), "GET", Request.of(signerAt(now).sign(BASE, "a", "1", null)));
      Duration lifetime = Duration.between(now, v.expires());
      assertThat(lifetime).isBetween(TTL, TTL.multipliedBy(11).dividedBy(10));
    }
  }

  @Test
  void expiredUrlIsGone() {
    Request r = Request.of(signerAt(T0).sign(BASE, "abc", "1", null));
    Instant expires = Instant.ofEpochSecond(Long.parseLong(r.params().get("Expires")));

    assertThat(verify(signerAt(expires.minusMillis(1)), "GET", r).binaryId()).isEqualTo("abc");
    FhirException e = catchFhir(() -> verify(signerAt(expires), "GET", r));
    assertThat(e.status()).isEqualTo(410);
    assertThat(e.getMessage()).doesNotContain(r.params().get("Signature"));
  }

  @Test
  void missingParametersAreUnauthorized() {
    StorageUrlSigner signer = signerAt(T0);
    Request r = Request.of(signer.sign(BASE, "abc", "1", null));

    for (String name : new String[] {"Expires", "KeyId", "Signature"}) {
      FhirException e = catchFhir(() -> verify(signer, "GET", r.with(name, null)));
      assertThat(e.status()).as(name).isEqualTo(401);
      assertThat(e.headers()).containsKey("WWW-Authenticate");
      assertThat(statusOf(() -> verify(signer, "GET", r.with(name, "")))).as(name).isEqualTo(401);
    }
  }

  @Test
  void tamperedUrlsAreForbidden() {
    StorageUrlSigner signer = signerAt(T0);
    Request r = Request.of(signer.sign(BASE, "abc", "1", "report.pdf"));
    String sig = r.params().get("Signature");
    String flipped = (sig.charAt(0) == 'A' ? "B" : "A") + sig.substring(1);
    long expires = Long.parseLong(r.params().get("Expires"));

    assertThat(verify(signer, "GET", r).downloadFilename()).isEqualTo("report.pdf");
    assertThat(statusOf(() -> verify(signer, "GET", r.with("Signature", flipped)))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", r.with("Signature", sig + "A")))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", r.with("Signature", "not*base64")))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", r.with("Expires", Long.toString(expires + 3600)))))
        .isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", r.with("Expires", "-1")))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", r.with("KeyId", "k1")))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", r.with("KeyId", "nope")))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", r.with("Download", "evil.html")))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", r.with("Download", null)))).isEqualTo(403);
    assertThat(statusOf(() -> verify(signer, "GET", r.with("Download", "")))).isEqualTo(403);
    assertThat(statusOf(() -> signer.verify("GET", "/storage/abd/1", r.params()))).isEqualTo(403);
    assertThat(statusOf(() -> signer.verify("GET", "/storage/abc/2", r.params()))).isEqualTo(403);
  }

  @Test
  void forbiddenDiagnosticsNeverEchoTheSignature() {
    StorageUrlSigner signer = signerAt(T0);
    Request r = Request.of(signer.sign(BASE, "abc", "1", null));
    String sig = r.params().get("Signature");

    FhirException e = catchFhir(() -> signer.verify("GET", "/storage/abc/2", r.params()));

    assertThat(e.getMessage()).doesNotContain(sig);
    assertThat(e.issues()).allSatisfy(i -> assertThat(i.diagnostics()).doesNotContain(sig));
  }

  @Test
  void signatureCoversPathButNotHostOrPrefix() {
    StorageUrlSigner signer = signerAt(T0);
    Request r = Request.of(signer.sign("https://internal:8080", "abc", "1", null));

    Verified v = signer.verify("GET", "/fhirbox/storage/abc/1", r.params());

    assertThat(v.binaryId()).isEqualTo("abc");
  }

  @Test
  void unknownQueryParametersAreIgnored() {
    StorageUrlSigner signer = signerAt(T0);
    Request r = Request.of(signer.sign(BASE, "abc", "1", null)).with("_", "12345");

    assertThat(verify(signer, "GET", r).binaryId()).isEqualTo("abc");
  }

  @Test
  void olderKeyStillVerifiesAfterRotation() {
    SigningKeys old = SigningKeys.parse("k1:" + SigningKeysTest.key(1, 32));
    Request r = Request.of(signerAt(old, T0).sign(BASE, "abc", "1", null));

    assertThat(r.params().get("KeyId")).isEqualTo("k1");
    assertThat(verify(signerAt(KEYS, T0), "GET", r).binaryId()).isEqualTo("abc");
    SigningKeys retired = SigningKeys.parse("k3:" + SigningKeysTest.key(3, 32));
    assertThat(statusOf(() -> verify(signerAt(retired, T0), "GET", r))).isEqualTo(403);
  }

  @Test
  void sameKeyIdWithDifferentSecretIsForbidden() {
    SigningKeys other = SigningKeys.parse("k2:" + SigningKeysTest.key(9, 32));
    Request r = Request.of(signerAt(other, T0).sign(BASE, "abc", "1", null));

    assertThat(statusOf(() -> verify(signerAt(T0), "GET", r))).isEqualTo(403);
  }

  @Test
  void downloadFilenameWithNonAsciiAndSeparatorsRoundTrips() {
    StorageUrlSigner signer = signerAt(T0);
    String name = "Befund Ärztin & co=1\n/2 +x.pdf";
    String url = signer.sign(BASE, "abc", "1", name);

    assertThat(url).contains("&Download=").doesNotContain(" ").doesNotContain("\n");
    assertThat(verify(signer, "GET", Request.of(url)).downloadFilename()).isEqualTo(name);
  }

  @Test
  void emptyDownloadFilenameMeansInline() {
    StorageUrlSigner signer = signerAt(T0);

    assertThat(signer.sign(BASE, "abc", "1", "")).isEqualTo(signer.sign(BASE, "abc", "1", null));
  }

  @Test
  void invalidIdsAreNotFound() {
    StorageUrlSigner signer = signerAt(T0);
    Map<String, String> params = Request.of(signer.sign(BASE, "abc", "1", null)).params();

    assertThat(statusOf(() -> signer.verify("GET", "/storage/a_b/1", params))).isEqualTo(404);
    assertThat(statusOf(() -> signer.verify("GET", "/storage/" + "a".repeat(65) + "/1", params)))
        .isEqualTo(404);
    assertThat(statusOf(() -> signer.verify("GET", "/storage/abc/v1", params))).isEqualTo(404);
    assertThat(statusOf(() -> signer.verify("GET", "/storage/abc/", params))).isEqualTo(404);
    assertThat(statusOf(() -> signer.verify("GET", "/storage/abc", params))).isEqualTo(404);
    assertThat(statusOf(() -> signer.verify("GET", "/storage/abc/1/x", params))).isEqualTo(404);
    assertThat(statusOf(() -> signer.verify("GET", "/other/abc/1", params))).isEqualTo(404);
  }

  @Test
  void signingRejectsInvalidIds() {
    StorageUrlSigner signer = signerAt(T0);

    assertThatThrownBy(() -> signer.sign(BASE, "../x", "1", null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> signer.sign(BASE, "abc", "x", null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void ttlBelowTenSecondsIsRejected() {
    assertThatThrownBy(() -> new StorageUrlSigner(KEYS, Duration.ofSeconds(9), Clock.systemUTC()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tryParseRecognisesOurUrlsOnAnyHostExpiredOrNot() {
    String url = signerAt(T0).sign("http://old-host:8080/prefix", "abc", "7", "x.pdf");

    assertThat(StorageUrlSigner.tryParse(url)).contains(new Ref("abc", "7"));
    assertThat(StorageUrlSigner.tryParse(url.replace("http://old-host:8080", "")))
        .contains(new Ref("abc", "7"));
    assertThat(StorageUrlSigner.tryParse(
        "https://elsewhere/storage/abc/7?Expires=1&KeyId=gone&Signature=x"))
        .contains(new Ref("abc", "7"));
  }

  @Test
  void tryParseIgnoresOtherUrls() {
    assertThat(StorageUrlSigner.tryParse(null)).isEmpty();
    assertThat(StorageUrlSigner.tryParse("Binary/abc")).isEmpty();
    assertThat(StorageUrlSigner.tryParse("https://x/storage/abc/7")).isEmpty();
    assertThat(StorageUrlSigner.tryParse("https://x/storage/abc/7?Expires=1&KeyId=k")).isEmpty();
    assertThat(StorageUrlSigner.tryParse("https://x/storage/a_c/7?Expires=1&KeyId=k&Signature=s"))
        .isEmpty();
    assertThat(StorageUrlSigner.tryParse("https://x/storage/abc/v7?Expires=1&KeyId=k&Signature=s"))
        .isEmpty();
    assertThat(StorageUrlSigner.tryParse("ftp://x/storage/abc/7?Expires=1&KeyId=k&Signature=s"))
        .isEmpty();
    assertThat(StorageUrlSigner.tryParse("https://x/storage/abc/7?Expires=1&KeyId=k&Signature=s%zz"))
        .isEmpty();
    assertThat(StorageUrlSigner.tryParse("not a url at all")).isEmpty();
  }

  @Test
  void toStringHidesKeys() {
    assertThat(signerAt(T0).toString()).contains("k2").doesNotContain(SigningKeysTest.key(2, 32));
  }

  private static FhirException catchFhir(Runnable call) {
    try {
      call.run();
    } catch (FhirException e) {
      return e;
    }
    throw new AssertionError("expected a FhirException");
  }

  @Test
  void aThumbnailUrlSignsItsPathAndOpensOnlyTheThumbnail() throws Exception {
    StorageUrlSigner signer = signerAt(T0);
    BinaryContent content = new BinaryContent("p", "abc", 2,
        BlobKey.random(), 10, "0".repeat(64), "0".repeat(40), "image/png", null, null, T0);
    String url = signer.signThumbnail(BASE, content);
    assertThat(url).startsWith(BASE + "/storage/abc/2/thumbnail?Expires=");
    Request r = Request.of(url);
    Verified v = verify(signer, "GET", r);
    assertThat(v.thumbnail()).isTrue();
    assertThat(v.binaryId()).isEqualTo("abc");
    assertThat(v.versionId()).isEqualTo("2");
    assertThat(verify(signer, "HEAD", r).thumbnail()).isTrue();

    // the documented canonical string, with the thumbnail's path
    String canonical = String.join("\n", "fhirbox-storage-v1", "GET", "/storage/abc/2/thumbnail",
        r.params().get("Expires"), "k2", "-");
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(Base64.getDecoder().decode(SigningKeysTest.key(2, 32)),
        "HmacSHA256"));
    assertThat(r.params().get("Signature")).isEqualTo(Base64.getUrlEncoder().withoutPadding()
        .encodeToString(mac.doFinal(canonical.getBytes(StandardCharsets.UTF_8))));

    assertThat(statusOf(() -> verify(signer, "GET", new Request("/storage/abc/2", r.params())))).isEqualTo(403);
    Request content2 = Request.of(signer.sign(BASE, "abc", "2", null));
    assertThat(verify(signer, "GET", content2).thumbnail()).isFalse();
    assertThat(statusOf(() -> verify(signer, "GET", new Request("/storage/abc/2/thumbnail", content2.params()))))
        .isEqualTo(403);
    assertThat(StorageUrlSigner.tryParse(url)).as("not the Binary's content").isEmpty();
    assertThat(StorageUrlSigner.tryParseThumbnail(url)).contains(new StorageUrlSigner.Ref("abc", "2"));
    assertThat(StorageUrlSigner.tryParseThumbnail(signer.sign(BASE, "abc", "2", null))).isEmpty();
  }
}
