package org.fhirbox.audit;

/** The code systems and codes an AuditEvent here uses (FHIR R4 and DICOM PS3.16 audit vocabularies). */
final class AuditCodes {
  /** A system, code and display. */
  record Code(String system, String code, String display) {}

  static final String AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type";
  static final String RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction";
  static final String DICOM = "http://dicom.nema.org/resources/ontology/DCM";
  static final String SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type";
  static final String ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
  static final String OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role";
  /** The identifier system of a client id in {@code agent.who.identifier}. */
  static final String CLIENT_ID = "urn:fhirbox:client-id";

  static final Code REST = new Code(AUDIT_EVENT_TYPE, "rest", "RESTful Operation");
  static final Code EXPORT = new Code(DICOM, "110106", "Export");
  static final Code APPLICATION = new Code(DICOM, "110150", "Application");
  static final Code APPLICATION_SERVER = new Code(SOURCE_TYPE, "4", "Application Server");
  static final Code PERSON = new Code(ENTITY_TYPE, "1", "Person");
  static final Code SYSTEM_OBJECT = new Code(ENTITY_TYPE, "2", "System Object");
  static final Code PATIENT_ROLE = new Code(OBJECT_ROLE, "1", "Patient");
  static final Code DOMAIN_RESOURCE = new Code(OBJECT_ROLE, "4", "Domain Resource");
  static final Code USER_ROLE = new Code(OBJECT_ROLE, "6", "User");
  static final Code USER_AUTHENTICATION = new Code(DICOM, "110114", "User Authentication");
  static final Code LOGIN = new Code(DICOM, "110122", "Login");
  static final Code LOGOUT = new Code(DICOM, "110123", "Logout");
  /** The identifier system of a user id in {@code agent.who.identifier}. */
  static final String USER_ID = "urn:fhirbox:user-id";
  /** DICOM PS3.16: an admin changed a client's or a user's security attributes (credentials, scopes, state). */
  static final Code SECURITY_ATTRIBUTES_CHANGED = new Code(DICOM, "110137", "User Security Attributes Changed");
  /** DICOM PS3.16: an operator acted on the server's own processing (an ingestion job retried). */
  static final Code APPLICATION_ACTIVITY = new Code(DICOM, "110100", "Application Activity");
  static final Code SECURITY_RESOURCE_ROLE = new Code(OBJECT_ROLE, "13", "Security Resource");
  static final Code JOB_ROLE = new Code(OBJECT_ROLE, "20", "Job");
  /** The subtypes of admin changes ({@link AdminAction}), a code system of fhirbox's own. */
  static final String ADMIN_ACTION = "urn:fhirbox:admin-action";
  /** The identifier system of an ingestion job id in {@code entity.what.identifier}. */
  static final String INGEST_JOB_ID = "urn:fhirbox:ingest-job-id";

  private AuditCodes() {}
}
