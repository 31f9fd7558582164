package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Telling a FHIR Binary from content by the start of a body, and the Binary url ignored on input. */
class BinaryBodiesTest {
  private static boolean binary(String head, FhirFormat format) {
    return BinaryResourceSniffer.isBinaryResource(head.getBytes(StandardCharsets.UTF_8), format);
  }

  @Test
  void aJsonObjectWithTopLevelResourceTypeBinaryIsABinary() {
    assertThat(binary("{\"resourceType\":\"Binary\",\"data\":\"AAAA", FhirFormat.JSON)).isTrue();
    assertThat(binary("\uFEFF {\"contentType\":\"text/plain\", \"meta\":{\"resourceType\":\"x\"},"
        + " \"resourceType\" : \"Binary\"}", FhirFormat.JSON)).isTrue();
    assertThat(binary("{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\"resourceType\":\"Binary\"}}]}",
        FhirFormat.JSON)).isFalse();
    assertThat(binary("{\"a\":{\"resourceType\":\"Binary\"}}", FhirFormat.JSON)).isFalse();
    assertThat(binary("[{\"resourceType\":\"Binary\"}]", FhirFormat.JSON)).isFalse();
    assertThat(binary("{\"data\":\"cut off before the end", FhirFormat.JSON)).isFalse();
    assertThat(binary("not json", FhirFormat.JSON)).isFalse();
    assertThat(binary("", FhirFormat.JSON)).isFalse();
  }

  @Test
  void anXmlRootBinaryInTheFhirNamespaceIsABinary() {
    assertThat(binary("<?xml version=\"1.0\"?><!-- c --><Binary xmlns=\"http://hl7.org/fhir\"><data value=\"",
        FhirFormat.XML)).isTrue();
    assertThat(binary("<f:Binary xmlns:f=\"http://hl7.org/fhir\"/>", FhirFormat.XML)).isTrue();
    assertThat(binary("<Binary/>", FhirFormat.XML)).isFalse();
    assertThat(binary("<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><Binary xmlns=\"http://hl7.org/fhir\"/>",
        FhirFormat.XML)).isFalse();
    assertThat(binary("<Bundle xmlns=\"http://hl7.org/fhir\">", FhirFormat.XML)).isFalse();
    assertThat(binary("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>", FhirFormat.XML))
        .isFalse();
    assertThat(binary("{\"resourceType\":\"Binary\"}", FhirFormat.XML)).isFalse();
  }

  @Test
  void theUrlOfEachBinaryIsDroppedAndTheRestKept() {
    assertThat(BinaryUrlField.strip("{\"resourceType\":\"Binary\",\"url\":\"http://h/s?a=\\\"b\\\"\",\"x\":1.10}"))
        .isEqualTo("{\"resourceType\":\"Binary\",\"x\":1.10}");
    assertThat(BinaryUrlField.strip("{\n  \"contentType\" : \"a/b\",\n  \"url\" : \"u\"\n,\"resourceType\":\"Binary\"}"))
        .isEqualTo("{\n  \"contentType\" : \"a/b\",\n  \"resourceType\":\"Binary\"}");
    assertThat(BinaryUrlField.strip("{\"resourceType\":\"Binary\", \"url\" : \"u\" }"))
        .isEqualTo("{\"resourceType\":\"Binary\" }");
    String bundle = "{\"resourceType\":\"Bundle\",\"entry\":[{\"fullUrl\":\"x\",\"resource\":{\"resourceType\":"
        + "\"Binary\",\"url\":\"u\"}},{\"resource\":{\"resourceType\":\"DocumentReference\",\"content\":[{"
        + "\"attachment\":{\"url\":\"Binary/1\"}}]}},{\"resource\":{\"url\":\"v\",\"resourceType\":\"Binary\"}}]}";
    assertThat(BinaryUrlField.strip(bundle)).isEqualTo("{\"resourceType\":\"Bundle\",\"entry\":[{\"fullUrl\":\"x\","
        + "\"resource\":{\"resourceType\":\"Binary\"}},{\"resource\":{\"resourceType\":\"DocumentReference\","
        + "\"content\":[{\"attachment\":{\"url\":\"Binary/1\"}}]}},{\"resource\":{\"resourceType\":\"Binary\"}}]}");
    String other = "{\"resourceType\":\"Questionnaire\",\"url\":\"http://x/Binary\",\"name\":\"Binary\"}";
    assertThat(BinaryUrlField.strip(other)).isSameAs(other);
    assertThat(BinaryUrlField.strip("{\"resourceType\":\"Binary\",\"url\":")).isEqualTo("{\"resourceType\":\"Binary\",\"url\":");
  }
}
