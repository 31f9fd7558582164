package org.fhirbox.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.fhirbox.storage.Syncs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class SigningKeysTest {
  private static final byte[] MESSAGE = "GET\n/storage/x/1".getBytes(StandardCharsets.UTF_8);

  static String key(int fill, int length) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) fill);
    return Base64.getEncoder().encodeToString(bytes);
  }

  @Test
  void firstKeySignsAndAllKeysAreKnown() {
    SigningKeys keys = SigningKeys.parse("new:" + key(1, 32) + ", old:" + key(2, 40));

    assertThat(keys.currentKeyId()).isEqualTo("new");
    assertThat(keys.keyIds()).containsExactly("new", "old");
    assertThat(keys.contains("old")).isTrue();
    assertThat(keys.contains("other")).isFalse();
  }

  @Test
  void hmacDependsOnTheKey() {
    SigningKeys keys = SigningKeys.parse("a:" + key(1, 32) + ",b:" + key(2, 32));

    assertThat(keys.hmac("a", MESSAGE)).hasSize(32).isEqualTo(keys.hmac("a", MESSAGE));
    assertThat(keys.hmac("a", MESSAGE)).isNotEqualTo(keys.hmac("b", MESSAGE));
  }

  @Test
  void hmacIsPlainHmacSha256OfTheDecodedKey() throws Exception {
    String secret = key(0x0b, 32);
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec(Base64.getDecoder().decode(secret), "HmacSHA256"));

    assertThat(SigningKeys.parse("k:" + secret).hmac("k", MESSAGE)).isEqualTo(mac.doFinal(MESSAGE));
  }

  @Test
  void unknownKeyIdCannotSign() {
    SigningKeys keys = SigningKeys.parse("a:" + key(1, 32));
    assertThatThrownBy(() -> keys.hmac("b", MESSAGE)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> keys.hmac(null, MESSAGE)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void acceptsUrlAlphabetUnpaddedAndNewlineSeparatedKeys() {
    byte[] raw = new byte[33];
    Arrays.fill(raw, (byte) 0xfb);
    String url = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    assertThat(url).contains("-").doesNotContain("=");

    SigningKeys keys = SigningKeys.parse("a:" + url + "\nb:" + key(3, 32) + "\n");

    assertThat(keys.keyIds()).containsExactly("a", "b");
  }

  @Test
  void shortKeyIsRejectedWithoutQuotingIt() {
    String shortKey = key(7, 31);
    assertThatThrownBy(() -> SigningKeys.parse("k1:" + shortKey))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("k1").hasMessageContaining("31 bytes")
        .hasMessageNotContaining(shortKey);
  }

  @Test
  void invalidBase64IsRejectedWithoutQuotingIt() {
    String bad = key(7, 32).substring(0, 20) + "*!*" + "AAAAAAAAAAAAAAAAAAAAAAAA";
    assertThatThrownBy(() -> SigningKeys.parse("k1:" + bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not valid base64")
        .hasMessageNotContaining(bad).hasMessageNotContaining("*");
  }

  @Test
  void badKeyIdsAreRejected() {
    String k = key(1, 32);
    assertThatThrownBy(() -> SigningKeys.parse("has space:" + k))
        .hasMessageContaining("[A-Za-z0-9_-]{1,32}").hasMessageNotContaining(k);
    assertThatThrownBy(() -> SigningKeys.parse(":" + k)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SigningKeys.parse("x".repeat(33) + ":" + k))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SigningKeys.parse("a.b:" + k)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void malformedListsAreRejected() {
    String k = key(1, 32);
    assertThatThrownBy(() -> SigningKeys.parse("")).hasMessageContaining("empty");
    assertThatThrownBy(() -> SigningKeys.parse(" , ,")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SigningKeys.parse(k)).hasMessageContaining("kid:base64key")
        .hasMessageNotContaining(k);
    assertThatThrownBy(() -> SigningKeys.parse("a:" + k + ",a:" + key(2, 32)))
        .hasMessageContaining("twice");
  }

  @Test
  void toStringShowsKeyIdsButNoKeyMaterial() {
    String k = key(9, 32);
    SigningKeys keys = SigningKeys.parse("visible:" + k);

    assertThat(keys.toString()).contains("visible").doesNotContain(k)
        .doesNotContain(k.substring(0, 8));
  }

  @Test
  void generatedKeyIsRandomAndUsable() {
    SigningKeys a = SigningKeys.generate();
    SigningKeys b = SigningKeys.generate();

    assertThat(a.currentKeyId()).matches("[A-Za-z0-9_-]{1,32}").isNotEqualTo(b.currentKeyId());
    assertThat(a.hmac(a.currentKeyId(), MESSAGE)).hasSize(32);
  }

  @Test
  void firstStartCreatesAnOwnerOnlyKeyFileThatLaterStartsReuse(@TempDir Path dir) throws Exception {
    Path dataDir = dir.resolve("data");

    SigningKeys first = SigningKeys.loadOrCreate(dataDir);
    SigningKeys second = SigningKeys.loadOrCreate(dataDir);

    Path file = dataDir.resolve(SigningKeys.FILE_NAME);
    assertThat(file).isRegularFile();
    assertThat(Files.getPosixFilePermissions(file))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    assertThat(second.currentKeyId()).isEqualTo(first.currentKeyId());
    assertThat(second.hmac(second.currentKeyId(), MESSAGE))
        .isEqualTo(first.hmac(first.currentKeyId(), MESSAGE));
    try (var files = Files.list(dataDir)) {
      assertThat(files).containsExactly(file);
    }
  }

  /**
   * The key file a first start writes is made durable with its name: the data directory is synced
   * after the file is linked into it, and the directories the start created after each was.
   */
  @Test
  void aNewKeyFileIsMadeDurableWithItsName(@TempDir Path dir) throws Exception {
    Path dataDir = dir.resolve("data");
    List<String> synced = new ArrayList<>();
    Syncs recording = new Syncs() {
      @Override
      public void content(FileChannel file, Path path) {
        throw new AssertionError("not expected");
      }

      @Override
      public void directory(Path d) throws IOException {
        try (var names = Files.list(d)) {
          synced.add(d + " " + names.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".tmp")).toList());
        }
        Syncs.FSYNC.directory(d);
      }
    };

    SigningKeys.loadOrCreate(dataDir, recording);

    // the ancestors above are synced first, the data directory's among them
    assertThat(synced).endsWith(dir + " [data]", dataDir + " [" + SigningKeys.FILE_NAME + "]");
  }

  @Test
  void anExistingKeyFileThatOthersMayReadIsWarnedAbout(@TempDir Path dir) throws Exception {
    Path file = dir.resolve(SigningKeys.FILE_NAME);
    Files.writeString(file, "mine:" + key(4, 32) + "\n");
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    Logger logger = (Logger) LoggerFactory.getLogger(SigningKeys.class);
    logger.addAppender(log);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      SigningKeys.loadOrCreate(dir);
      assertThat(log.list).as("owner only").isEmpty();

      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
      assertThat(SigningKeys.loadOrCreate(dir).currentKeyId()).isEqualTo("mine");
      assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).singleElement().asString()
          .contains(file.toString(), "readable by others", "rw-r--r--");
    } finally {
      logger.detachAppender(log);
    }
  }

  @Test
  void existingKeyFileIsRead(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve(SigningKeys.FILE_NAME), "mine:" + key(4, 32) + "\n");

    SigningKeys keys = SigningKeys.loadOrCreate(dir);

    assertThat(keys.keyIds()).containsExactly("mine");
    assertThat(keys.hmac("mine", MESSAGE))
        .isEqualTo(SigningKeys.parse("x:" + key(4, 32)).hmac("x", MESSAGE));
  }

  @Test
  void brokenKeyFileFailsNamingTheFile(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve(SigningKeys.FILE_NAME), "mine:" + key(4, 8));

    assertThatThrownBy(() -> SigningKeys.loadOrCreate(dir))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(SigningKeys.FILE_NAME).hasMessageContaining("8 bytes");
  }
}
