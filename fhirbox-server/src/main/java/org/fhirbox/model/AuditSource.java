package org.fhirbox.model;

/**
 * How an AuditEvent that fhirbox itself records names its source: {@code source.observer.identifier}
 * with this system. Apps may create AuditEvents of their own, but none with this identifier, so
 * an admin can tell the server's record from what a client wrote.
 */
public final class AuditSource {
  /** The identifier system of the server's own {@code source.observer}. */
  public static final String SYSTEM = "urn:fhirbox:audit-source";
  /** Its value. */
  public static final String VALUE = "fhirbox";

  private AuditSource() {
  }
}
