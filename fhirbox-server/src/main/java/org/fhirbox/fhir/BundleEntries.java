package org.fhirbox.fhir;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;
import org.fhirbox.storage.BlobInfo;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Resource;

/**
 * One entry of a batch or transaction Bundle (FHIR R4 http.html#transaction) other than a search,
 * run in the caller's database transaction: a conditional create's search ({@link #match}), a
 * conditional update, delete or patch made the plain one its search finds ({@link #resolve}), the
 * write or read itself ({@link #execute}) and the {@code securityContext} of the Binaries written
 * ({@link #requireContexts}). A batch runs each in its own transaction ({@link BundleProcessor}),
 * a transaction all in one ({@link TransactionRunner}). A single request shares with them the id a
 * conditional update writes ({@link #conditionalTarget}), the delete ({@link #delete}) and the blob
 * of a Binary's inline data ({@link #blobFor}), which {@link BundleProcessor} takes from here.
 */
final class BundleEntries {
  private final ResourceRepository repository;
  private final BinaryData binaryData;
  private final BinaryAccess access;
  private final PatientCompartment compartment;
  private final ConditionalMatch conditional;
  private final WriteChecks checks;
  private final PatchEntries patches;

  BundleEntries(ResourceRepository repository, BinaryData binaryData, BinaryAccess access,
      PatientCompartment compartment, ConditionalMatch conditional, WriteChecks checks, PatchEntries patches) {
    this.repository = repository;
    this.binaryData = binaryData;
    this.access = access;
    this.compartment = compartment;
    this.conditional = conditional;
    this.checks = checks;
    this.patches = patches;
  }

  /**
   * The id a conditional update writes: its one match (a body naming another id is 400), or with no
   * match the body's id (update as create; 409 when another resource has it,
   * {@link WriteChecks#requireUntaken}) or, with none, {@code newId} (a create, which the caller
   * must be allowed); 412 for more than one match.
   *
   * @param bodyId the id the resource sent had, or null
   */
  String conditionalTarget(ResourceStore.Tx tx, Principal principal, String type,
      Map<String, List<String>> criteria, String shown, String bodyId, String newId) {
    Optional<StoredResource> match = conditional.existing(tx, principal, type, criteria, shown,
        ConditionalMatch.Kind.UPDATE);
    if (match.isPresent() && bodyId != null && !bodyId.equals(match.get().id())) {
      throw FhirException.badRequest("the resource's id '" + bodyId + "' is not the id of the " + type
          + " the condition matches (" + match.get().id() + "); send the matching id or none", type + ".id");
    }
    if (match.isPresent()) {
      return match.get().id();
    }
    if (bodyId == null) {
      principal.require(type, Interaction.CREATE);
      return newId;
    }
    return checks.requireUntaken(tx, principal, type, bodyId, shown);
  }

  /** {@link WritePreconditions#requireNoIfMatch} for a conditional delete that matches nothing. */
  static void requireNoIfMatch(Long ifMatch, String type, String shown) {
    WritePreconditions.requireNoIfMatch(ifMatch, "no " + type + " matches the condition '"
        + QueryLimits.shorten(shown) + "'");
  }

  /**
   * Deletes in the caller's transaction: the deleted version, or empty when the resource never
   * existed ({@link ResourceRepository#delete}). A resource outside the caller's patient compartment
   * is 404, and so, for such a caller, is one that never existed: answering it otherwise would tell
   * the caller which ids exist in other patients' records. A Binary is deleted only by a caller who
   * may read it ({@link BinaryAccess#requireDeletable}).
   */
  Optional<StoredResource> delete(ResourceStore.Tx tx, Principal principal, String type, String id,
      WritePreconditions preconditions) {
    if (type.equals("Binary")) {
      // before the compartment looks the Binary up, so its answer cannot tell which ids exist
      BinaryAccess.requireDeleteGrant(principal);
    }
    WriteChecks.Checked c = checks.before(tx, principal, type, id, Interaction.DELETE, null,
        CreatedBinaries.none());
    Optional<StoredResource> gone;
    if (type.equals("Binary")) {
      Optional<StoredResource> current = tx.current(principal.project(), type, ResourceIds.requireValid(id), true);
      gone = access.requireDeletable(tx, principal, current)
          ? repository.delete(tx, principal.project(), type, id, current, preconditions)
          : repository.deleteNothing(type, id, preconditions);
    } else {
      gone = repository.delete(tx, principal.project(), type, id, preconditions);
    }
    if (gone.isEmpty() && c.patient() != null) {
      throw FhirException.notFound(type + "/" + id + " is not known");
    }
    return gone;
  }

  /**
   * Whether entry {@code r} stores new bytes: a Binary created (with no data, empty ones), or
   * updated with data. A Binary updated without data keeps its current version's bytes, as a single
   * {@code PUT} does.
   */
  static boolean storesBytes(EntryRequest r, Resource res) {
    return res instanceof Binary b && (r.method() == HTTPVerb.POST || r.method() == HTTPVerb.PUT && b.hasData());
  }

