package org.fhirbox.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What the audit trail keeps of a value a refused caller typed as its identity, when it names no
 * one the server knows: a client id that is no client's, an email no user has. Such a value may
 * be a secret in the wrong place (Basic credentials with id and secret swapped, a password typed
 * into the email field), and the audit trail is kept for years and read by every admin. A client id
 * is kept as typed only when it has the form of an issued one, and an email only when it is a
 * user's (a password may well have the form of an email: {@code Welcome@2024}); anything else becomes a
 * fingerprint: at most 4 of its first characters (at most a quarter of it), an ellipsis and 8 hex
 * digits of its HMAC-SHA256 under the server's key, enough to tell repeated attempts with the same
 * value apart from others. Keyed, so that a reader of the trail cannot confirm a guessed weak
 * password against it (an unkeyed hash prefix would let a dictionary find it); the key is
 * the same on every node that shares the server's signing keys, and a new key starts new
 * fingerprints.
 */
public final class ClaimedText {
  /** The form of the client ids the server issues ({@code ClientStore#create}: a random UUID). */
  private static final Pattern ISSUED_CLIENT_ID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final int HASH_HEX = 8;

  private final SecretKeySpec key;

  /** @param key the fingerprints' HMAC key, at least 32 bytes */
  public ClaimedText(byte[] key) {
    if (key.length < 32) {
      throw new IllegalArgumentException("a fingerprint key has at least 32 bytes");
    }
    this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
  }

  /** A claimed client id that is no known client's: kept when it has the form of an issued id, else a fingerprint. */
  public String clientId(String claimed) {
    return claimed == null || ISSUED_CLIENT_ID.matcher(claimed).matches() ? claimed : fingerprint(claimed);
  }

  /**
   * The email typed in a refused sign-in: kept when {@code ofAUser} (it is the email of a user of
   * the project, which its admins can list anyway), else a fingerprint, however much it looks like
   * an email.
   */
  public String email(String typed, boolean ofAUser) {
    return typed == null || ofAUser ? typed : fingerprint(typed);
  }

  /** What the trail keeps of {@code value} when it is not kept as typed. */
  public String fingerprint(String value) {
    int shown = Math.min(4, value.length() / 4);
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      byte[] tag = mac.doFinal(value.getBytes(StandardCharsets.UTF_8));
      return value.substring(0, shown) + "…" + HexFormat.of().formatHex(tag).substring(0, HASH_HEX);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
