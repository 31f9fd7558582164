package org.fhirbox.fhir;

import java.util.Optional;
import java.util.Set;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.AuditSource;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.model.StoredResource;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * The checks around every resource write, single or in a Bundle: the caller's patient compartment
 * before and after it, the Binaries its Attachments may name, the bytes an update of a Binary
 * keeps, and the resource a Binary's {@code securityContext} names.
 */
final class WriteChecks {
  private final ResourceRepository repository;
  private final BinaryData binaryData;
  private final BinaryAccess access;
  private final PatientCompartment compartment;

  WriteChecks(ResourceRepository repository, BinaryData binaryData, BinaryAccess access,
      PatientCompartment compartment) {
    this.repository = repository;
    this.binaryData = binaryData;
    this.access = access;
    this.compartment = compartment;
  }

  /**
   * The compartment checks before a write: the patient the write is limited to (null when a wider
   * grant covers it); 404 when the resource to update or delete is outside that compartment, 403
   * when it is in it but about another patient ({@link PatientCompartment#requireOwnToChange}). A
   * Binary gets the patient as its securityContext when it names none. The Attachments of
   * {@code res} may name only Binaries the caller may attach ({@link #attachable}), which the write
   * checks as it finds them;
   * {@code createdHere}: the Binaries the same transaction creates.
   */
  Checked before(ResourceStore.Tx tx, Principal principal, String type, String id,
      Interaction interaction, Resource res, CreatedBinaries createdHere) {
    String patient = compartment.limit(principal, type, interaction).orElse(null);
    if (patient != null && id != null) {
      compartment.requireVisible(tx, principal.project(), patient, type, id, null);
      compartment.requireOwnToChange(tx, principal.project(), patient, type, id, interaction);
    }
    if (patient != null && res instanceof Binary b && !b.hasSecurityContext()) {
      b.setSecurityContext(new Reference("Patient/" + patient));
    }
    if (type.equals("AuditEvent") && id != null
        && (interaction == Interaction.UPDATE || interaction == Interaction.DELETE)) {
      requireNotServerRecorded(tx, principal.project(), id, interaction);
    }
    if (res instanceof AuditEvent event) {
      claimedServerIdentity(event).ifPresent(at -> {
        throw FhirException.badRequest(at + " " + AuditSource.SYSTEM + " is the server's own: only fhirbox records"
            + " AuditEvents as itself", at);
      });
    }
    if (interaction == Interaction.UPDATE && res instanceof Binary b) {
      requireReplaceable(tx, principal, id, b);
    }
    return new Checked(patient, attachable(tx, principal, type, id, res,
        patient != null || compartment.limited(principal, "Binary", Interaction.READ), createdHere));
  }

  /**
   * {@code id}, the body's id of a conditional update that matched nothing, for an update as create
   * (FHIR R4 http.html#cond-update): 409 when a resource that is not deleted already has it. It does
   * not match the condition, and writing over it would change what the client did not select; R5
   * http.html#cond-update says so ("No matches, id provided and already exist"), which R4 leaves
   * open. One outside the caller's patient compartment is answered 404, as an update of it is.
   */
  String requireUntaken(ResourceStore.Tx tx, Principal principal, String type, String id, String shown) {
    if (tx.current(principal.project(), type, ResourceIds.requireValid(id), false).filter(s -> !s.deleted())
        .isEmpty()) {
      return id;
    }
    compartment.limit(principal, type, Interaction.UPDATE)
        .ifPresent(patient -> compartment.requireVisible(tx, principal.project(), patient, type, id, null));
    throw FhirException.conflict("no " + type + " matches the condition '" + QueryLimits.shorten(shown) + "', and "
        + type + "/" + id + ", the id the resource names, is another one; send no id to create, or update "
        + type + "/" + id + " by its id");
  }

  /**
   * Where an AuditEvent a caller writes names the server's own identifier, which only events the
   * server records carry: as {@code source.observer}, or as an agent (an ingestion job's create names
   * the server as its agent). Compared as a URN is (RFC 8141: its scheme and namespace in any case),
   * and without surrounding spaces, so that no spelling of it passes for another system.
   */
  private static Optional<String> claimedServerIdentity(AuditEvent event) {
    if (isServerSystem(event.getSource().getObserver().getIdentifier().getSystem())) {
      return Optional.of("AuditEvent.source.observer.identifier");
    }
    for (int i = 0; i < event.getAgent().size(); i++) {
      if (isServerSystem(event.getAgent().get(i).getWho().getIdentifier().getSystem())) {
        return Optional.of("AuditEvent.agent[" + i + "].who.identifier");
      }
    }
    return Optional.empty();
  }

  private static boolean isServerSystem(String system) {
    return system != null && system.strip().equalsIgnoreCase(AuditSource.SYSTEM);
  }

  /** Whether {@code event} names the server's own observer as the server writes it: the server recorded it. */
  private static boolean recordedByServer(AuditEvent event) {
    return AuditSource.SYSTEM.equals(event.getSource().getObserver().getIdentifier().getSystem());
  }

