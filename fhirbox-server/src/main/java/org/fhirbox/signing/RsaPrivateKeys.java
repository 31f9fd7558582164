package org.fhirbox.signing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an RSA private key in PEM form: PKCS#8 ({@code BEGIN PRIVATE KEY}) or PKCS#1
 * ({@code BEGIN RSA PRIVATE KEY}, what {@code openssl genrsa} writes and the CloudFront guide
 * uses). Error messages never quote key material.
 */
public final class RsaPrivateKeys {
  private static final Pattern PEM = Pattern.compile(
      "-----BEGIN (RSA )?PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END (RSA )?PRIVATE KEY-----");
  // AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL } (RFC 8017 Appendix C).
  private static final byte[] RSA_ALGORITHM = {
      0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01,
      0x05, 0x00};

  private RsaPrivateKeys() {}

  /**
   * The file at {@code path}. Its errors never quote the path: a key given without its PEM armour
   * is taken for a path, and the message would then carry the key.
   */
  private static String readKeyFile(String path) throws IOException {
    try {
      return Files.readString(Path.of(path), StandardCharsets.US_ASCII);
    } catch (java.nio.file.InvalidPathException | IOException e) {
      throw new IOException("the private key is neither PEM text (-----BEGIN ... PRIVATE KEY-----) nor a "
          + "readable file (" + e.getClass().getSimpleName() + ")");
    }
  }

  /** {@code pemOrPath} is the PEM text itself, or the path of a file holding it. */
  public static PrivateKey parse(String pemOrPath) throws IOException {
    if (pemOrPath == null || pemOrPath.isBlank()) {
      throw new IllegalArgumentException("no private key given");
    }
    String pem = pemOrPath.contains("-----BEGIN") ? pemOrPath : readKeyFile(pemOrPath.strip());
    // Environment variables often carry the PEM with literal "\n" instead of line breaks.
    Matcher m = PEM.matcher(pem.replace("\\n", "\n"));
    if (!m.find()) {
      throw new IllegalArgumentException(
          "private key is not a PEM 'PRIVATE KEY' or 'RSA PRIVATE KEY' block");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(m.group(2));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("private key PEM is not valid base64");
    }
    byte[] pkcs8 = m.group(1) != null ? pkcs1ToPkcs8(der) : der;
    try {
      return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("private key is not a valid RSA key");
    }
  }

  /** PrivateKeyInfo ::= SEQUENCE { version 0, algorithm, OCTET STRING pkcs1 } (RFC 5208 §5). */
  static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(new byte[] {0x02, 0x01, 0x00});
    body.writeBytes(RSA_ALGORITHM);
    body.write(0x04);
    body.writeBytes(derLength(pkcs1.length));
    body.writeBytes(pkcs1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x30);
    out.writeBytes(derLength(body.size()));
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }

  private static byte[] derLength(int length) {
    if (length < 0x80) {
      return new byte[] {(byte) length};
    }
    if (length < 0x100) {
      return new byte[] {(byte) 0x81, (byte) length};
    }
    if (length < 0x10000) {
      return new byte[] {(byte) 0x82, (byte) (length >> 8), (byte) length};
    }
    return new byte[] {(byte) 0x83, (byte) (length >> 16), (byte) (length >> 8), (byte) length};
  }
}
