package org.fhirbox.audit;

/**
 * What was done to a Binary, with its AuditEvent coding: {@code action} (FHIR R4
 * AuditEventAction), {@code type} and {@code subtype}. REST interactions use the FHIR
 * audit-event-type {@code rest} with the restful-interaction subtype; a {@code /storage} download
 * is no FHIR interaction, so it uses DICOM's {@code 110106 Export} (data leaves the system).
 */
public enum BinaryAction {
  CREATE("C", AuditCodes.REST, "create", "Binary created"),
  /** Created by the server itself, fetching an Attachment's external URL (no client asked). */
  INGESTED("C", AuditCodes.REST, "create", "Binary created by the ingestion of an external URL"),
  /** Deleted by the server itself: the ingestion that created it could not repoint its Attachment. */
  INGESTION_DISCARDED("D", AuditCodes.REST, "delete",
      "Binary deleted by the ingestion that created it: the Attachment it was for changed"),
  UPDATE("U", AuditCodes.REST, "update", "Binary updated"),
  DELETE("D", AuditCodes.REST, "delete", "Binary deleted"),
  READ("R", AuditCodes.REST, "read", "Binary content read"),
  VREAD("R", AuditCodes.REST, "vread", "Binary version content read"),
  /** Binary read as a resource (in JSON its {@code url} is a signed URL). */
  RESOURCE_READ("R", AuditCodes.REST, "read", "Binary resource read"),
  RESOURCE_VREAD("R", AuditCodes.REST, "vread", "Binary version resource read"),
  PRESIGNED_URL("R", AuditCodes.REST, "operation", "signed URL issued by $presigned-url"),
  DOWNLOAD("R", AuditCodes.EXPORT, null, "Binary content downloaded by signed URL");

  private final String actionCode;
  private final AuditCodes.Code type;
  private final String interaction;
  private final String description;

  BinaryAction(String actionCode, AuditCodes.Code type, String interaction, String description) {
    this.actionCode = actionCode;
    this.type = type;
    this.interaction = interaction;
    this.description = description;
  }

  /** C, R, U or D. */
  public String actionCode() {
    return actionCode;
  }

  public AuditCodes.Code type() {
    return type;
  }

  /** The restful-interaction code, or null when this is no FHIR REST interaction. */
  public String interaction() {
    return interaction;
  }

  public String description() {
    return description;
  }
}
