package org.fhirbox.auth;

import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * What a person's sign-in grants an app: the requested resource scopes that both the client and
 * the user may have, plus the identity and launch scopes fhirbox serves to people:
 * {@code openid}, {@code fhirUser}, {@code profile} and {@code launch/patient} when asked, and
 * {@code offline_access} when asked and in the client's registered scope. Left out, whatever the
 * request: {@code launch} (there is no EHR launch to join) and {@code online_access} (refresh
 * tokens come with {@code offline_access} only).
 *
 * <p>{@code offline_access} is the one of them that gives an app more than the sign-in itself: a
 * refresh token that keeps it acting for the person long after they leave. Whether an app may have
 * that is the admin's decision, so the registered scope is its ceiling (RFC 6749 §3.3: the server
 * may grant less than asked, "based on the authorization server policy"). The others only say who
 * signed in and which patient was chosen, and are granted to any app that asks.
 */
public final class SignInScopes {
  public static final Set<String> GRANTABLE = Set.of("openid", "fhirUser", "profile", "launch/patient",
      "offline_access");
  /** Of {@link #GRANTABLE}, those an app gets only when its registration lists them. */
  private static final Set<String> REGISTERED_ONLY = Set.of("offline_access");

  private SignInScopes() {}

  /**
   * Before anyone signs in: the request cut to what the client may be granted. Its registered
   * scope bounds the resource scopes and {@code offline_access}; the other identity and launch
   * scopes come when asked.
   */
  public static Scopes forClient(OAuthClient client, Scopes requested) {
    Set<String> asked = grantable(requested);
    asked.removeAll(REGISTERED_ONLY); // narrow() keeps them where the registration has them
    return withoutUngrantable(client.allowedScopes().narrow(requested).withIdentityAndLaunch(asked));
  }

  /**
   * At a refresh: what a sign-in granted {@code granted} may still carry for {@code client} as it is
   * registered now, or empty when the registration no longer lists {@code offline_access}. The
   * registration is the ceiling of every grant (RFC 6749 §6: the refreshed scope must not exceed
   * the original; an admin who narrows an app's registration narrows its old sign-ins too), and
   * {@code offline_access} is the refresh token's reason to exist: without it the sign-in ends.
   */
  public static Optional<Scopes> atRefresh(OAuthClient client, Scopes granted) {
    if (!client.allowedScopes().has("offline_access")) {
      return Optional.empty();
    }
    return Optional.of(forClient(client, granted));
  }

  /**
   * After the sign-in: {@code forClient} cut to what the user may be granted. The identity and
   * launch scopes stay (they are about the sign-in, not about data).
   */
  public static Scopes forUser(Scopes forClient, User user) {
    if (forClient.isEmpty()) {
      return forClient; // narrow() reads an empty request as "everything allowed"
    }
    return withoutUngrantable(user.allowedScopes().narrow(forClient).withIdentityAndLaunch(grantable(forClient)));
  }

  /**
   * True when the app needs a launch patient: it asked for {@code launch/patient}, or it holds
   * {@code patient/} scopes, which SMART App Launch lets the server read as asking for one
   * ("MAY infer the launch/patient scope").
   */
  public static boolean needsPatient(Scopes granted) {
    return granted.has("launch/patient")
        || Arrays.stream(granted.toString().split(" ")).anyMatch(s -> s.startsWith("patient/"));
  }

  /** Drops identity and launch scopes outside {@link #GRANTABLE}, even where a client's own scopes list them. */
  private static Scopes withoutUngrantable(Scopes scopes) {
    return Scopes.parse(Arrays.stream(scopes.toString().split(" "))
        .filter(s -> !Scopes.IDENTITY_AND_LAUNCH.contains(s) || GRANTABLE.contains(s))
        .collect(Collectors.joining(" ")));
  }

  private static Set<String> grantable(Scopes scopes) {
    Set<String> out = new TreeSet<>(scopes.identityAndLaunch());
    out.retainAll(GRANTABLE);
    return out;
  }
}
