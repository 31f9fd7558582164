package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link FhirboxClient#readReference}: what a Reference points at, read on this server only. */
class ReadReferenceTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  @RegisterExtension
  final PeerServer elsewhere = PeerServer.started();

  @Test
  void aRelativeReferenceAVersionedOneAndOneUnderTheBaseAreRead() {
    Patient p = fhirbox.client().createResource(new Patient().addName(new HumanName().setFamily("Okafor")));
    String id = p.getIdElement().getIdPart();
    Observation obs = new Observation().setSubject(new Reference("Patient/" + id));

    Patient subject = fhirbox.client().readReference(obs.getSubject(), Patient.class);
    Resource untyped = fhirbox.client().readReference(new Reference(fhirbox.client().fhirBase() + "Patient/" + id));
    Patient first = fhirbox.client().readReference(new Reference("Patient/" + id + "/_history/1"), Patient.class);

    assertThat(subject.getNameFirstRep().getFamily()).isEqualTo("Okafor");
    assertThat(untyped).isInstanceOfSatisfying(Patient.class, u -> assertThat(u.getIdElement().getIdPart()).isEqualTo(id));
    assertThat(first.getMeta().getVersionId()).isEqualTo("1");
  }

  @Test
  void aReferenceToAnotherHostIsRefusedAndNothingIsSentThere() {
    Reference foreign = new Reference(elsewhere.root() + "fhir/R4/Patient/1");

    assertThatThrownBy(() -> fhirbox.client().readReference(foreign))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("another server");
    assertThat(elsewhere.seen).isEmpty();
  }

  @Test
  void aReferenceOfAnotherTypeThanAskedForIsRefused() {
    assertThatThrownBy(() -> fhirbox.client().readReference(new Reference("Practitioner/1"), Patient.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Practitioner");
  }

  @Test
  void aContainedOrLogicalReferenceIsRefused() {
    assertThatThrownBy(() -> fhirbox.client().readReference(new Reference("#p1")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("contained");
    assertThatThrownBy(() -> fhirbox.client().readReference(new Reference().setDisplay("Dr. Who")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