  /** The blob for a Binary resource's inline data (empty data for none); null for other types. */
  BlobInfo blobFor(Resource resource) {
    if (!(resource instanceof Binary b)) {
      return null;
    }
    byte[] data = b.hasData() ? b.getData() : new byte[0];
    return binaryData.store(data, BinaryData.contentType(b));
  }

  /**
   * The one resource the conditional create {@code r} matches, or null when {@code r} is not
   * conditional or matches nothing; 403 when the caller may not create or search its type.
   */
  StoredResource match(ResourceStore.Tx tx, Principal principal, EntryRequest r) {
    if (r.ifNoneExist() == null) {
      return null;
    }
    try {
      principal.require(r.type(), Interaction.CREATE);
      return conditional.existing(tx, principal, r.type(), r.ifNoneExist()).orElse(null);
    } catch (FhirException e) {
      throw atEntry(r, e);
    }
  }

  /**
   * A conditional update, delete or patch entry ({@code r.condition()} not null) as the plain one its
   * search makes of it (FHIR R4 http.html#cond-update, as for a single request): an update of the
   * one match (a body naming another id is 400), or with no match an update as create of the body's
   * id or, with none, a create under the id the plan assigned; a delete of the one match, or of
   * nothing; a patch of the one match. More than one match is 412. Others are returned as they are.
   *
   * @param bodyId the id the entry's resource had before any run of the transaction set one
   */
  EntryRequest resolve(ResourceStore.Tx tx, Principal principal, EntryRequest r, Resource res,
      String bodyId) {
    if (r.condition() == null) {
      return r;
    }
    try {
      if (r.method() == HTTPVerb.PATCH) {
        return patches.resolve(tx, principal, r);
      }
      if (r.method() == HTTPVerb.DELETE) {
        principal.require(r.type(), Interaction.DELETE);
        Optional<StoredResource> match = conditional.existing(tx, principal, r.type(),
            QueryString.parse(r.condition()), r.condition(), ConditionalMatch.Kind.DELETE);
        if (match.isEmpty()) {
          requireNoIfMatch(r.ifMatch(), r.type(), r.condition());
        }
        return r.resolved(match.map(StoredResource::id).orElse(null));
      }
      principal.require(r.type(), Interaction.UPDATE);
      r.requireBody(res);
      String id = conditionalTarget(tx, principal, r.type(), QueryString.parse(r.condition()), r.condition(), bodyId,
          r.assignedId());
      res.setId(id);
      return r.resolved(id);
    } catch (FhirException e) {
      throw atEntry(r, e);
    }
  }

  /**
   * The id a resource was sent with, or null. HAPI's parser gives a Bundle entry's resource its
   * {@code urn:uuid:} fullUrl as id: that is no id of the resource's own.
   */
  static String idOf(Resource res) {
    if (res == null || !res.hasIdElement() || res.getIdElement().getValue().startsWith("urn:")) {
      return null;
    }
    return res.getIdElement().getIdPart();
  }

  /** Whether {@code result} answers a conditional create {@code r} with what it matched: nothing was written. */
  static boolean matched(EntryRequest r, BundleEntryComponent result) {
    return r.ifNoneExist() != null && result.getResponse().getStatus().startsWith("200");
  }

  /** {@code results[i]} answers {@code requests.get(i)}; the Binaries written must name existing resources. */
  BundleEntryComponent[] requireContexts(ResourceStore.Tx tx, Principal principal,
      List<EntryRequest> requests, BundleEntryComponent[] results) {
    for (int i = 0; i < results.length; i++) {
      EntryRequest r = requests.get(i);
      // null: a transaction's search entry, answered after this check
      if (results[i] != null && results[i].getResponse().hasLocation() && !matched(r, results[i])) {
        try {
          checks.requireContext(tx, principal, results[i].getResource(),
              r.method() == HTTPVerb.POST ? Interaction.CREATE : Interaction.UPDATE);
        } catch (FhirException e) {
          throw atEntry(r, e);
        }
      }
    }
    return results;
  }

