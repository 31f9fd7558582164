package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/** The resources nested in Bundles and Parameters, whose Attachments every step must see. */
class ResourceTreeTest {
  private static final FhirContext FHIR = FhirContext.forR4Cached();

  private static Patient withPhoto(String url) {
    Patient p = new Patient();
    p.addPhoto(new Attachment().setUrl(url));
    return p;
  }

  @Test
  void attachmentsInParametersPartsAtAnyDepthAndInBundleEntriesAreFound() {
    Parameters inner = new Parameters();
    Parameters.ParametersParameterComponent outer = inner.addParameter().setName("outer");
    outer.addPart().setName("middle").addPart().setName("deep").setResource(withPhoto("Binary/deep"));
    outer.addPart().setName("shallow").setResource(withPhoto("Binary/shallow"));
    inner.addParameter().setName("top").setResource(withPhoto("Binary/top"));
    Bundle bundle = new Bundle();
    bundle.addEntry().setResource(inner);
    bundle.addEntry().setResource(withPhoto("Binary/entry"));

    List<String> urls = ResourceTree.elements(FHIR.newTerser(), bundle, Attachment.class).stream()
        .map(Attachment::getUrl).toList();

    assertThat(urls).containsExactlyInAnyOrder("Binary/deep", "Binary/shallow", "Binary/top", "Binary/entry");
  }
}
