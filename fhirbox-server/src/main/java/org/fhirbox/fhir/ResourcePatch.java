package org.fhirbox.fhir;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.flipkart.zjsonpatch.InvalidJsonPatchException;
import com.flipkart.zjsonpatch.JsonPatch;
import com.flipkart.zjsonpatch.JsonPatchApplicationException;
import com.flipkart.zjsonpatch.Operation;
import org.fhirbox.core.FhirException;
import org.hl7.fhir.r4.model.Resource;

/**
 * A JSON Patch (RFC 6902, {@code application/json-patch+json}) applied to a resource as FHIR JSON
 * (FHIR R4 http.html#patch). The result is parsed as strictly as any resource a client sends, so
 * a patch cannot store what an update could not. A failed {@code test} operation is 412: it is the
 * patch's own precondition (the Medplum client tests {@code /meta/versionId} this way); a patch that
 * is not a JSON Patch, or names a path the resource does not have, is 400.
 */
final class ResourcePatch {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ResourcePatch() {}

  /** {@code current} with {@code patch} applied; its type and id must stay as they are. */
  static Resource apply(FhirCodec codec, Resource current, String patch) {
    JsonNode operations;
    try {
      operations = JSON.readTree(patch);
    } catch (JsonProcessingException e) {
      throw FhirException.badRequest("the body is not JSON: " + e.getOriginalMessage());
    }
    if (operations == null || !operations.isArray()) {
      throw FhirException.badRequest("a JSON Patch is an array of operations (RFC 6902)");
    }
    JsonNode patched;
    try {
      JsonPatch.validate(operations);
      patched = JsonPatch.apply(operations, JSON.readTree(codec.encode(current, FhirFormat.JSON, false)));
    } catch (InvalidJsonPatchException e) {
      throw FhirException.badRequest("not a valid JSON Patch (RFC 6902): " + e.getMessage());
    } catch (JsonPatchApplicationException e) {
      if (e.getOperation() == Operation.TEST) {
        throw FhirException.preconditionFailed("the patch's test operation failed at " + e.getPath()
            + "; nothing was changed");
      }
      throw FhirException.badRequest("the patch cannot be applied to " + current.fhirType() + "/"
          + current.getIdElement().getIdPart() + ": " + e.getMessage());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a stored resource's JSON did not read back", e);
    }
    Resource out = codec.parse(patched.toString(), FhirFormat.JSON);
    if (!out.fhirType().equals(current.fhirType())
        || !current.getIdElement().getIdPart().equals(out.getIdElement().getIdPart())) {
      throw FhirException.badRequest("a patch may not change the resource's type or id");
    }
    return out;
  }
}
