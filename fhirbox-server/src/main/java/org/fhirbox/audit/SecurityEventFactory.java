package org.fhirbox.audit;

import java.util.Date;
import org.fhirbox.model.AuditSource;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAgentComponent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAgentNetworkType;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventEntityComponent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;

/**
 * Turns clients' authentication and admin changes into FHIR R4 {@code AuditEvent}s, in the
 * shape of {@link AuthenticationEventFactory}.
 *
 * <p>A client's authentication (IHE BALP "User Authentication" with the client as the user):
 * type DICOM {@code 110114}, subtype {@code 110122 Login}, action {@code E}, outcome {@code 0} or
 * {@code 4} with the reason in {@code outcomeDesc}; one agent, the client ({@code requestor},
 * type {@code 110150 Application}, {@code who.identifier} and {@code altId} = client id, the
 * caller's address); one entity, the client (role {@code 13 Security Resource}) with details
 * {@code method} and, when a token was issued, {@code scope}.
 *
 * <p>An admin change: type {@code 110137 User Security Attributes Changed} (clients and users)
 * or {@code 110100 Application Activity} (jobs), subtype the {@link AdminAction} code, action
 * {@code C} or {@code U}, outcome {@code 0}. Agents: the person signed in to the admin client
 * when there is one ({@code requestor}), and the admin client (requestor when alone); entity:
 * the client (identifier), user (its FHIR resource and user id) or job changed.
 */
final class SecurityEventFactory {
  private SecurityEventFactory() {}

  static AuditEvent build(ClientAuthenticationRecord r) {
    AuditEvent e = new AuditEvent();
    e.setType(coding(AuditCodes.USER_AUTHENTICATION));
    e.addSubtype(coding(AuditCodes.LOGIN));
    e.setAction(AuditEventAction.E);
    e.setRecorded(Date.from(r.recorded()));
    e.setOutcome(r.succeeded() ? AuditEventOutcome._0 : AuditEventOutcome._4);
    e.setOutcomeDesc(r.succeeded() ? "client_credentials token issued to the client"
        : "client authentication refused: " + r.failure());
    AuditEventAgentComponent client = e.addAgent().setRequestor(true)
        .setType(new CodeableConcept(coding(AuditCodes.APPLICATION)));
    if (r.clientId() != null) {
      client.setWho(clientReference(r.clientId())).setAltId(r.clientId());
    } else {
      client.setWho(new Reference().setDisplay("no client named"));
    }
    network(client, r.address());
    source(e);
    AuditEventEntityComponent entity = e.addEntity().setType(coding(AuditCodes.SYSTEM_OBJECT))
        .setRole(coding(AuditCodes.SECURITY_RESOURCE_ROLE))
        .setDescription(r.succeeded() ? "the client that authenticated" : "the client claimed");
    if (r.clientId() != null) {
      entity.setWhat(clientReference(r.clientId())).setName(r.clientId());
    }
    if (r.method() != null) {
      entity.addDetail().setType("method").setValue(new org.hl7.fhir.r4.model.StringType(r.method()));
    }
    if (r.scope() != null) {
      entity.addDetail().setType("scope").setValue(new org.hl7.fhir.r4.model.StringType(r.scope()));
    }
    return e;
  }

  static AuditEvent build(AdminChangeRecord r) {
    AdminAction a = r.action();
    AuditEvent e = new AuditEvent();
    e.setType(coding(a.type()));
    e.addSubtype(new Coding(AuditCodes.ADMIN_ACTION, a.code(), a.description()));
    e.setAction(a.action());
    e.setRecorded(Date.from(r.recorded()));
    e.setOutcome(AuditEventOutcome._0);
    e.setOutcomeDesc(a.description());
    AdminActor admin = r.admin();
    boolean person = admin.userId() != null;
    if (person) {
      AuditEventAgentComponent p = e.addAgent().setRequestor(true);
      Reference who = new Reference().setIdentifier(new Identifier().setSystem(AuditCodes.USER_ID)
          .setValue(admin.userId()));
      if (admin.fhirUser() != null) {
        who.setReference(admin.fhirUser());
      }
      who.setDisplay(admin.email() != null ? admin.email() : admin.userId());
      p.setWho(who).setAltId(admin.userId());
      if (admin.email() != null) {
        p.setName(admin.email());
      }
      network(p, admin.address());
    }
    AuditEventAgentComponent client = e.addAgent().setRequestor(!person)
        .setType(new CodeableConcept(coding(AuditCodes.APPLICATION)))
        .setWho(clientReference(admin.clientId())).setAltId(admin.clientId());
    if (!person) {
      network(client, admin.address());
    }
    source(e);
    AuditEventEntityComponent entity = e.addEntity().setDescription(a.description());
    switch (a.target()) {
      case CLIENT -> entity.setWhat(clientReference(r.target())).setName(r.target())
          .setType(coding(AuditCodes.SYSTEM_OBJECT)).setRole(coding(AuditCodes.SECURITY_RESOURCE_ROLE));
      case USER -> {
        Reference what = new Reference().setIdentifier(new Identifier().setSystem(AuditCodes.USER_ID)
            .setValue(r.target())).setDisplay("user " + r.target());
        if (r.targetFhirUser() != null) {
          what.setReference(r.targetFhirUser());
        }
        entity.setWhat(what).setName(r.target()).setType(coding(AuditCodes.PERSON))
            .setRole(coding(AuditCodes.USER_ROLE));
      }
      case JOB -> entity.setWhat(new Reference().setIdentifier(new Identifier().setSystem(AuditCodes.INGEST_JOB_ID)
              .setValue(r.target())).setDisplay("ingestion job " + r.target())).setName(r.target())
          .setType(coding(AuditCodes.SYSTEM_OBJECT)).setRole(coding(AuditCodes.JOB_ROLE));
      default -> throw new IllegalStateException();
    }
    if (r.detail() != null) {
      entity.addDetail().setType(a.target() == AdminAction.Target.JOB ? "job" : "new value")
          .setValue(new org.hl7.fhir.r4.model.StringType(r.detail()));
    }
    return e;
  }

  private static Reference clientReference(String clientId) {
    return new Reference().setIdentifier(new Identifier().setSystem(AuditCodes.CLIENT_ID).setValue(clientId))
        .setDisplay(clientId);
  }

  private static void network(AuditEventAgentComponent agent, String address) {
    if (address != null) {
      agent.getNetwork().setAddress(address).setType(AuditEventFactory.isIpLiteral(address)
          ? AuditEventAgentNetworkType._2 : AuditEventAgentNetworkType._1);
    }
  }

  private static void source(AuditEvent e) {
    e.getSource().setSite("fhirbox").setObserver(new Reference().setDisplay("fhirbox")
            .setIdentifier(new Identifier().setSystem(AuditSource.SYSTEM).setValue(AuditSource.VALUE)))
        .addType(coding(AuditCodes.APPLICATION_SERVER));
  }

  private static Coding coding(AuditCodes.Code c) {
    return new Coding(c.system(), c.code(), c.display());
  }
}
