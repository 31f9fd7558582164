package org.fhirbox.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.hl7.fhir.r4.model.AuditEvent;
import org.junit.jupiter.api.Test;

/** The AuditEvent of an admin change made by a person signed in to the admin client. */
class SecurityEventFactoryTest {
  @Test
  void aPersonSignedInToTheAdminClientIsTheRequestorAndTheClientTheOtherAgent() {
    AdminActor actor = new AdminActor("192.0.2.7", "console", "u-1", "Practitioner/p-1", "ada@example.org");
    AuditEvent e = SecurityEventFactory.build(new AdminChangeRecord(AdminAction.USER_DISABLED, "clinic", actor,
        "u-2", "Practitioner/p-2", Instant.parse("2026-12-05T12:00:00Z"), null));

    assertThat(e.getType().getCode()).isEqualTo("110137");
    assertThat(e.getAction()).isEqualTo(AuditEvent.AuditEventAction.U);
    assertThat(e.getAgent()).hasSize(2);
    AuditEvent.AuditEventAgentComponent person = e.getAgentFirstRep();
    assertThat(person.getRequestor()).isTrue();
    assertThat(person.getWho().getReference()).isEqualTo("Practitioner/p-1");
    assertThat(person.getAltId()).isEqualTo("u-1");
    assertThat(person.getName()).isEqualTo("ada@example.org");
    assertThat(person.getNetwork().getAddress()).isEqualTo("192.0.2.7");
    AuditEvent.AuditEventAgentComponent client = e.getAgent().get(1);
    assertThat(client.getRequestor()).isFalse();
    assertThat(client.getAltId()).isEqualTo("console");
    assertThat(e.getEntityFirstRep().getWhat().getReference()).isEqualTo("Practitioner/p-2");
    assertThat(e.getEntityFirstRep().getWhat().getIdentifier().getValue()).isEqualTo("u-2");
  }
}