  /**
   * @param match what a conditional create found (the answer, with nothing written), or null
   * @param reads judges a read's or vread's conditions ({@link EntrySearch.Runner#notModified})
   */
  BundleEntryComponent execute(ResourceStore.Tx tx, Principal principal, EntryRequest r, Resource res,
      BlobInfo blob, String assignedId, CreatedBinaries createdHere, StoredResource match,
      EntrySearch.Runner reads) {
    String project = principal.project();
    BundleEntryComponent out = new BundleEntryComponent();
    try {
      switch (r.method()) {
        case POST -> {
          principal.require(r.type(), Interaction.CREATE);
          r.requireBody(res);
          if (match != null) {
            // FHIR R4 http.html#ccreate: one match is answered 200 with it, and nothing is created
            out.setFullUrl(match.type() + "/" + match.id()).setResource(repository.toResource(match));
            out.getResponse().setStatus("200 OK").setLocation(match.type() + "/" + match.id() + "/_history/"
                + match.versionId()).setEtag("W/\"" + match.versionId() + "\"")
                .setLastModified(java.util.Date.from(match.lastUpdated()));
            return out;
          }
          WriteChecks.Checked c = checks.before(tx, principal, r.type(), null, Interaction.CREATE, res, createdHere);
          Written w = checks.after(c.patient(), repository.create(tx, project, res,
              assignedId == null ? ResourceIds.newId() : assignedId, blob, null, c.gate()));
          createdHere.written(w);
          written(out, w);
        }
        case PUT -> {
          principal.require(r.type(), Interaction.UPDATE);
          r.requireBody(res);
          WriteChecks.Checked c = checks.before(tx, principal, r.type(), r.id(), Interaction.UPDATE, res, createdHere);
          Written w = checks.after(c.patient(), repository.update(tx, project, r.type(), r.id(), res,
              r.preconditions(), blob, null, c.gate()));
          createdHere.written(w);
          written(out, w);
        }
        case DELETE -> {
          principal.require(r.type(), Interaction.DELETE);
          if (r.id() == null) {
            // a conditional delete whose search found nothing: nothing to delete, as for an id never used
            out.getResponse().setStatus("200 OK").setOutcome(information("no " + r.type()
                + " matches the condition; nothing was deleted"));
            return out;
          }
          Optional<StoredResource> gone = delete(tx, principal, r.type(), r.id(), r.preconditions());
          if (gone.isPresent()) {
            out.getResponse().setStatus("200 OK").setEtag("W/\"" + gone.get().versionId() + "\"")
                .setLastModified(java.util.Date.from(gone.get().lastUpdated()));
          } else {
            // FHIR R4 http.html#delete: deleting what does not exist succeeds; the outcome says so
            out.getResponse().setStatus("200 OK").setOutcome(information(r.type() + "/" + r.id()
                + " does not exist; nothing was deleted"));
          }
        }
        case GET -> {
          principal.require(r.type(), Interaction.READ);
          Optional<String> patient = compartment.limit(principal, r.type(), Interaction.READ);
          if (r.type().equals("Binary")) {
            access.requireVisible(tx, principal, r.id(), r.version());
          } else if (patient.isPresent()) {
            compartment.requireVisible(tx, project, patient.get(), r.type(), r.id(), r.version());
          }
          StoredResource s = r.version() == null ? repository.read(tx, project, r.type(), r.id())
              : repository.vread(tx, project, r.type(), r.id(), r.version());
          access.requireReadVersion(tx, principal, s);
          Optional<Resource> found = repository.readable(s);
          if (found.isEmpty()) {
            // one unreadable stored version costs this entry, not the Bundle
            out.getResponse().setStatus("500 Internal Server Error")
                .setOutcome(ResourceRepository.unreadableOutcome(s));
            return out;
          }
          out.getResponse().setEtag("W/\"" + s.versionId() + "\"")
              .setLastModified(java.util.Date.from(s.lastUpdated()));
          if (r.read().stated() && reads.notModified(s, r.read())) {
            // a conditional read whose condition holds (FHIR R4 http.html#cread): no resource, as a single 304
            out.getResponse().setStatus("304 Not Modified");
            return out;
          }
          out.setFullUrl(r.type() + "/" + r.id()).setResource(found.get());
          out.getResponse().setStatus("200 OK");
        }
        case PATCH -> written(out, patches.apply(tx, principal, r, res, createdHere));
        default -> throw FhirException.badRequest("method " + r.method().toCode()
            + " is not supported in a Bundle", "Bundle.entry[" + r.index() + "].request.method");
      }
    } catch (FhirException e) {
      throw atEntry(r, e);
    }
    return out;
  }

  /** An informational outcome: a delete that found nothing to delete. */
  private static OperationOutcome information(String diagnostics) {
    OperationOutcome oo = new OperationOutcome();
    oo.addIssue().setSeverity(IssueSeverity.INFORMATION).setCode(IssueType.INFORMATIONAL).setDiagnostics(diagnostics);
    return oo;
  }

  /** The same failure, its diagnostics prefixed with the entry they are about. */
  private static FhirException atEntry(EntryRequest r, FhirException e) {
    return atEntry(r.index(), e);
  }

  static FhirException atEntry(int index, FhirException e) {
    return new FhirException(e.kind(), e.issues().stream().map(i -> new FhirException.Issue(i.severity(),
        i.type(), "Bundle.entry[" + index + "]: " + i.diagnostics(), i.expression())).toList(),
        e.headers(), e);
  }

  private static void written(BundleEntryComponent out, Written w) {
    StoredResource s = w.stored();
    out.setFullUrl(s.type() + "/" + s.id()).setResource(w.resource());
    out.getResponse().setStatus(w.created() ? "201 Created" : "200 OK")
        .setLocation(s.type() + "/" + s.id() + "/_history/" + s.versionId())
        .setEtag("W/\"" + s.versionId() + "\"")
        .setLastModified(java.util.Date.from(s.lastUpdated()));
  }
}
