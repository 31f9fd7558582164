package org.fhirbox.binary;

import java.util.Optional;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.BinaryAccess;
import org.fhirbox.fhir.PatientCompartment;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.model.StoredResource;

/**
 * Who may write a Binary's bytes, and under which {@code securityContext}: the rules every raw,
 * resumable and presigned write of a Binary shares, checked before a byte of the body is stored.
 */
final class BinaryWriteAccess {
  private final ResourceStore store;
  private final PatientCompartment compartment;
  private final BinaryAccess access;

  BinaryWriteAccess(ResourceStore store, PatientCompartment compartment) {
    this.store = store;
    this.compartment = compartment;
    this.access = new BinaryAccess(store, compartment);
  }

  /**
   * The securityContext a caller's Binary write stores: {@code requested} as it is, unless the
   * caller's Binary writes are limited to its launch patient. Then the Binary to update must be in
   * that patient's compartment (else 404, as for a read), no context means the patient, and a
   * context outside the compartment is 403.
   *
   * @param id the Binary to update, or null for a create
   */
  String securityContext(Principal principal, String id, String requested, Interaction interaction) {
    Optional<String> patient = compartment.limit(principal, "Binary", interaction);
    if (patient.isEmpty()) {
      return requested;
    }
    String ctx = requested == null || requested.isBlank() ? "Patient/" + patient.get()
        : BinaryService.requireForm(requested);
    int slash = ctx.indexOf('/');
    boolean inside = store.read(tx -> {
      if (id != null) {
        compartment.requireVisible(tx, principal.project(), patient.get(), "Binary", ResourceIds.requireValid(id),
            null);
      }
      return compartment.containsCurrent(tx, principal.project(), ctx.substring(0, slash), ctx.substring(slash + 1),
          patient.get());
    });
    if (!inside) {
      throw FhirException.forbidden("the securityContext " + ctx + " is outside the compartment of Patient/"
          + patient.get() + ", to which the access token's patient/ scopes limit Binary writes");
    }
    return ctx;
  }

  /**
   * 403 (404 outside the caller's patient compartment) unless the caller may read {@code current},
   * worded as a read of it is and naming nothing of it: what a write keeps of it (content type,
   * securityContext, file name) is the caller's only if the version is.
   */
  void requireReadable(Principal principal, StoredResource current) {
    store.read(tx -> {
      access.requireReadVersion(tx, principal, current);
      return null;
    });
  }
}
