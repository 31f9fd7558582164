package org.fhirbox.auth;

import java.util.regex.Pattern;

/**
 * What the audit trail keeps of a value a refused caller typed as its identity, when it names no
 * one the server knows: a client id that is no client's, an email no user has. Such a value may
 * be a secret in the wrong place (Basic credentials with id and secret swapped, a password typed
 * into the email field), and the audit trail is kept for years and read by every admin. It is kept
 * as typed only when it has the form of what it claims to be; anything else becomes a
 * fingerprint: at most 4 of its first characters (at most a quarter of it), an ellipsis and 8 hex
 * digits of its SHA-256, enough to tell repeated attempts with the same value apart from others.
 */
public final class ClaimedText {
  /** The form of the client ids the server issues ({@code ClientStore#create}: a random UUID). */
  private static final Pattern ISSUED_CLIENT_ID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  /** An email as {@code UserStore} accepts one, and no longer than RFC 5321 §4.5.3.1 allows. */
  private static final Pattern EMAIL = Pattern.compile("[^\\s@]{1,64}@[^\\s@]{1,253}");
  private static final int HASH_HEX = 8;

  private ClaimedText() {}

  /** A claimed client id that is no known client's: kept when it has the form of an issued id, else a fingerprint. */
  public static String clientId(String claimed) {
    return claimed == null || ISSUED_CLIENT_ID.matcher(claimed).matches() ? claimed : fingerprint(claimed);
  }

  /** The email typed in a refused sign-in: kept when it looks like an email, else a fingerprint. */
  public static String email(String typed) {
    return typed == null || EMAIL.matcher(typed).matches() ? typed : fingerprint(typed);
  }

  static String fingerprint(String value) {
    int shown = Math.min(4, value.length() / 4);
    return value.substring(0, shown) + "…" + RandomTokens.hash(value).substring(0, HASH_HEX);
  }
}
