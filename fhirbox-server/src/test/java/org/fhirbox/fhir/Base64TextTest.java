package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Base64BinaryType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

class Base64TextTest {
  private static final byte[] SHA1_OF_ABC = java.util.HexFormat.of().parseHex("a9993e364706816aba3e25717850c26c9cd0d89d");

  @Test
  void encodesAsHapiDoes() {
    assertThat(new Base64Text(SHA1_OF_ABC).getValueAsString())
        .isEqualTo(new Base64BinaryType(SHA1_OF_ABC).getValueAsString())
        .isEqualTo("qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  }

  @Test
  void aNewValueIsEncodedAgain() {
    Base64Text t = new Base64Text(SHA1_OF_ABC);
    t.getValueAsString();
    t.setValue(new byte[] {1, 2, 3});
    assertThat(t.getValueAsString()).isEqualTo("AQID");
    t.setValueAsString("BAUG");
    assertThat(t.getValue()).containsExactly(4, 5, 6);
    assertThat(t.getValueAsString()).isEqualTo("BAUG");
  }

  @Test
  void aCopyOfTheResourceKeepsTheHashAndItsText() {
    Patient p = new Patient();
    p.addPhoto(new Attachment().setUrl("Binary/b1").setHashElement(new Base64Text(SHA1_OF_ABC)));
    Patient copy = p.copy();
    assertThat(copy.getPhotoFirstRep().getHashElement()).isInstanceOf(Base64Text.class);
    assertThat(FhirContext.forR4Cached().newJsonParser().encodeResourceToString(copy))
        .contains("\"hash\":\"qZk+NkcGgWq6PiVxeFDCbJzQ2J0=\"");
  }
}
