package org.fhirbox.signing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.fhirbox.storage.Syncs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HMAC-SHA256 keys that sign storage URLs, newest first: {@link #currentKeyId()} signs, any
 * key verifies, so a key can be rotated in by putting it first and rotated out once the URLs it
 * signed have expired. Key material never leaves this class except through {@link #hmac}.
 *
 * <p>Text format (environment variable or the {@code signing-keys} file):
 * {@code kid:base64key,kid2:base64key}; a kid is {@code [A-Za-z0-9_-]{1,32}}, a key at least 32
 * bytes after base64 (standard or URL alphabet, padding optional) decoding.
 */
public final class SigningKeys {
  /** Name of the key file inside the data folder. */
  public static final String FILE_NAME = "signing-keys";
  /** RFC 2104 §3: a key shorter than the hash output weakens HMAC; SHA-256 outputs 32 bytes. */
  public static final int MIN_KEY_BYTES = 32;

  private static final Logger LOG = LoggerFactory.getLogger(SigningKeys.class);
  private static final String ALGORITHM = "HmacSHA256";
  private static final Pattern KID = Pattern.compile("[A-Za-z0-9_-]{1,32}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Map<String, SecretKeySpec> keys;
  private final String currentKeyId;

  private SigningKeys(Map<String, SecretKeySpec> keys) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("at least one signing key is required");
    }
    this.keys = keys;
    this.currentKeyId = keys.keySet().iterator().next();
  }

  /**
   * Parses {@code kid:base64key,kid2:base64key} (entries may also be separated by newlines).
   *
   * @throws IllegalArgumentException naming the offending entry by position or kid, never by key
   */
  public static SigningKeys parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("signing keys are empty");
    }
    Map<String, SecretKeySpec> keys = new LinkedHashMap<>();
    int position = 0;
    for (String entry : text.split("[,\\r\\n]")) {
      String trimmed = entry.strip();
      if (trimmed.isEmpty()) {
        continue;
      }
      position++;
      int colon = trimmed.indexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException(
            "signing key entry " + position + " is not of the form kid:base64key");
      }
      String kid = trimmed.substring(0, colon).strip();
      if (!KID.matcher(kid).matches()) {
        throw new IllegalArgumentException(
            "signing key entry " + position + ": key id must match [A-Za-z0-9_-]{1,32}");
      }
      byte[] secret = decode(trimmed.substring(colon + 1).strip(), kid);
      if (secret.length < MIN_KEY_BYTES) {
        throw new IllegalArgumentException("signing key '" + kid + "' is " + secret.length
            + " bytes; at least " + MIN_KEY_BYTES + " are required");
      }
      if (keys.putIfAbsent(kid, new SecretKeySpec(secret, ALGORITHM)) != null) {
        throw new IllegalArgumentException("signing key id '" + kid + "' appears twice");
      }
    }
    return new SigningKeys(keys);
  }

  private static byte[] decode(String base64, String kid) {
    try {
      boolean urlAlphabet = base64.indexOf('-') >= 0 || base64.indexOf('_') >= 0;
      return (urlAlphabet ? Base64.getUrlDecoder() : Base64.getDecoder()).decode(base64);
    } catch (IllegalArgumentException e) {
      // The decoder's message quotes the offending character; do not pass it on.
      throw new IllegalArgumentException("signing key '" + kid + "' is not valid base64");
    }
  }

  /** One fresh random key with a random key id. */
  public static SigningKeys generate() {
    byte[] secret = new byte[MIN_KEY_BYTES];
    RANDOM.nextBytes(secret);
    byte[] kid = new byte[6];
    RANDOM.nextBytes(kid);
    Map<String, SecretKeySpec> keys = new LinkedHashMap<>();
    keys.put("k" + HexFormat.of().formatHex(kid), new SecretKeySpec(secret, ALGORITHM));
    return new SigningKeys(keys);
  }

  /**
   * Reads {@code dataDir/signing-keys}, or on first start generates one key and stores it there
   * readable by the owner only, so signed URLs survive restarts. When two processes start at
   * once on the same folder, the first file written wins and both use it. The new file's name is
   * made durable (the data directory synced), lest a power loss soon after the first start take it
   * back and the next start sign with a new key, which no URL signed before matches. An existing
   * file that the group or others may read gets a warning.
   */
  public static SigningKeys loadOrCreate(Path dataDir) throws IOException {
    return loadOrCreate(dataDir, Syncs.FSYNC);
  }

  static SigningKeys loadOrCreate(Path dataDir, Syncs syncs) throws IOException {
    Path file = dataDir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      warnIfOthersMayRead(file);
      return read(file);
    }
    syncs.createDirectories(dataDir);
    SigningKeys fresh = generate();
    Path temp = Files.createTempFile(dataDir, FILE_NAME, ".tmp", ownerOnly());
    try {
      Files.writeString(temp, fresh.serialize(), StandardCharsets.US_ASCII,
          StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.SYNC);
      try {
        // A hard link fails if the name exists, unlike a rename, which would replace a key that
        // another process has just written and is already signing with.
        Files.createLink(file, temp);
      } catch (FileAlreadyExistsException e) {
        return read(file);
      } catch (UnsupportedOperationException | IOException e) {
        if (Files.exists(file)) {
          return read(file);
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
      }
      syncs.directory(dataDir);
      return fresh;
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** The keys of {@code dataDir/signing-keys} if that file exists (it is never created here). */
  public static Optional<SigningKeys> readIfPresent(Path dataDir) throws IOException {
    Path file = dataDir.resolve(FILE_NAME);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    warnIfOthersMayRead(file);
    return Optional.of(read(file));
  }

  /**
   * These keys, this one's current key still signing, and besides them {@code older}'s keys for
   * verifying only: URLs signed with a key that has since been replaced stay valid until they expire.
   */
  public SigningKeys alsoVerifying(SigningKeys older) {
    Map<String, SecretKeySpec> all = new LinkedHashMap<>(keys);
    older.keys.forEach(all::putIfAbsent);
    return new SigningKeys(all);
  }

  /** Warns when POSIX permissions (where the file system has them) let the group or others read {@code file}. */
  private static void warnIfOthersMayRead(Path file) {
    Set<PosixFilePermission> permissions;
    try {
      permissions = Files.getPosixFilePermissions(file);
    } catch (UnsupportedOperationException | IOException e) {
      return;
    }
    if (permissions.contains(PosixFilePermission.GROUP_READ) || permissions.contains(PosixFilePermission.OTHERS_READ)) {
      LOG.warn("the signing key file {} is readable by {} (permissions {}): whoever reads it can sign storage URLs; "
          + "make it readable by its owner only (chmod 600)", file,
          permissions.contains(PosixFilePermission.OTHERS_READ) ? "others" : "its group",
          PosixFilePermissions.toString(permissions));
    }
  }

  private static SigningKeys read(Path file) throws IOException {
    try {
      return parse(Files.readString(file, StandardCharsets.US_ASCII));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static FileAttribute<?>[] ownerOnly() {
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      return new FileAttribute<?>[] {
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))};
    }
    return new FileAttribute<?>[0];
  }

  private String serialize() {
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, SecretKeySpec> e : keys.entrySet()) {
      out.append(e.getKey()).append(':')
          .append(Base64.getEncoder().encodeToString(e.getValue().getEncoded())).append('\n');
    }
    return out.toString();
  }

  /** The key id that new signatures use. */
  public String currentKeyId() {
    return currentKeyId;
  }

  /** All key ids, newest first. */
  public List<String> keyIds() {
    return List.copyOf(keys.keySet());
  }

  public boolean contains(String keyId) {
    return keyId != null && keys.containsKey(keyId);
  }

  /**
   * HMAC-SHA256 of {@code message} under the key {@code keyId}.
   *
   * @throws IllegalArgumentException when the key id is unknown
   */
  public byte[] hmac(String keyId, byte[] message) {
    SecretKeySpec key = keyId == null ? null : keys.get(keyId);
    if (key == null) {
      throw new IllegalArgumentException("unknown signing key id");
    }
    try {
      // One initialised Mac per thread and key: Mac.getInstance and init cost more than the HMAC
      // itself, and every signed URL (each Range request of a video) is verified.
      java.util.Map<String, Mac> macs = threadMacs.get();
      Mac mac = macs.get(keyId);
      if (mac == null) {
        mac = Mac.getInstance(ALGORITHM);
        mac.init(key);
        macs.put(keyId, mac);
      }
      return mac.doFinal(message);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
  }

  private final ThreadLocal<java.util.Map<String, Mac>> threadMacs =
      ThreadLocal.withInitial(java.util.HashMap::new);

  @Override
  public String toString() {
    return "SigningKeys" + keys.keySet();
  }
}
