package org.fhirbox.auth;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A set of SMART on FHIR scopes as an {@link AccessPolicy}. Resource scopes come in the three
 * SMART contexts {@code system/}, {@code user/} and {@code patient/}, in v2 form
 * ({@code system/*.cruds}, {@code user/Patient.rs}, {@code patient/Observation.rs}) or the v1 forms
 * {@code .read} (= rs), {@code .write} (= cud) and {@code .*} (= cruds). The identity and launch
 * scopes of SMART App Launch 2 ({@code openid}, {@code fhirUser}, {@code profile},
 * {@code launch}, {@code launch/patient}, {@code offline_access}, {@code online_access}) and
 * fhirbox's {@code admin} are kept as they are. {@link #toString()} gives the canonical form, e.g.
 * {@code system/*.rs user/Binary.c patient/Observation.rs openid admin}.
 *
 * <p>A {@code patient/} grant permits its interactions only inside the launch patient's
 * compartment: {@link #limitedToPatient} tells when no wider grant covers a request.
 */
public final class Scopes implements AccessPolicy {
  public static final String ADMIN = "admin";
  /** SMART App Launch 2 scopes that grant no resource access by themselves. */
  public static final Set<String> IDENTITY_AND_LAUNCH = Set.of("openid", "fhirUser", "profile", "launch",
      "launch/patient", "offline_access", "online_access");
  private static final String WILDCARD = "*";
  private static final String LETTERS = "cruds";
  private static final String AUDIT_EVENT = "AuditEvent";

  /** The SMART scope contexts, widest first. */
  public enum Context {
    SYSTEM, USER, PATIENT;

    String prefix() {
      return name().toLowerCase(Locale.ROOT) + "/";
    }
  }

  /** Per context, resource type (or "*") to permitted interactions; never holds an empty set. */
  private final Map<Context, Map<String, EnumSet<Interaction>>> grants;
  private final Set<String> extras;
  private final boolean admin;

  private Scopes(Map<Context, Map<String, EnumSet<Interaction>>> grants, Set<String> extras, boolean admin) {
    this.grants = grants;
    this.extras = extras;
    this.admin = admin;
  }

  /** Parses a space-separated scope string; throws {@link IllegalArgumentException} naming the bad scope. */
  public static Scopes parse(String scope) {
    Map<Context, Map<String, EnumSet<Interaction>>> grants = new EnumMap<>(Context.class);
    Set<String> extras = new TreeSet<>();
    boolean admin = false;
    for (String s : (scope == null ? "" : scope.trim()).split("\\s+")) {
      if (s.isEmpty()) {
        continue;
      }
      if (s.equals(ADMIN)) {
        admin = true;
        continue;
      }
      if (IDENTITY_AND_LAUNCH.contains(s)) {
        extras.add(s);
        continue;
      }
      Context context = null;
      for (Context c : Context.values()) {
        if (s.startsWith(c.prefix())) {
          context = c;
        }
      }
      if (context == null) {
        throw new IllegalArgumentException("unsupported scope '" + s
            + "'; use {system|user|patient}/{type}.{cruds}, a SMART launch or identity scope, or admin");
      }
      String rest = s.substring(context.prefix().length());
      int dot = rest.lastIndexOf('.');
      if (dot <= 0 || rest.contains("?")) {
        throw new IllegalArgumentException("malformed scope '" + s + "'");
      }
      String type = rest.substring(0, dot);
      if (!type.equals(WILDCARD) && !type.matches("[A-Z][A-Za-z]{0,63}")) {
        throw new IllegalArgumentException("malformed resource type in scope '" + s + "'");
      }
      EnumSet<Interaction> perms = permissions(rest.substring(dot + 1), s);
      grants.computeIfAbsent(context, c -> new TreeMap<>())
          .computeIfAbsent(type, t -> EnumSet.noneOf(Interaction.class)).addAll(perms);
    }
    return new Scopes(grants, extras, admin);
  }

  /**
   * A requested {@code scope} (an authorization or token request) split into the scopes this
   * server supports and those it leaves out. RFC 6749 §3.3 lets the server grant less than asked
   * and say so in the response's {@code scope}; failing the whole request for one scope it does not
   * serve ({@code launch/encounter}, OpenID Connect's {@code email}, a SMART v2 granular scope)
   * would lock out apps that ask for it as an option.
   */
  public record Requested(Scopes supported, List<String> unsupported) {
    public Requested {
      unsupported = List.copyOf(unsupported);
    }

    /**
     * True when scopes were asked for and none is supported. Such a request must be refused: an
     * empty request means "everything allowed" to {@link #narrow}.
     */
    public boolean noneSupported() {
      return supported.isEmpty() && !unsupported.isEmpty();
    }
  }

  /**
   * Parses a requested scope string leniently: each space-separated scope that {@link #parse}
   * refuses is left out whole. A SMART v2 granular scope ({@code patient/Observation.rs?category=...})
   * is left out whole too, never read as the scope before its {@code ?}: that would grant every
   * Observation where the app asked for one category.
   *
   * <p>The string itself must follow RFC 6749 §3.3: scope tokens of the printable ASCII characters
   * other than {@code "} and {@code \}, separated by spaces (U+0020, and only it). Any other
   * character (a control character, a tab, a line feed, a letter outside ASCII) throws
   * {@link IllegalArgumentException} naming it: dropped as white space, such characters would turn
   * a request into no scope at all, which {@link #narrow} reads as everything allowed. So would
   * spaces alone, which throw too; an empty string is no scope, as an omitted one is.
   */
  public static Requested parseRequested(String scope) {
    String checked = scope == null ? "" : scope;
    for (int i = 0; i < checked.length(); ) {
      int c = checked.codePointAt(i);
      if (c != ' ' && !isScopeTokenCharacter(c)) {
        throw new IllegalArgumentException(String.format("the scope holds the character U+%04X; RFC 6749 §3.3 allows"
            + " only printable ASCII other than the double quote and the backslash, scopes separated by spaces", c));
      }
      i += Character.charCount(c);
    }
    List<String> supported = new ArrayList<>();
    List<String> unsupported = new ArrayList<>();
    for (String s : checked.split(" ")) {
      if (s.isEmpty()) {
        continue;
      }
      if (tryParse(s).isPresent()) {
        supported.add(s);
      } else {
        unsupported.add(s);
      }
    }
    if (!checked.isEmpty() && supported.isEmpty() && unsupported.isEmpty()) {
      // spaces alone are no scope-token: read as no scope, they would ask for everything allowed
      throw new IllegalArgumentException("the scope holds only spaces; RFC 6749 §3.3 wants at least one scope"
          + " token, or no scope parameter");
    }
    return new Requested(parse(String.join(" ", supported)), unsupported);
  }

  /** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
  private static boolean isScopeTokenCharacter(int c) {
    return c >= 0x21 && c <= 0x7E && c != '"' && c != '\\';
  }

  public static Optional<Scopes> tryParse(String scope) {
    try {
      return Optional.of(parse(scope));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static EnumSet<Interaction> permissions(String p, String scope) {
    switch (p) {
      case "read":
        return EnumSet.of(Interaction.READ, Interaction.SEARCH);
      case "write":
        return EnumSet.of(Interaction.CREATE, Interaction.UPDATE, Interaction.DELETE);
      case "*":
        return EnumSet.allOf(Interaction.class);
      default:
        break;
    }
    EnumSet<Interaction> out = EnumSet.noneOf(Interaction.class);
    // SMART v2: the letters come in the order c, r, u, d, s, each at most once
    int last = -1;
    for (char c : p.toCharArray()) {
      int i = LETTERS.indexOf(c);
      if (i <= last) {
        throw new IllegalArgumentException("malformed permissions in scope '" + scope + "'; use a subset of cruds");
      }
      last = i;
      out.add(Interaction.values()[i]);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("malformed scope '" + scope + "'");
    }
    return out;
  }

  /** Adds {@code admin} when {@code isAdmin}, e.g. for a client whose admin flag is set. */
  public Scopes withAdmin(boolean isAdmin) {
    return isAdmin == admin || !isAdmin ? this : new Scopes(grants, extras, true);
  }

  /**
   * The part of {@code requested} that this (the client's or user's allowed set) permits: each
   * requested grant intersected with each allowed one, so {@code system/Patient.r} fits within
   * {@code system/*.cruds}, and {@code system/*.rs} against {@code system/Patient.rs} yields
   * {@code system/Patient.rs}. A grant fits within an allowed grant of its own context; a
   * {@code patient/} grant, being narrower, also fits within {@code user/} and {@code system/}
   * ones. Identity and launch scopes are kept when allowed. An empty request gets everything
   * allowed.
   */
  public Scopes narrow(Scopes requested) {
    if (requested.isEmpty()) {
      return this;
    }
    Map<Context, Map<String, EnumSet<Interaction>>> out = new EnumMap<>(Context.class);
    requested.grants.forEach((rContext, rGrants) -> grants.forEach((aContext, aGrants) -> {
      if (aContext != rContext && rContext != Context.PATIENT) {
        return;
      }
      rGrants.forEach((rType, rPerms) -> aGrants.forEach((aType, aPerms) -> {
        String type = rType.equals(WILDCARD) ? aType : aType.equals(WILDCARD) || aType.equals(rType) ? rType : null;
        if (type == null) {
          return;
        }
        EnumSet<Interaction> both = EnumSet.copyOf(rPerms);
        both.retainAll(aPerms);
        if (!both.isEmpty()) {
          out.computeIfAbsent(rContext, c -> new TreeMap<>())
              .computeIfAbsent(type, t -> EnumSet.noneOf(Interaction.class)).addAll(both);
        }
      }));
    }));
    // a type-specific grant already covered by its context's wildcard adds nothing
    out.values().forEach(typed -> {
      EnumSet<Interaction> wild = typed.get(WILDCARD);
      if (wild != null) {
        typed.entrySet().removeIf(e -> !e.getKey().equals(WILDCARD) && wild.containsAll(e.getValue()));
      }
    });
    Set<String> keptExtras = new TreeSet<>(requested.extras);
    keptExtras.retainAll(extras);
    return new Scopes(out, keptExtras, requested.admin && admin);
  }

  /**
   * What a client may hold with no person signed in (client_credentials, Basic on the FHIR API):
   * its {@code system/} grants and {@code admin}, nothing else. SMART Backend Services tokens carry
   * {@code system/} scopes only; {@code user/} and {@code patient/} scopes (and {@code openid},
   * {@code fhirUser}, {@code launch/patient} ...) name a person or a patient, which only a sign-in
   * supplies. Without this, an app registered for sign-in with {@code user/*.rs} would read the
   * whole project with its secret alone.
   */
  public Scopes withoutPerson() {
    Map<Context, Map<String, EnumSet<Interaction>>> system = new EnumMap<>(Context.class);
    if (grants.containsKey(Context.SYSTEM)) {
      system.put(Context.SYSTEM, grants.get(Context.SYSTEM));
    }
    return new Scopes(system, Set.of(), admin);
  }

  /** These scopes plus the identity and launch scopes in {@code more} (others are ignored). */
  public Scopes withIdentityAndLaunch(Set<String> more) {
    Set<String> all = new TreeSet<>(extras);
    more.stream().filter(IDENTITY_AND_LAUNCH::contains).forEach(all::add);
    return new Scopes(grants, all, admin);
  }

  /** The identity and launch scopes held, e.g. {@code openid}, {@code launch/patient}. */
  public Set<String> identityAndLaunch() {
    return Collections.unmodifiableSet(extras);
  }

  /** True when {@code scope} (e.g. {@code offline_access}) is held. */
  public boolean has(String scope) {
    return extras.contains(scope) || (scope.equals(ADMIN) && admin);
  }

  public boolean isEmpty() {
    return grants.isEmpty() && extras.isEmpty() && !admin;
  }

  /**
   * True when a grant for {@code resourceType} or {@code *} includes {@code interaction}.
   * {@code allows("*", READ)} (system-wide history) needs a wildcard read grant. AuditEvents are
   * the project admins' record of who accessed what: reading, searching, changing or deleting
   * them also needs {@code admin}, whatever the grants (an app may still create its own).
   */
  @Override
  public boolean allows(String resourceType, Interaction interaction) {
    if (resourceType.equals(AUDIT_EVENT) && interaction != Interaction.CREATE && !admin) {
      return false;
    }
    for (Context c : Context.values()) {
      if (grants(c, resourceType, interaction)) {
        return true;
      }
    }
    return false;
  }

  /**
   * True when only a {@code patient/} grant permits {@code interaction} on {@code resourceType}:
   * the caller may then act only inside its launch patient's compartment.
   */
  @Override
  public boolean limitedToPatient(String resourceType, Interaction interaction) {
    return allows(resourceType, interaction) && !grants(Context.SYSTEM, resourceType, interaction)
        && !grants(Context.USER, resourceType, interaction);
  }

  private boolean grants(Context context, String resourceType, Interaction interaction) {
    Map<String, EnumSet<Interaction>> typedGrants = grants.get(context);
    if (typedGrants == null) {
      return false;
    }
    EnumSet<Interaction> wild = typedGrants.get(WILDCARD);
    if (wild != null && wild.contains(interaction)) {
      return true;
    }
    if (resourceType.equals(WILDCARD)) {
      return false;
    }
    EnumSet<Interaction> typed = typedGrants.get(resourceType);
    return typed != null && typed.contains(interaction);
  }

  @Override
  public boolean isAdmin() {
    return admin;
  }

  /** The resource types granted anything in any context, "*" included. */
  public Set<String> types() {
    Set<String> types = new TreeSet<>();
    grants.values().forEach(typed -> types.addAll(typed.keySet()));
    return types;
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    // contexts widest first; in each the wildcard first, then types alphabetically (TreeMap order)
    grants.forEach((context, typed) -> typed.forEach((type, perms) -> {
      StringBuilder b = new StringBuilder(context.prefix()).append(type).append('.');
      for (Interaction i : perms) {
        b.append(LETTERS.charAt(i.ordinal()));
      }
      parts.add(b.toString());
    }));
    parts.addAll(extras);
    if (admin) {
      parts.add(ADMIN);
    }
    return String.join(" ", parts);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Scopes s && s.toString().equals(toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }
}
