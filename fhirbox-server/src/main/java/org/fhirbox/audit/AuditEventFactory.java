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
 * Turns an {@link AuditRecord} into a FHIR R4 {@code AuditEvent} (IHE BALP shape): who
 * ({@code agent.who.identifier} and {@code agent.altId} = client id, {@code requestor=true}),
 * from where ({@code agent.network.address}), what ({@code entity.what} =
 * {@code Binary/{id}/_history/{v}}, plus the securityContext as a second entity), when
 * ({@code recorded}), the outcome ({@code 0}, success) and the action, type and subtype codes.
 * When a person signed in through the client (a user's token), a second agent names them
 * ({@code who.identifier} {@code urn:fhirbox:user-id} and {@code altId} = user id,
 * {@code requestor=true}) and the client's agent is {@code requestor=false}, as in a sign-in's
 * event.
 */
final class AuditEventFactory {
  /** An IPv4 or IPv6 literal (network type 2) rather than a machine name (type 1). */
  private static final java.util.regex.Pattern IP =
      java.util.regex.Pattern.compile("[0-9.]+|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*");

  /** The agent of a Binary an ingestion job created. */
  static final String INGESTION = "fhirbox ingestion";

  AuditEvent build(AuditRecord r) {
    BinaryAction a = r.action();
    AuditEvent e = new AuditEvent();
    e.setType(coding(a.type()));
    if (a.interaction() != null) {
      e.addSubtype(new Coding(AuditCodes.RESTFUL_INTERACTION, a.interaction(), null));
    }
    e.setAction(AuditEventAction.fromCode(a.actionCode()));
    e.setRecorded(Date.from(r.recorded()));
    e.setOutcome(AuditEventOutcome._0);
    e.setOutcomeDesc(a.description());

    AuditEventAgentComponent agent = e.addAgent().setRequestor(true);
    agent.setType(new CodeableConcept(coding(AuditCodes.APPLICATION)));
    if (a == BinaryAction.INGESTED || a == BinaryAction.INGESTION_DISCARDED) {
      // the server itself, as source.observer names it: no client asked
      agent.setWho(new Reference().setDisplay(INGESTION)
          .setIdentifier(new Identifier().setSystem(AuditSource.SYSTEM).setValue(AuditSource.VALUE)));
    } else if (r.clientId() != null) {
      agent.setWho(new Reference().setIdentifier(new Identifier().setSystem(AuditCodes.CLIENT_ID)
          .setValue(r.clientId())).setDisplay(r.clientId()));
      agent.setAltId(r.clientId());
    } else {
      agent.setWho(new Reference().setDisplay("holder of a signed URL"));
    }
    if (r.userId() != null) {
      // the person signed in through the client asked for it, as a sign-in event names them
      agent.setRequestor(false);
      AuditEventAgentComponent person = e.addAgent().setRequestor(true).setAltId(r.userId());
      person.setWho(new Reference().setIdentifier(new Identifier().setSystem(AuditCodes.USER_ID)
          .setValue(r.userId())).setDisplay("user " + r.userId()));
      if (r.address() != null) {
        network(person, r.address());
      }
    }
    if (r.address() != null) {
      agent.getNetwork().setAddress(r.address()).setType(isIpLiteral(r.address())
          ? AuditEventAgentNetworkType._2 : AuditEventAgentNetworkType._1);
    }

    e.getSource().setSite("fhirbox").setObserver(new Reference().setDisplay("fhirbox")
            .setIdentifier(new Identifier().setSystem(AuditSource.SYSTEM).setValue(AuditSource.VALUE)))
        .addType(coding(AuditCodes.APPLICATION_SERVER));

    AuditEventEntityComponent binary = e.addEntity()
        .setWhat(new Reference(r.what()))
        .setType(coding(AuditCodes.SYSTEM_OBJECT))
        .setRole(coding(AuditCodes.DOMAIN_RESOURCE))
        .setDescription(a.description());
    if (r.detail() != null) {
      binary.addDetail().setType("request").setValue(new org.hl7.fhir.r4.model.StringType(r.detail()));
    }
    if (r.securityContext() != null) {
      boolean patient = r.securityContext().startsWith("Patient/");
      e.addEntity().setWhat(new Reference(r.securityContext()))
          .setType(coding(patient ? AuditCodes.PERSON : AuditCodes.SYSTEM_OBJECT))
          .setRole(coding(patient ? AuditCodes.PATIENT_ROLE : AuditCodes.DOMAIN_RESOURCE))
          .setDescription("the Binary's securityContext");
    }
    return e;
  }

  private static void network(AuditEventAgentComponent agent, String address) {
    agent.getNetwork().setAddress(address)
        .setType(isIpLiteral(address) ? AuditEventAgentNetworkType._2 : AuditEventAgentNetworkType._1);
  }

  static boolean isIpLiteral(String address) {
    return IP.matcher(address).matches();
  }

  private static Coding coding(AuditCodes.Code c) {
    return new Coding(c.system(), c.code(), c.display());
  }
}
