package org.fhirbox.fhir;

import org.fhirbox.core.FhirException;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Parameters.ParametersParameterComponent;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;

/**
 * The body of a patch (FHIR R4 http.html#patch) in one of the two formats the server applies: a
 * JSON Patch (RFC 6902, {@link ResourcePatch}) or a FHIRPath Patch (R4 fhirpatch.html, a
 * Parameters resource, {@link FhirPathPatch}). Either is applied to the current version, and the
 * result is checked as strictly as an update's body; its type and id stay as they are.
 */
public sealed interface Patch {
  /**
   * {@code current} with this patch applied.
   *
   * @param maxBytes the largest JSON document the patched resource may be (the JSON body limit)
   */
  Resource applyTo(FhirCodec codec, Resource current, long maxBytes);

  /** A JSON Patch ({@code application/json-patch+json}) as sent. */
  record Json(String text) implements Patch {
    @Override
    public Resource applyTo(FhirCodec codec, Resource current, long maxBytes) {
      return ResourcePatch.apply(codec, current, text, maxBytes);
    }
  }

  /** A FHIRPath Patch: its operations, a Parameters resource. */
  record FhirPath(Parameters operations) implements Patch {
    @Override
    public Resource applyTo(FhirCodec codec, Resource current, long maxBytes) {
      return FhirPathPatch.apply(codec, current, operations, maxBytes);
    }
  }

  /**
   * Applies a small FHIRPath Patch to a Patient of its own, so that HAPI's FHIRPath engine and
   * what it builds on (some hundred classes, its caches) are loaded and initialised before the
   * first patch a client sends, which would otherwise wait for them; the server calls it once, off
   * the request path. A failure is thrown, for the caller to log.
   */
  static void warmUpFhirPath(FhirCodec codec) {
    Patient patient = new Patient();
    patient.setId("warm-up");
    patient.addName().setFamily("Before");
    Parameters patch = new Parameters();
    ParametersParameterComponent op = patch.addParameter().setName("operation");
    op.addPart().setName("type").setValue(new CodeType("replace"));
    op.addPart().setName("path").setValue(new StringType("Patient.name.where(family = 'Before').family"));
    op.addPart().setName("value").setValue(new StringType("After"));
    new FhirPath(patch).applyTo(codec, patient, Long.MAX_VALUE);
  }

  /** {@code patched}, the result of a patch of {@code current}; 400 when it changed the resource's type or id. */
  static Resource sameResource(Resource current, Resource patched) {
    if (!patched.fhirType().equals(current.fhirType())
        || !current.getIdElement().getIdPart().equals(patched.getIdElement().getIdPart())) {
      throw FhirException.badRequest("a patch may not change the resource's type or id");
    }
    return patched;
  }

  /** The FHIRPath Patch {@code body} is; 400 when it is another resource than a Parameters. */
  static Patch fhirPath(Resource body) {
    if (!(body instanceof Parameters p)) {
      throw FhirException.badRequest("a FHIRPath Patch is a Parameters resource (FHIR R4 fhirpatch.html); the body"
          + " is a " + (body == null ? "nothing" : body.fhirType()));
    }
    return new FhirPath(p);
  }
}
