package org.fhirbox.binary;

import java.util.Optional;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.BinaryAccess;
import org.fhirbox.fhir.PatientCompartment;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.model.BinaryContent;
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
   * The securityContext a caller's Binary write stores: {@code requested}, or for a new version of
   * an existing Binary that names none, the current version's ({@link #kept}). When the caller's
   * Binary writes are limited to its launch patient, the Binary to update must be in that
   * patient's compartment (else 404, as for a read), no context means the patient, and a context
   * that is not a record of the patient's own (outside the compartment, or about another patient)
   * is 403. A context naming a type the caller may not read is 403 before anything is looked up
   * ({@link BinaryAccess#requireContextTypeReadable}).
   *
   * @param id the Binary to update, or null for a create
   */
  String securityContext(Principal principal, String id, String requested, Interaction interaction) {
    return store.read(tx -> securityContext(tx, principal, id, requested, interaction));
  }

  /** {@link #securityContext(Principal, String, String, Interaction)} inside {@code tx}. */
  String securityContext(ResourceStore.Tx tx, Principal principal, String id, String requested,
      Interaction interaction) {
    Optional<String> patient = compartment.limit(principal, "Binary", interaction);
    String named = requested == null || requested.isBlank() ? null : BinaryService.requireForm(requested);
    if (named != null) {
      BinaryAccess.requireContextTypeReadable(principal, named);
    }
    String wanted = id == null ? named : kept(tx, principal, patient, ResourceIds.requireValid(id), named);
    if (patient.isEmpty()) {
      if (named != null) {
        access.requireContextBinaryReadable(tx, principal, named);
      }
      return wanted;
    }
    String ctx = wanted == null ? "Patient/" + patient.get() : BinaryService.requireForm(wanted);
    int slash = ctx.indexOf('/');
    boolean own = compartment.ownsCurrent(tx, principal.project(), ctx.substring(0, slash),
        ctx.substring(slash + 1), patient.get());
    if (!own) {
      throw FhirException.forbidden("the securityContext " + ctx + " is not a record of Patient/" + patient.get()
          + "'s own (it is outside the patient's compartment, or about another patient), to which the access"
          + " token's patient/ scopes limit Binary writes");
    }
    return ctx;
  }

  /**
   * The securityContext of a new version of {@code Binary/{id}}, resolved again by the transaction
   * that stores it, with the Binary's current version locked: the body may take hours to arrive,
   * and a securityContext set meanwhile must stay, not be reverted to the one the request began
   * under. The checks of {@link #securityContext} run again on the then-current
   * version, so access lost meanwhile refuses the write too.
   *
   * @param requested what the request named; null keeps the then-current version's
   */
  String atCommit(ResourceStore.Tx tx, Principal principal, String id, String requested) {
    tx.current(principal.project(), "Binary", id, true);
    String ctx = securityContext(tx, principal, id, requested, Interaction.UPDATE);
    return ctx == null ? null : BinaryService.requireForm(ctx);
  }

  /**
   * {@code requested}, or when null the current version's securityContext, for a new version of
   * {@code Binary/{id}}: 404 outside the caller's patient compartment, 403 for the content of a record
   * about another patient ({@link PatientCompartment#requireOwnToChange}), then what every new version
   * of a Binary needs ({@link BinaryAccess#requireReplaceable}).
   */
  private String kept(ResourceStore.Tx tx, Principal principal, Optional<String> patient, String id,
      String requested) {
    patient.ifPresent(p -> {
      compartment.requireVisible(tx, principal.project(), p, "Binary", id, null);
      compartment.requireOwnToChange(tx, principal.project(), p, "Binary", id, Interaction.UPDATE);
    });
    Optional<StoredResource> current = access.requireReplaceable(tx, principal, id,
        requested == null ? null : BinaryService.requireForm(requested), false);
    if (current.isEmpty() || requested != null) {
      return requested;
    }
    return tx.binaryContent(principal.project(), id, current.get().versionId())
        .map(BinaryContent::securityContext).orElse(null);
  }
}
