package org.fhirbox.fhir;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Resource;

/**
 * The PATCH entry of a batch or transaction Bundle (FHIR R4 http.html#transaction): its resource is
 * a Binary whose {@code contentType} is {@code application/json-patch+json} and whose {@code data}
 * is the JSON Patch (RFC 6902), its {@code request.url} the {@code Type/id} patched and its
 * {@code request.ifMatch} the version. It is applied as a single {@code PATCH} is
 * ({@link ResourceService#patch}, {@link ResourcePatch}), in the Bundle's database transaction: the
 * caller needs update and read access (and the resource in its patient compartment where that
 * limits it), the preconditions are judged on the version read, and the patched resource goes
 * through the checks of any update ({@link WriteChecks}). A Binary is not patched, and FHIRPath
 * Patch (a Parameters resource) is 415, as for a single {@code PATCH}.
 */
final class PatchEntries {
  private static final String JSON_PATCH = "application/json-patch+json";

  private final ResourceRepository repository;
  private final PatientCompartment compartment;
  private final WriteChecks checks;
  private final long maxBytes;

  /** @param maxBytes the largest JSON document a patched resource may be ({@code FHIRBOX_MAX_JSON_BYTES}) */
  PatchEntries(ResourceRepository repository, PatientCompartment compartment, WriteChecks checks, long maxBytes) {
    this.repository = repository;
    this.compartment = compartment;
    this.checks = checks;
    this.maxBytes = maxBytes;
  }

  /**
   * Patches what entry {@code r} names with the patch {@code body} holds, in {@code tx}; the new
   * version written. 412 for a stale {@code ifMatch} or a failed {@code test} operation, 400 for a
   * patch that does not apply, 404 or 410 for a resource that is not there.
   */
  Written apply(ResourceStore.Tx tx, Principal principal, EntryRequest r, Resource body,
      CreatedBinaries createdHere) {
    String type = r.type();
    String id = r.id();
    principal.require(type, Interaction.UPDATE);
    compartment.limit(principal, type, Interaction.UPDATE);
    if (type.equals("Binary")) {
      throw FhirException.badRequest("a Binary is not patched; send its new content with PUT Binary/" + id);
    }
    String patch = patchOf(r, body);
    principal.require(type, Interaction.READ);
    Optional<String> patient = compartment.limit(principal, type, Interaction.READ);
    if (patient.isPresent()) {
      compartment.requireVisible(tx, principal.project(), patient.get(), type, id, null);
    }
    // locked until the Bundle's transaction ends: no other write comes between the version read and
    // the update of it, so the patch applies to the version it was judged on (a single PATCH retries)
    StoredResource current = repository.read(tx, principal.project(), type, id, true);
    r.preconditions().requireForUpdate(Optional.of(current), type, id);
    Resource patched = ResourcePatch.apply(repository.codec(), repository.toResource(current), patch, maxBytes);
    WriteChecks.Checked c = checks.before(tx, principal, type, id, Interaction.UPDATE, patched, createdHere);
    Written w = checks.after(c.patient(), repository.update(tx, principal.project(), type, id, patched,
        WritePreconditions.ifMatch(current.versionId()), null, null, c.gate()));
    createdHere.written(w);
    return w;
  }

  /** The JSON Patch of a PATCH entry: its Binary's data as UTF-8. */
  private static String patchOf(EntryRequest r, Resource body) {
    String expected = "a PATCH entry holds its JSON Patch as a Binary with contentType " + JSON_PATCH
        + " and the patch base64 in data (FHIR R4 http.html#transaction)";
    if (body instanceof Parameters) {
      throw FhirException.unsupportedMediaType("FHIRPath Patch is not supported; " + expected);
    }
    if (!(body instanceof Binary b)) {
      throw FhirException.badRequest("entry " + r.index() + " holds " + (body == null ? "no resource"
          : "a " + body.fhirType()) + "; " + expected);
    }
    String contentType = b.hasContentType() ? b.getContentType().toLowerCase(Locale.ROOT) : "";
    if (!contentType.startsWith(JSON_PATCH)) {
      throw FhirException.unsupportedMediaType("the patch's contentType is '" + b.getContentType()
          + "'; XML Patch and other formats are not supported: " + expected);
    }
    if (!b.hasData()) {
      throw FhirException.badRequest("the patch Binary has no data; " + expected);
    }
    return new String(b.getData(), StandardCharsets.UTF_8);
  }
}
