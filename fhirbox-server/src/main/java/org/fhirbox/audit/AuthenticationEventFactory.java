package org.fhirbox.audit;

import java.util.Date;
import org.fhirbox.model.AuditSource;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAgentComponent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAgentNetworkType;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;

/**
 * Turns an {@link AuthenticationRecord} into a FHIR R4 {@code AuditEvent} (IHE BALP "User
 * Authentication" shape): type DICOM {@code 110114}, subtype Login or Logout, action {@code E},
 * outcome {@code 0} or, when refused, {@code 4} (minor failure) with the reason in
 * {@code outcomeDesc}. Agents: the person ({@code requestor}; {@code who} is their FHIR resource
 * with {@code who.identifier} and {@code altId} = user id, {@code name} = email, and the caller's
 * address) and the app ({@code who.identifier} and {@code altId} = client id). The person's FHIR
 * resource is also the entity, so {@code AuditEvent?entity=Practitioner/1} finds their sign-ins.
 */
final class AuthenticationEventFactory {
  AuditEvent build(AuthenticationRecord r) {
    AuthenticationAction a = r.action();
    AuditEvent e = new AuditEvent();
    e.setType(coding(AuditCodes.USER_AUTHENTICATION));
    e.addSubtype(coding(a.subtype()));
    e.setAction(AuditEventAction.E);
    e.setRecorded(Date.from(r.recorded()));
    e.setOutcome(r.succeeded() ? AuditEventOutcome._0 : AuditEventOutcome._4);
    e.setOutcomeDesc(r.succeeded() ? a.description() : a.description() + " refused: " + r.failure());

    AuditEventAgentComponent person = e.addAgent().setRequestor(true);
    Reference who = new Reference();
    if (r.fhirUser() != null) {
      who.setReference(r.fhirUser());
    }
    if (r.userId() != null) {
      who.setIdentifier(new Identifier().setSystem(AuditCodes.USER_ID).setValue(r.userId()));
      person.setAltId(r.userId());
    }
    who.setDisplay(r.name() != null ? r.name() : r.email() != null ? r.email() : "unknown person");
    person.setWho(who);
    if (r.email() != null) {
      person.setName(r.email());
    }
    if (r.address() != null) {
      person.getNetwork().setAddress(r.address()).setType(AuditEventFactory.isIpLiteral(r.address())
          ? AuditEventAgentNetworkType._2 : AuditEventAgentNetworkType._1);
    }

    if (r.clientId() != null) {
      e.addAgent().setRequestor(false).setType(new CodeableConcept(coding(AuditCodes.APPLICATION)))
          .setWho(new Reference().setIdentifier(new Identifier().setSystem(AuditCodes.CLIENT_ID)
              .setValue(r.clientId())).setDisplay(r.clientId()))
          .setAltId(r.clientId());
    }

    e.getSource().setSite("fhirbox").setObserver(new Reference().setDisplay("fhirbox")
            .setIdentifier(new Identifier().setSystem(AuditSource.SYSTEM).setValue(AuditSource.VALUE)))
        .addType(coding(AuditCodes.APPLICATION_SERVER));

    if (r.fhirUser() != null) {
      boolean patient = r.fhirUser().startsWith("Patient/");
      e.addEntity().setWhat(new Reference(r.fhirUser()))
          .setType(coding(AuditCodes.PERSON))
          .setRole(coding(patient ? AuditCodes.PATIENT_ROLE : AuditCodes.USER_ROLE))
          .setDescription("the person who signed in");
    }
    return e;
  }

  private static Coding coding(AuditCodes.Code c) {
    return new Coding(c.system(), c.code(), c.display());
  }
}
