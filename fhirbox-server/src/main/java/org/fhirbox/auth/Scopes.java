package org.fhirbox.auth;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A set of SMART on FHIR {@code system/} scopes as an {@link AccessPolicy}. Accepts v2 forms
 * ({@code system/*.cruds}, {@code system/Patient.rs}, {@code system/Binary.c}) and the v1 forms
 * {@code .read} (= rs), {@code .write} (= cud) and {@code .*} (= cruds), plus {@code admin}.
 * {@link #toString()} gives the canonical v2 form, e.g. {@code system/*.rs system/Binary.c admin}.
 */
public final class Scopes implements AccessPolicy {
  public static final String ADMIN = "admin";
  private static final String WILDCARD = "*";
  private static final String LETTERS = "cruds";
  private static final String AUDIT_EVENT = "AuditEvent";

  /** Resource type (or "*") to permitted interactions; never holds an empty set. */
  private final Map<String, EnumSet<Interaction>> grants;
  private final boolean admin;

  private Scopes(Map<String, EnumSet<Interaction>> grants, boolean admin) {
    this.grants = grants;
    this.admin = admin;
  }

  /** Parses a space-separated scope string; throws {@link IllegalArgumentException} naming the bad scope. */
  public static Scopes parse(String scope) {
    Map<String, EnumSet<Interaction>> grants = new TreeMap<>();
    boolean admin = false;
    for (String s : (scope == null ? "" : scope.trim()).split("\\s+")) {
      if (s.isEmpty()) {
        continue;
      }
      if (s.equals(ADMIN)) {
        admin = true;
        continue;
      }
      if (!s.startsWith("system/")) {
        throw new IllegalArgumentException("unsupported scope '" + s + "'; use system/{type}.{cruds} or admin");
      }
      String rest = s.substring("system/".length());
      int dot = rest.lastIndexOf('.');
      if (dot <= 0 || rest.contains("?")) {
        throw new IllegalArgumentException("malformed scope '" + s + "'");
      }
      String type = rest.substring(0, dot);
      if (!type.equals(WILDCARD) && !type.matches("[A-Z][A-Za-z]{0,63}")) {
        throw new IllegalArgumentException("malformed resource type in scope '" + s + "'");
      }
      EnumSet<Interaction> perms = permissions(rest.substring(dot + 1), s);
      grants.computeIfAbsent(type, t -> EnumSet.noneOf(Interaction.class)).addAll(perms);
    }
    return new Scopes(grants, admin);
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
    return isAdmin == admin || !isAdmin ? this : new Scopes(grants, true);
  }

  /**
   * The part of {@code requested} that this (the client's allowed set) permits: each requested
   * grant intersected with each allowed one, so {@code system/Patient.r} fits within
   * {@code system/*.cruds}, and {@code system/*.rs} against {@code system/Patient.rs} yields
   * {@code system/Patient.rs}. An empty request gets everything allowed.
   */
  public Scopes narrow(Scopes requested) {
    if (requested.isEmpty()) {
      return this;
    }
    Map<String, EnumSet<Interaction>> out = new TreeMap<>();
    requested.grants.forEach((rType, rPerms) -> grants.forEach((aType, aPerms) -> {
      String type = rType.equals(WILDCARD) ? aType : aType.equals(WILDCARD) || aType.equals(rType) ? rType : null;
      if (type == null) {
        return;
      }
      EnumSet<Interaction> both = EnumSet.copyOf(rPerms);
      both.retainAll(aPerms);
      if (!both.isEmpty()) {
        out.computeIfAbsent(type, t -> EnumSet.noneOf(Interaction.class)).addAll(both);
      }
    }));
    // a type-specific grant already covered by the wildcard adds nothing
    EnumSet<Interaction> wild = out.get(WILDCARD);
    if (wild != null) {
      out.entrySet().removeIf(e -> !e.getKey().equals(WILDCARD) && wild.containsAll(e.getValue()));
    }
    return new Scopes(out, requested.admin && admin);
  }

  public boolean isEmpty() {
    return grants.isEmpty() && !admin;
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
    EnumSet<Interaction> wild = grants.get(WILDCARD);
    if (wild != null && wild.contains(interaction)) {
      return true;
    }
    if (resourceType.equals(WILDCARD)) {
      return false;
    }
    EnumSet<Interaction> typed = grants.get(resourceType);
    return typed != null && typed.contains(interaction);
  }

  @Override
  public boolean isAdmin() {
    return admin;
  }

  /** The resource types granted anything, "*" included. */
  public Set<String> types() {
    return grants.keySet();
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    // the wildcard first, then types alphabetically (TreeMap order puts "*" first already)
    grants.forEach((type, perms) -> {
      StringBuilder b = new StringBuilder("system/").append(type).append('.');
      for (Interaction i : perms) {
        b.append(LETTERS.charAt(i.ordinal()));
      }
      parts.add(b.toString());
    });
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
