package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Parameters.ParametersParameterComponent;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;

/**
 * A FHIRPath Patch is applied within a time budget, and the patch that warms the engine applies (the
 * HTTP behaviour is in FhirPathPatchTest).
 */
class FhirPathPatchBudgetTest {
  private final FhirCodec codec = new FhirCodec(TestServer.FHIR);

  private static Parameters renameTo(String family) {
    Parameters patch = new Parameters();
    ParametersParameterComponent op = patch.addParameter().setName("operation");
    op.addPart().setName("type").setValue(new CodeType("replace"));
    op.addPart().setName("path").setValue(new StringType("Patient.name.family"));
    op.addPart().setName("value").setValue(new StringType(family));
    return patch;
  }

  private static Patient patient() {
    Patient p = new Patient();
    p.setId("budget");
    p.addName().setFamily("Before");
    return p;
  }

  @Test
  void aPatchPastItsBudgetIs413NamingWhereItStoppedAndChangesNothing() {
    Patient current = patient();
    assertThatThrownBy(() -> FhirPathPatch.apply(codec, current, renameTo("After"), 1 << 20, Duration.ZERO))
        .isInstanceOfSatisfying(FhirException.class, e -> {
          assertThat(e.kind()).isEqualTo(IssueKind.TOO_COSTLY);
          assertThat(e.getMessage()).contains("Parameters.parameter[0]").contains("nothing was changed");
        });
    assertThat(current.getNameFirstRep().getFamily()).isEqualTo("Before");
  }

  /** The server warms the engine with it in the background, where a failure is only logged at debug. */
  @Test
  void theWarmUpPatchApplies() {
    Patch.warmUpFhirPath(codec);
  }

  @Test
  void aPatchWithinItsBudgetApplies() {
    Patient patched = (Patient) FhirPathPatch.apply(codec, patient(), renameTo("After"), 1 << 20,
        FhirPathPatch.BUDGET);
    assertThat(patched.getNameFirstRep().getFamily()).isEqualTo("After");
  }
}
