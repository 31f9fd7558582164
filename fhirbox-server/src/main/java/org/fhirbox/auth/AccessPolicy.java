package org.fhirbox.auth;

/** What a caller may do, by resource type and interaction (SMART v2 c/r/u/d/s). */
public interface AccessPolicy {
  /** The SMART v2 interactions. */
  enum Interaction { CREATE, READ, UPDATE, DELETE, SEARCH }

  boolean allows(String resourceType, Interaction interaction);

  /**
   * True when {@code interaction} on {@code resourceType} is allowed only inside the caller's
   * launch patient's compartment (SMART {@code patient/} scopes).
   */
  default boolean limitedToPatient(String resourceType, Interaction interaction) {
    return false;
  }

  /** Project administration (clients, audit, jobs). */
  boolean isAdmin();
}
