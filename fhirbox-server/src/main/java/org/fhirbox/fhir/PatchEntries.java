package org.fhirbox.fhir;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * is the JSON Patch (RFC 6902), or a Parameters resource, a FHIRPath Patch (R4 fhirpatch.html); its
 * {@code request.url} the {@code Type/id} patched and its {@code request.ifMatch} the version. It is
 * applied as a single {@code PATCH} is ({@link ResourceService#patch}, {@link Patch}), in the
 * Bundle's database transaction: the caller needs update and read access (and the resource in its
 * patient compartment where that limits it), the preconditions are judged on the version read, and
 * the patched resource goes through the checks of any update ({@link WriteChecks}). A Binary is not
 * patched, and another {@code contentType} (XML Patch) is 415, as for a single {@code PATCH}. A
 * conditional patch, an entry's {@code Type?criteria} or a single {@code PATCH /Type?criteria},
 * patches the one match of its search, made as the caller in the same transaction.
 */
final class PatchEntries {
  private static final String JSON_PATCH = "application/json-patch+json";

  private final ResourceRepository repository;
  private final PatientCompartment compartment;
  private final WriteChecks checks;
  private final ConditionalMatch conditional;
  private final long maxBytes;

  /** @param maxBytes the largest JSON document a patched resource may be ({@code FHIRBOX_MAX_JSON_BYTES}) */
  PatchEntries(ResourceRepository repository, PatientCompartment compartment, WriteChecks checks,
      ConditionalMatch conditional, long maxBytes) {
    this.repository = repository;
    this.compartment = compartment;
    this.checks = checks;
    this.conditional = conditional;
    this.maxBytes = maxBytes;
  }

  /**
   * Patches what entry {@code r} names with the patch {@code body} holds, in {@code tx}; the new
   * version written. 412 for a stale {@code ifMatch} or a failed {@code test} operation, 400 for a
   * patch that does not apply, 404 or 410 for a resource that is not there.
   */
  Written apply(ResourceStore.Tx tx, Principal principal, EntryRequest r, Resource body,
      CreatedBinaries createdHere) {
    requirePatchable(principal, r.type(), r.id());
    return patch(tx, principal, r.type(), r.id(), patchOf(r, body), r.preconditions(), createdHere);
  }

  /**
   * A conditional PATCH entry ({@code request.url} {@code Type?criteria}) as the plain one its search
   * makes of it: a patch of the one match; none is 404, more than one 412 (FHIR R4 http.html#patch).
   */
  EntryRequest resolve(ResourceStore.Tx tx, Principal principal, EntryRequest r) {
    return r.resolved(match(tx, principal, r.type(), QueryString.parse(r.condition()), r.condition()));
  }

  /**
   * Conditional patch ({@code PATCH /Type?criteria}, FHIR R4 http.html#patch): the search as the
   * caller, then the patch of its one match, in {@code tx}; none is 404, more than one 412.
   *
   * @param shown the criteria as the client wrote them, for diagnostics
   */
  Written conditional(ResourceStore.Tx tx, Principal principal, String type, Map<String, List<String>> criteria,
      String shown, Patch patch, WritePreconditions preconditions) {
    return patch(tx, principal, type, match(tx, principal, type, criteria, shown), patch, preconditions,
        CreatedBinaries.none());
  }

  private String match(ResourceStore.Tx tx, Principal principal, String type, Map<String, List<String>> criteria,
      String shown) {
    requirePatchable(principal, type, null);
    return conditional.existing(tx, principal, type, criteria, shown, ConditionalMatch.Kind.PATCH)
        .orElseThrow(() -> FhirException.notFound("the condition '" + QueryLimits.shorten(shown) + "' matches no "
            + type + "; a conditional patch needs it to match one (FHIR R4 http.html#patch)"))
        .id();
  }

  private void requirePatchable(Principal principal, String type, String id) {
    principal.require(type, Interaction.UPDATE);
    compartment.limit(principal, type, Interaction.UPDATE);
    if (type.equals("Binary")) {
      throw FhirException.badRequest("a Binary is not patched; send its new content with PUT Binary/"
          + (id == null ? "{id}" : id));
    }
  }

  private Written patch(ResourceStore.Tx tx, Principal principal, String type, String id, Patch patch,
      WritePreconditions preconditions, CreatedBinaries createdHere) {
    principal.require(type, Interaction.READ);
    Optional<String> patient = compartment.limit(principal, type, Interaction.READ);
    if (patient.isPresent()) {
      compartment.requireVisible(tx, principal.project(), patient.get(), type, id, null);
    }
    // locked until the transaction ends: no other write comes between the version read and the
    // update of it, so the patch applies to the version it was judged on (a single PATCH retries)
    StoredResource current = repository.read(tx, principal.project(), type, id, true);
    preconditions.requireForUpdate(Optional.of(current), type, id);
    Resource patched = patch.applyTo(repository.codec(), repository.toResource(current), maxBytes);
    WriteChecks.Checked c = checks.before(tx, principal, type, id, Interaction.UPDATE, patched, createdHere);
    Written w = checks.after(c.patient(), repository.patch(tx, principal.project(), type, id, patched,
        WritePreconditions.ifMatch(current.versionId()), c.gate()));
    createdHere.written(w);
    return w;
  }

  /** The patch of a PATCH entry: its Parameters (FHIRPath Patch), or its Binary's data as UTF-8 (JSON Patch). */
  private static Patch patchOf(EntryRequest r, Resource body) {
    String expected = "a PATCH entry holds a FHIRPath Patch as a Parameters resource, or its JSON Patch as a Binary"
        + " with contentType " + JSON_PATCH + " and the patch base64 in data (FHIR R4 http.html#transaction)";
    if (body instanceof Parameters) {
      return Patch.fhirPath(body);
    }
    if (!(body instanceof Binary b)) {
      throw FhirException.badRequest("the entry holds " + (body == null ? "no resource"
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
    return new Patch.Json(new String(b.getData(), StandardCharsets.UTF_8));
  }
}