  /**
   * 403 for an update or delete (single, conditional, patch, or in a Bundle) of an AuditEvent whose
   * current version the server recorded: the audit trail watches admins too, so no caller, an
   * admin included, may rewrite or hide it. 403 rather than 405: the interaction is allowed on
   * AuditEvent (an app's own may be changed), and this one resource refuses it (RFC 9110 §15.5.4);
   * 405 speaks of the method on the target as a whole and needs an Allow header (§15.5.6).
   */
  private void requireNotServerRecorded(ResourceStore.Tx tx, String project, String id, Interaction interaction) {
    boolean server = tx.current(project, "AuditEvent", id, false).filter(s -> !s.deleted())
        .flatMap(repository::readable).map(r -> r instanceof AuditEvent e && recordedByServer(e)).orElse(false);
    if (server) {
      throw FhirException.forbidden("AuditEvent/" + id + " is one the server recorded: no one may "
          + (interaction == Interaction.DELETE ? "delete" : "change") + " it");
    }
  }

  /** What {@link #before} found: the patient the write is limited to (or null), and who may be attached. */
  record Checked(String patient, AttachmentNormalizer.Gate gate) {}

  /**
   * An update of Binary {@code id} needs what any new version of it needs
   * ({@link BinaryAccess#requireReplaceable}), with data or without: without, it keeps the current
   * version's bytes under the new version's {@code contentType} and {@code securityContext}, and
   * the new content type must pass the Binary policy, as it would with the bytes sent; the caller
   * must be one who may read those bytes, also when it moves them off a deleted securityContext
   * resource. With data
   * the body replaces the resource (FHIR R4 http.html#update): a securityContext it does not name
   * is not carried over.
   */
  private void requireReplaceable(ResourceStore.Tx tx, Principal principal, String id, Binary b) {
    Optional<StoredResource> current = access.requireReplaceable(tx, principal, id,
        b.hasSecurityContext() ? b.getSecurityContext().getReference() : null, !b.hasData());
    if (current.isPresent() && !b.hasData()) {
      binaryData.checkKept(BinaryData.contentType(b));
    }
  }

  /**
   * 400, in the words used for a Binary that does not exist, when an Attachment of the written
   * resource names a Binary the caller may not attach, so that attaching cannot tell whether it exists:
   * <ul>
   *   <li>when the write or the caller's Binary reads are limited to a patient ({@code limited}),
   *       one that is not that patient's own ({@link PatientCompartment#ownsBinary}): attaching one
   *       outside the compartment would put it there, and a patient's app could reach another
   *       patient's content by guessing its id; attaching the content of a record about another
   *       patient that the app reads as its performer or author would make it the patient's to
   *       replace or delete. One this transaction created is judged when every entry has run
   *       ({@link CreatedBinaries#requireInCompartment}): its securityContext may name a resource written
   *       after it, even the one attaching it;
   *   <li>else one the caller may not read ({@link BinaryAccess#verdict}), unless this transaction
   *       created it, or the current version of the resource already names it and the update names
   *       no patient that version does not ({@link #samePatients}): a writer that could attach what
   *       it may not read would learn its size and hash, and could bring it into a patient's
   *       compartment, where that patient's app reads it.
   * </ul>
   * Checked as each Binary is found, before its size or hash is compared, which would tell a Binary
   * that exists ({@link AttachmentNormalizer.Gate}). Ingestion may create a Binary for the write
   * only as far as the caller could create it ({@link #mayCreateBinary}).
   */
  private AttachmentNormalizer.Gate attachable(ResourceStore.Tx tx, Principal principal, String type, String id,
      Resource res, boolean limited, CreatedBinaries createdHere) {
    String patient = principal.patient().orElse(null);
    return new AttachmentNormalizer.Gate() {
      @Override
      public void check(String reference, BinaryContent content) {
        boolean attachable;
        if (limited) {
          attachable = patient != null && (compartment.ownsBinary(tx, content, patient)
              || createdHere.deferIfCreated(content, reference,
                  () -> compartment.ownsBinary(tx, content, patient)));
        } else {
          // the current version is read only for a Binary the caller may not read, which is rare
          attachable = createdHere.contains(content)
              || access.verdict(tx, principal, content) == BinaryAccess.Verdict.READ
              || namedByCurrent(reference);
        }
        if (!attachable) {
          throw AttachmentNormalizer.unknownBinary(reference);
        }
      }

      @Override
      public boolean mayCreateBinary(String securityContext) {
        return WriteChecks.this.mayCreateBinary(tx, principal, securityContext);
      }

      @Override
      public boolean keepsMissing(String reference) {
        return namedByCurrent(reference);
      }

      @Override
      public int fetchesQueued() {
        return createdHere.fetchesQueued();
      }

      @Override
      public void queuedFetches(int count) {
        createdHere.queuedFetches(count);
      }

      /** Whether the current version of the resource updated names {@code reference}, and the update no other patient. */
      private boolean namedByCurrent(String reference) {
        return id != null && tx.current(principal.project(), type, id, false).filter(s -> !s.deleted())
            .flatMap(repository::readable)
            .map(r -> repository.referencedBinaries(tx, principal.project(), r).contains(reference)
                && samePatients(res, r)).orElse(false);
      }
    };
  }

