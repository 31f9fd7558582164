package org.fhirbox.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.http.ContentDisposition;
import org.fhirbox.storage.BlobKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link CloudFrontUrlSigner}: canned-policy URLs verified as CloudFront would verify them. */
class CloudFrontUrlSignerTest {
  private static final Duration TTL = Duration.ofHours(1);
  private static final long WINDOW = 360;
  private static final Instant WINDOW_START = Instant.ofEpochSecond(1_800_000_000L / WINDOW * WINDOW);
  private static final BlobKey KEY = new BlobKey("0123456789abcdef0123456789abcdef");
  private static final BinaryContent CONTENT = new BinaryContent("default", "b1", 1, KEY, 10, "00",
      "00", "image/png", "scan.png", null, Instant.EPOCH);

  private static KeyPair keys;

  @BeforeAll
  static void generateKeyPair() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    keys = g.generateKeyPair();
  }

  private static CloudFrontUrlSigner signer(Instant now) {
    return new CloudFrontUrlSigner("d111111abcdef8.cloudfront.net", "blobs/", "K2JCJMDEHXQW5F",
        keys.getPrivate(), TTL, Clock.fixed(now, ZoneOffset.UTC),
        name -> ContentDisposition.attachment(name).headerValue());
  }

  /** The URL CloudFront receives, split into the signed resource and the three parameters. */
  private record Signed(String resource, long expires, String signature, String keyPairId) {
    static Signed parse(String url) {
      int at = url.lastIndexOf("Expires=");
      String resource = url.substring(0, at - 1);
      String[] params = url.substring(at).split("&");
      assertThat(params).hasSize(3);
      assertThat(params[1]).startsWith("Signature=");
      assertThat(params[2]).startsWith("Key-Pair-Id=");
      return new Signed(resource, Long.parseLong(params[0].substring("Expires=".length())),
          params[1].substring("Signature=".length()), params[2].substring("Key-Pair-Id=".length()));
    }

    /** CloudFront docs, "Create a signature for a signed URL that uses a canned policy". */
    boolean verifies(java.security.PublicKey key) throws Exception {
      String policy = "{\"Statement\":[{\"Resource\":\"" + resource
          + "\",\"Condition\":{\"DateLessThan\":{\"AWS:EpochTime\":" + expires + "}}}]}";
      byte[] sig = Base64.getDecoder().decode(
          signature.replace('-', '+').replace('_', '=').replace('~', '/'));
      Signature rsa = Signature.getInstance("SHA1withRSA");
      rsa.initVerify(key);
      rsa.update(policy.getBytes(StandardCharsets.UTF_8));
      return rsa.verify(sig);
    }
  }

  @Test
  void signatureVerifiesWithThePublicKeyOverTheCannedPolicy() throws Exception {
    Signed signed = Signed.parse(signer(WINDOW_START.plusSeconds(7)).sign("", CONTENT, null));

    // the Binary version it serves is named too, for the web app (the key names only the blob)
    assertThat(signed.resource()).isEqualTo("https://d111111abcdef8.cloudfront.net/blobs/" + KEY
        + "?response-content-type=image%2Fpng&fhirbox-binary=Binary%2Fb1%2F_history%2F1");
    assertThat(signed.keyPairId()).isEqualTo("K2JCJMDEHXQW5F");
    assertThat(signed.verifies(keys.getPublic())).isTrue();
  }

  @Test
  void tamperedResourceDoesNotVerify() throws Exception {
    Signed signed = Signed.parse(signer(WINDOW_START).sign("", CONTENT, null));
    Signed tampered = new Signed(signed.resource().replace("image%2Fpng", "text%2Fhtml"),
        signed.expires(), signed.signature(), signed.keyPairId());
    Signed later = new Signed(signed.resource(), signed.expires() + 1, signed.signature(),
        signed.keyPairId());

    assertThat(tampered.verifies(keys.getPublic())).isFalse();
    assertThat(later.verifies(keys.getPublic())).isFalse();
  }

  @Test
  void downloadFilenameIsSignedIntoTheUrl() throws Exception {
    Signed signed = Signed.parse(signer(WINDOW_START).sign("", CONTENT, "scan 1.png"));

    assertThat(signed.resource()).contains("&response-content-disposition=attachment%3B%20filename%3D%22scan%201.png%22");
    assertThat(signed.verifies(keys.getPublic())).isTrue();
  }

  @Test
  void contentThatCouldRunScriptIsServedAsAnAttachmentOfACleanType() {
    BinaryContent html = new BinaryContent("default", "b2", 1, KEY, 10, "00", "00", "text/html",
        "page.html", null, Instant.EPOCH);
    BinaryContent listed = new BinaryContent("default", "b3", 1, KEY, 10, "00", "00",
        "image/png;x=,text/html", null, null, Instant.EPOCH);

    String page = Signed.parse(signer(WINDOW_START).sign("", html, null)).resource();
    String list = Signed.parse(signer(WINDOW_START).sign("", listed, null)).resource();

    assertThat(page).contains("?response-content-type=text%2Fhtml&response-content-disposition="
        + "attachment%3B%20filename%3D%22page.html%22");
    // served as octets, which are no type shown inline: an attachment, without a name
    assertThat(list).endsWith("?response-content-type=application%2Foctet-stream"
        + "&response-content-disposition=attachment&fhirbox-binary=Binary%2Fb3%2F_history%2F1");
  }

  @Test
  void urlIsStableWithinAWindowAndLivesBetweenTtlAndTtlPlusTenPercent() {
    String first = signer(WINDOW_START.plusSeconds(1)).sign("", CONTENT, null);
    for (long offset : new long[] {1, 2, WINDOW / 2, WINDOW}) {
      Instant now = WINDOW_START.plusSeconds(offset);
      String url = signer(now).sign("", CONTENT, null);
      assertThat(url).isEqualTo(first);
      Duration lifetime = Duration.between(now, Instant.ofEpochSecond(Signed.parse(url).expires()));
      assertThat(lifetime).isBetween(TTL, TTL.plusSeconds(WINDOW));
    }
    assertThat(signer(WINDOW_START.plusSeconds(WINDOW + 1)).sign("", CONTENT, null)).isNotEqualTo(first);
  }

  @Test
  void recognisesItsOwnUrlsByBlobKey() {
    CloudFrontUrlSigner signer = signer(WINDOW_START);
    String url = signer.sign("", CONTENT, "a.png");

    assertThat(signer.recogniseBlobKey(url)).contains(KEY);
    assertThat(signer.recogniseBlobKey("https://d111111abcdef8.cloudfront.net/blobs/" + KEY)).contains(KEY);
    assertThat(signer.recogniseBlobKey("https://other.cloudfront.net/blobs/" + KEY)).isEmpty();
    assertThat(signer.recogniseBlobKey("https://d111111abcdef8.cloudfront.net/blobs/not-a-key")).isEmpty();
    assertThat(signer.recogniseBlobKey("https://d111111abcdef8.cloudfront.net/" + KEY)).isEmpty();
  }

  @Test
  void statesTheDistributionsOriginAndThePrefixOfItsUrls() {
    CloudFrontUrlSigner signer = signer(WINDOW_START);
    assertThat(signer.origin()).isEqualTo("https://d111111abcdef8.cloudfront.net");
    assertThat(signer.urlPrefix()).isEqualTo("https://d111111abcdef8.cloudfront.net/blobs/");
    assertThat(signer.sign("", CONTENT, null)).startsWith(signer.urlPrefix());

    CloudFrontUrlSigner underAPath = new CloudFrontUrlSigner("https://CDN.example.org:443/files/", "",
        "K2JCJMDEHXQW5F", keys.getPrivate(), TTL, Clock.fixed(WINDOW_START, ZoneOffset.UTC),
        name -> name);
    assertThat(underAPath.origin()).isEqualTo("https://cdn.example.org");
    assertThat(underAPath.urlPrefix()).isEqualTo("https://CDN.example.org:443/files/");
    assertThat(underAPath.sign("", CONTENT, null)).startsWith(underAPath.urlPrefix());
  }

  @Test
  void privateKeyIsReadFromPkcs8AndPkcs1PemTextOrFile(@TempDir Path dir) throws Exception {
    byte[] pkcs8 = keys.getPrivate().getEncoded();
    // A 2048-bit PKCS#8 RSA key is a 26-byte header followed by the PKCS#1 RSAPrivateKey.
    byte[] pkcs1 = Arrays.copyOfRange(pkcs8, 26, pkcs8.length);
    String pkcs8Pem = pem("PRIVATE KEY", pkcs8);
    String pkcs1Pem = pem("RSA PRIVATE KEY", pkcs1);
    Path file = dir.resolve("cloudfront.pem");
    Files.writeString(file, pkcs1Pem);

    assertThat(RsaPrivateKeys.parse(pkcs8Pem)).isEqualTo(keys.getPrivate());
    assertThat(RsaPrivateKeys.parse(pkcs1Pem)).isEqualTo(keys.getPrivate());
    assertThat(RsaPrivateKeys.parse(pkcs1Pem.replace("\n", "\\n"))).isEqualTo(keys.getPrivate());
    assertThat(RsaPrivateKeys.parse(file.toString())).isEqualTo(keys.getPrivate());
  }

  @Test
  void malformedPrivateKeyIsRejectedWithoutQuotingIt() {
    String bad = "-----BEGIN PRIVATE KEY-----\nQUJDRA==\n-----END PRIVATE KEY-----";

    assertThatThrownBy(() -> RsaPrivateKeys.parse(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("QUJDRA");
  }

  @Test
  void aKeyWithoutItsPemArmourIsTakenForAPathAndNotQuotedEither() {
    // base64 of a key as an environment variable might hold it, without the BEGIN/END lines
    String bare = Base64.getEncoder().encodeToString(keys.getPrivate().getEncoded());
    String withSlashes = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC/secret/part\u0000+more";

    for (String given : new String[] {bare, withSlashes}) {
      assertThatThrownBy(() -> RsaPrivateKeys.parse(given))
          .isInstanceOf(java.io.IOException.class)
          .hasMessageContaining("neither PEM text")
          .hasMessageNotContaining(given.substring(0, 24))
          .satisfies(e -> assertThat(e.getCause()).isNull());
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
