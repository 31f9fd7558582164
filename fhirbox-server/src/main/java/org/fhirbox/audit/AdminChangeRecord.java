package org.fhirbox.audit;

import java.time.Instant;

/**
 * One change made through the admin API, captured on the request thread. It never holds a
 * secret, a hash or a set-password link.
 *
 * @param project the project of the client, user or job changed
 * @param admin who made it
 * @param target the id of the client, user or ingestion job changed
 * @param targetFhirUser the changed user's FHIR resource ({@code Practitioner/1}), else null
 * @param detail a fact worth keeping that is no secret (the new scope), or null
 */
public record AdminChangeRecord(AdminAction action, String project, AdminActor admin, String target,
    String targetFhirUser, Instant recorded, String detail) implements AuditEntry {

  @Override
  public String what() {
    return action.description() + ": " + target + " by client " + admin.clientId();
  }
}