  /**
   * Whether {@code principal} may create a Binary with {@code securityContext}, as a raw upload or
   * {@code $import} would let it: it needs Binary create, and where only a {@code patient/} grant
   * gives that, a launch patient whose compartment holds the context (answered without a 403).
   */
  private boolean mayCreateBinary(ResourceStore.Tx tx, Principal principal, String securityContext) {
    if (!principal.access().allows("Binary", Interaction.CREATE)) {
      return false;
    }
    if (!compartment.limited(principal, "Binary", Interaction.CREATE)) {
      return true;
    }
    int slash = securityContext.indexOf('/');
    return principal.patient().isPresent() && slash > 0 && compartment.ownsCurrent(tx, principal.project(),
        securityContext.substring(0, slash), securityContext.substring(slash + 1), principal.patient().get());
  }

  /**
   * Whether {@code written} names only patients (by its patient compartment membership
   * parameters) that {@code current}, the version it replaces, names too: keeping a Binary the
   * current version names must not move it into another patient's compartment.
   */
  private boolean samePatients(Resource written, Resource current) {
    return written != null && compartment.patientsNamed(current).containsAll(compartment.patientsNamed(written));
  }

  /**
   * 403 when a resource written under a patient limit ({@code patient} not null) is not that
   * patient's ({@link PatientCompartment#belongsTo}): outside the compartment, or about another
   * patient in its {@code subject} or {@code patient}; and when any other membership field (a
   * performer, an author, a Patient's link) names another patient, which would put the resource in
   * that patient's compartment too, where their app reads it as part of their record.
   */
  Written after(String patient, Written w) {
    // a Binary's securityContext is judged when the unit of work ends: it may name a later entry
    if (patient != null && !(w.resource() instanceof Binary) && !compartment.belongsTo(w.resource(), patient)) {
      throw FhirException.forbidden("the " + w.stored().type() + " would not be in the compartment of Patient/"
          + patient + ", to which the access token's patient/ scopes limit writes; it must name that patient, and"
          + " its subject or patient, where set, must be that patient");
    }
    if (patient != null && !(w.resource() instanceof Binary)
        && !Set.of("Patient/" + patient).containsAll(compartment.patientsNamed(w.resource()))) {
      throw FhirException.forbidden("the " + w.stored().type() + " names another patient in a field that would put it"
          + " in that patient's compartment; the access token's patient/ scopes limit writes to the compartment of"
          + " Patient/" + patient + " alone");
    }
    return w;
  }

  /**
   * The Binary written names a resource that exists, and, under a patient limit, one in the
   * compartment ({@link #requireContext}).
   */
  Written context(ResourceStore.Tx tx, Principal principal, Written w, Interaction interaction) {
    requireContext(tx, principal, w.resource(), interaction);
    return w;
  }

  /**
   * For a written Binary: 403 for a securityContext naming a type the caller may not read
   * ({@link BinaryAccess#requireContextTypeReadable}); under a patient limit, 403 for one outside
   * the compartment ({@link #contextInCompartment}); both judged first, so that one naming no
   * resource at all is 403 too and the answer tells nothing of which ids exist; then 403 for a Binary
   * the caller may not read ({@link BinaryAccess#requireContextBinaryReadable}); else 400 for one
   * naming a resource that does not exist.
   */
  void requireContext(ResourceStore.Tx tx, Principal principal, Resource written, Interaction interaction) {
    String ctx = written instanceof Binary b && b.hasSecurityContext()
        ? repository.requireSecurityContextForm(b.getSecurityContext().getReference()) : null;
    if (ctx != null) {
      BinaryAccess.requireContextTypeReadable(principal, ctx);
    }
    contextInCompartment(tx, principal, written, interaction);
    if (ctx != null) {
      access.requireContextBinaryReadable(tx, principal, ctx);
    }
    repository.requireSecurityContextExists(tx, principal.project(), written);
  }

  /**
   * 403 when a Binary written under a patient limit names a securityContext that is not a record of
   * the patient's own ({@link PatientCompartment#ownsCurrent}): outside the compartment (or naming
   * nothing), where the caller could never read it back, or about another patient whose app would
   * take the content for that patient's; either way content in another patient's record. 400 for one
   * that is no reference like Patient/123.
   */
  private void contextInCompartment(ResourceStore.Tx tx, Principal principal, Resource written,
      Interaction interaction) {
    if (!(written instanceof Binary b) || !compartment.limited(principal, "Binary", interaction)) {
      return;
    }
    String patient = compartment.requirePatient(principal);
    String ctx = repository.requireSecurityContextForm(b.getSecurityContext().getReference());
    int slash = ctx.indexOf('/');
    if (!compartment.ownsCurrent(tx, principal.project(), ctx.substring(0, slash), ctx.substring(slash + 1),
        patient)) {
      throw FhirException.forbidden("Binary.securityContext " + ctx + " is not a record of Patient/" + patient
          + "'s own (it is outside the patient's compartment, or about another patient), to which the access"
          + " token's patient/ scopes limit writes");
    }
  }
}
