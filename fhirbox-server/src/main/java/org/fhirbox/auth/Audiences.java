package org.fhirbox.auth;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The audiences a client may name for this server: every base URL it answers as, which is its
 * base URL ({@code FHIRBOX_BASE_URL}), each of {@code FHIRBOX_BASE_URL_ALIASES}, and the issuer
 * ({@code FHIRBOX_TOKEN_ISSUER}, the deployment's public URL when nodes sit behind a load
 * balancer). A SMART app names the FHIR base under one of them as the authorize request's
 * {@code aud} (SMART App Launch, "Obtain authorization code"), and a {@code private_key_jwt}
 * assertion names the token endpoint under one of them (RFC 7523 §3, SMART Backend Services), or,
 * as some clients do, the base URL itself. A trailing slash is not told apart, nor the case of the
 * scheme and host of a FHIR base ({@link #isFhirBase}).
 */
public final class Audiences {
  private static final String TOKEN_PATH = "oauth2/token";

  private final Supplier<String> baseUrl;
  private final List<String> aliases;
  private final Supplier<String> issuer;

  /**
   * @param baseUrl the server's base URL, null until it listens
   * @param aliases the other base URLs it is known by
   * @param issuer the {@code iss} of its tokens
   */
  public Audiences(Supplier<String> baseUrl, List<String> aliases, Supplier<String> issuer) {
    this.baseUrl = baseUrl;
    this.aliases = List.copyOf(aliases);
    this.issuer = issuer;
  }

  /** The base URLs, each ending in a slash, the issuer's first: the one an access token's {@code aud} is under. */
  private Set<String> bases() {
    Set<String> all = new LinkedHashSet<>();
    for (String b : new String[] {issuer.get(), baseUrl.get()}) {
      if (b != null && !b.isBlank()) {
        all.add(slashed(b));
      }
    }
    aliases.stream().filter(a -> !a.isBlank()).map(Audiences::slashed).forEach(all::add);
    return all;
  }

  /** {@code url} ending in a slash, as a base that paths are appended to. */
  public static String slashed(String url) {
    return url.endsWith("/") ? url : url + "/";
  }

  /**
   * Whether {@code aud} is the FHIR base ({@code {base}fhir/R4}) under one of the server's base
   * URLs. The scheme and the host are compared without regard to case, as RFC 3986 §6.2.2.1 has
   * them normalised (§3.1, §3.2.2: both are case-insensitive), and one trailing slash is not told
   * apart; nothing else is normalised: not the path (case-sensitive), a default port, percent-
   * encoding or dot segments, so an {@code aud} that names this server only after such rewriting
   * is refused rather than guessed at.
   */
  public boolean isFhirBase(String aud) {
    if (aud == null) {
      return false;
    }
    String trimmed = caseNormalised(aud.endsWith("/") ? aud.substring(0, aud.length() - 1) : aud);
    return bases().stream().anyMatch(b -> trimmed.equals(caseNormalised(TokenService.audienceOf(b))));
  }

  /**
   * {@code url} with its scheme and host in lower case (RFC 3986 §6.2.2.1), the rest as it is: the
   * user info, which is case-sensitive, stays as sent. A URL without {@code ://} is returned as it is.
   */
  static String caseNormalised(String url) {
    int colon = url.indexOf("://");
    if (colon <= 0) {
      return url;
    }
    int authorityStart = colon + 3;
    int authorityEnd = authorityStart;
    while (authorityEnd < url.length() && "/?#".indexOf(url.charAt(authorityEnd)) < 0) {
      authorityEnd++;
    }
    int hostStart = url.lastIndexOf('@', authorityEnd - 1) + 1;
    hostStart = Math.max(hostStart, authorityStart);
    return asciiLower(url.substring(0, colon)) + url.substring(colon, hostStart)
        + asciiLower(url.substring(hostStart, authorityEnd)) + url.substring(authorityEnd);
  }

  /**
   * A-Z to a-z and nothing else: case is ASCII's alone in a URI (RFC 3986 §6.2.2.1), while
   * {@code toLowerCase} would take U+212A KELVIN SIGN for a {@code k}.
   */
  private static String asciiLower(String s) {
    char[] c = s.toCharArray();
    for (int i = 0; i < c.length; i++) {
      if (c[i] >= 'A' && c[i] <= 'Z') {
        c[i] = (char) (c[i] + ('a' - 'A'));
      }
    }
    return new String(c);
  }

  /** Whether {@code aud} is the token endpoint under one of the server's base URLs, or such a base URL itself. */
  public boolean isTokenEndpoint(String aud) {
    if (aud == null) {
      return false;
    }
    // scheme and host without case, as isFhirBase takes them (RFC 3986 §6.2.2.1)
    String sent = caseNormalised(aud);
    return bases().stream().map(Audiences::caseNormalised)
        .anyMatch(b -> b.equals(slashed(sent)) || sent.equals(b + TOKEN_PATH));
  }

  /** The FHIR base an access token's {@code aud} names ({@link TokenService#audienceOf}), for messages. */
  public String tokenFhirBase() {
    return TokenService.audienceOf(issuer.get());
  }
}
