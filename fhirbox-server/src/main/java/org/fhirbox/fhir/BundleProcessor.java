package org.fhirbox.fhir;

import ca.uhn.fhir.util.FhirTerser;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.fhirbox.core.FhirException;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;
import org.fhirbox.storage.BlobInfo;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.BundleType;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Resource;

/**
 * Single writes of JSON/XML resources and batch/transaction Bundles (FHIR R4 http.html#transaction).
 * A transaction runs in one database transaction: all entries or none. Its {@code urn:uuid:}
 * (and other fullUrl) references, including an {@code Attachment.url} naming a Binary created in
 * the same Bundle, are rewritten to the ids assigned here ({@link TransactionPlan}). A POST with
 * {@code request.ifNoneExist} is a conditional create ({@link ConditionalMatch}): in a transaction
 * every one searches before anything is written, and a fullUrl of one that found its match names it.
 *
 * <p>Every write (single or in a Bundle) and every Bundle {@code GET} entry applies the caller's
 * patient compartment where only {@code patient/} scopes permit it ({@link PatientCompartment}):
 * the resource must be in the compartment before an update or delete (else 404, as for a read)
 * and after a create or update (else 403); a Binary written that way gets the launch patient as
 * its {@code securityContext} when it names none, and must name one in the compartment. A caller
 * whose writes or Binary reads are so limited may attach only Binaries in the compartment.
 */
public final class BundleProcessor {
  private final ResourceStore store;
  private final ResourceRepository repository;
  private final BinaryData binaryData;
  private final BinaryAccess access;
  private final PatientCompartment compartment;
  private final ConditionalMatch conditional;
  private final Function<RuntimeException, FhirException> failures;
  private final FhirTerser terser;
  private final WriteChecks checks;
  private final PatchEntries patches;
  private final int maxEntries;

  /**
   * @param failures what a failure that is no FhirException (the database or blob store down, a
   *     lost race, a fault) answers; a batch entry answers with it on its own
   * @param maxEntries the most entries a batch or transaction may have ({@code FHIRBOX_BUNDLE_MAX_ENTRIES})
   * @param maxJsonBytes the largest JSON document a PATCH entry may make ({@code FHIRBOX_MAX_JSON_BYTES})
   */
  public BundleProcessor(ResourceStore store, ResourceRepository repository, BinaryData binaryData,
      BinaryAccess access, PatientCompartment compartment, ConditionalMatch conditional,
      Function<RuntimeException, FhirException> failures, int maxEntries, long maxJsonBytes) {
    this.store = store;
    this.repository = repository;
    this.binaryData = binaryData;
    this.access = access;
    this.compartment = compartment;
    this.conditional = conditional;
    this.failures = failures;
    this.terser = repository.codec().context().newTerser();
    this.checks = new WriteChecks(repository, binaryData, access, compartment);
    this.patches = new PatchEntries(repository, compartment, checks, conditional, maxJsonBytes);
    this.maxEntries = maxEntries;
  }

  /**
   * Creates {@code resource}; with {@code ifNoneExist} (not null) only when that search finds
   * nothing ({@link ConditionalMatch}), else the one match, unchanged ({@link Written#created()} false).
   */
  public Written createSingle(Principal principal, Resource resource, String ifNoneExist) {
    BlobInfo blob = blobFor(resource);
    Written out = withBlob(blob, () -> store.inTransaction(tx -> {
      if (ifNoneExist != null) {
        Optional<StoredResource> match = conditional.existing(tx, principal, resource.fhirType(), ifNoneExist);
        if (match.isPresent()) {
          return new Written(match.get(), repository.toResource(match.get()), false, null, null);
        }
      }
      WriteChecks.Checked c = checks.before(tx, principal, resource.fhirType(), null, Interaction.CREATE, resource,
          CreatedBinaries.none());
      Written w = checks.after(c.patient(), repository.create(tx, principal.project(), resource, ResourceIds.newId(),
          blob, null, c.gate()));
      return checks.context(tx, principal, w, Interaction.CREATE);
    }));
    if (!out.created()) {
      binaryData.discard(blob); // the match is the answer: nothing names the bytes sent
    }
    return out;
  }

  /** The one resource a conditional create's search finds, in its own read; see {@link ConditionalMatch}. */
  public Optional<StoredResource> existing(Principal principal, String type, String ifNoneExist) {
    return store.read(tx -> conditional.existing(tx, principal, type, ifNoneExist));
  }

  public Written updateSingle(Principal principal, String type, String id, Resource resource,
      WritePreconditions preconditions) {
    BlobInfo blob = resource instanceof Binary b && b.hasData() ? blobFor(resource) : null;
    return withBlob(blob, () -> store.inTransaction(tx -> {
      WriteChecks.Checked c = checks.before(tx, principal, type, id, Interaction.UPDATE, resource,
          CreatedBinaries.none());
      Written w = checks.after(c.patient(), repository.update(tx, principal.project(), type, id, resource,
          preconditions, blob, null, c.gate()));
      return checks.context(tx, principal, w, Interaction.UPDATE);
    }));
  }

  /**
   * Conditional update (FHIR R4 http.html#cond-update), its search and its write in one transaction;
   * what it writes is {@link #conditionalTarget}.
   */
  public Written updateConditional(Principal principal, String type, Map<String, List<String>> criteria,
      String shown, Resource resource, WritePreconditions preconditions) {
    String bodyId = idOf(resource);
    String newId = ResourceIds.newId();
    BlobInfo blob = resource instanceof Binary b && b.hasData() ? blobFor(resource) : null;
    return withBlob(blob, () -> store.inTransaction(tx -> {
      String id = conditionalTarget(tx, principal, type, criteria, shown, bodyId, newId);
      resource.setId(id);
      WriteChecks.Checked c = checks.before(tx, principal, type, id, Interaction.UPDATE, resource,
          CreatedBinaries.none());
      Written w = checks.after(c.patient(), repository.update(tx, principal.project(), type, id, resource,
          preconditions, blob, null, c.gate()));
      return checks.context(tx, principal, w, Interaction.UPDATE);
    }));
  }

  /**
   * The id a conditional update writes: its one match (a body naming another id is 400), or with no
   * match the body's id (update as create; 409 when another resource has it,
   * {@link WriteChecks#requireUntaken}) or, with none, {@code newId} (a create, which the caller
   * must be allowed); 412 for more than one match.
   *
   * @param bodyId the id the resource sent had, or null
   */
  private String conditionalTarget(ResourceStore.Tx tx, Principal principal, String type,
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

  /** Conditional patch ({@code PATCH /Type?criteria}): {@link PatchEntries#conditional} in one transaction. */
  Written patchConditional(Principal principal, String type, Map<String, List<String>> criteria, String shown,
      Patch patch, WritePreconditions preconditions) {
    return store.inTransaction(tx -> patches.conditional(tx, principal, type, criteria, shown, patch, preconditions));
  }

  /**
   * Conditional delete (FHIR R4 http.html#delete), its search and the delete in one transaction: the
   * deleted version of the one match, or empty when nothing matches; 412 for more than one.
   */
  public Optional<StoredResource> deleteConditional(Principal principal, String type,
      Map<String, List<String>> criteria, String shown, WritePreconditions preconditions) {
    return store.inTransaction(tx -> {
      Optional<StoredResource> match = conditional.existing(tx, principal, type, criteria, shown,
          ConditionalMatch.Kind.DELETE);
      if (match.isEmpty()) {
        requireNoIfMatch(preconditions.ifMatch(), type, shown);
        return Optional.<StoredResource>empty();
      }
      return delete(tx, principal, type, match.get().id(), preconditions);
    });
  }

  /**
   * A conditional delete that matches nothing but names a version with If-Match fails (412): If-Match
   * needs a current representation (RFC 9110 §13.1.1), as a delete by id of a missing resource and a
   * conditional update with no match already answer.
   */
  private static void requireNoIfMatch(Long ifMatch, String type, String shown) {
    if (ifMatch != null) {
      throw FhirException.preconditionFailed("If-Match " + (ifMatch == ResourceRepository.IF_MATCH_ANY ? "*"
          : "W/\"" + ifMatch + "\"") + " does not match: no " + type + " matches the condition '"
          + QueryLimits.shorten(shown) + "'");
    }
  }

  /**
   * Deletes in the caller's transaction: the deleted version, or empty when the resource never
   * existed ({@link ResourceRepository#delete}). A resource outside the caller's patient compartment
   * is 404, and so, for such a caller, is one that never existed: answering it otherwise would tell
   * the caller which ids exist in other patients' records. A Binary is deleted only by a caller who
   * may read it ({@link BinaryAccess#requireDeletable}).
   */
  public Optional<StoredResource> delete(ResourceStore.Tx tx, Principal principal, String type, String id,
      WritePreconditions preconditions) {
    WriteChecks.Checked c = checks.before(tx, principal, type, id, Interaction.DELETE, null,
        CreatedBinaries.none());
    Optional<StoredResource> gone = !type.equals("Binary") || access.requireDeletable(tx, principal, id)
        ? repository.delete(tx, principal.project(), type, id, preconditions)
        : repository.deleteNothing(type, id, preconditions);
    if (gone.isEmpty() && c.patient() != null) {
      throw FhirException.notFound(type + "/" + id + " is not known");
    }
    return gone;
  }

  private <T> T withBlob(BlobInfo blob, java.util.function.Supplier<T> work) {
    try {
      return work.get();
    } catch (RuntimeException e) {
      binaryData.discardAfter(blob, e);
      throw e;
    }
  }

  /**
   * Whether entry {@code r} stores new bytes: a Binary created (with no data, empty ones), or
   * updated with data. A Binary updated without data keeps its current version's bytes, as a single
   * {@code PUT} does.
   */
  private static boolean storesBytes(EntryRequest r, Resource res) {
    return res instanceof Binary b && (r.method() == HTTPVerb.POST || r.method() == HTTPVerb.PUT && b.hasData());
  }

  /** The blob for a Binary resource's inline data (empty data for none); null for other types. */
  private BlobInfo blobFor(Resource resource) {
    if (!(resource instanceof Binary b)) {
      return null;
    }
    byte[] data = b.hasData() ? b.getData() : new byte[0];
    return binaryData.store(data, b.hasContentType() ? b.getContentType() : "application/octet-stream");
  }

  /**
   * A batch or transaction: 413 before any entry runs when it has more entries than the limit. An
   * entry that searches is answered by {@code searches} ({@link EntrySearch}); a transaction's, after
   * its writes, in its database transaction.
   */
  public Bundle process(Principal principal, Bundle bundle, String fhirBase, EntrySearch.Runner searches) {
    if ((bundle.getType() == BundleType.TRANSACTION || bundle.getType() == BundleType.BATCH)
        && bundle.getEntry().size() > maxEntries) {
      throw FhirException.tooLarge("the " + bundle.getType().toCode() + " has " + bundle.getEntry().size()
          + " entries; FHIRBOX_BUNDLE_MAX_ENTRIES allows at most " + maxEntries + "; send them in several Bundles");
    }
    Bundle out;
    if (bundle.getType() == BundleType.TRANSACTION) {
      out = transaction(principal, bundle, fhirBase, searches);
    } else if (bundle.getType() == BundleType.BATCH) {
      out = batch(principal, bundle, fhirBase, searches);
    } else {
      throw FhirException.badRequest("Bundle.type must be batch or transaction to be processed, got "
          + (bundle.getType() == null ? "none" : bundle.getType().toCode()), "Bundle.type");
    }
    // FHIR R4 Bundle.entry.fullUrl is "the Absolute URL for the resource" (bundle.html#bundle-unique),
    // as in search and history Bundles; response.location may stay relative (http.html#transaction-response).
    for (BundleEntryComponent e : out.getEntry()) {
      if (e.hasFullUrl()) {
        e.setFullUrl(fhirBase + "/" + e.getFullUrl());
      }
    }
    return out;
  }

  private Bundle batch(Principal principal, Bundle bundle, String fhirBase, EntrySearch.Runner searches) {
    Bundle out = new Bundle().setType(BundleType.BATCHRESPONSE);
    out.setId(ResourceIds.newId());
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      BundleEntryComponent entry = bundle.getEntry().get(i);
      BundleEntryComponent result;
      List<BlobInfo> blobs = new ArrayList<>();
      List<BlobInfo> unused = List.of();
      try {
        Optional<EntrySearch> search = EntrySearch.of(entry, i, fhirBase, repository);
        if (search.isPresent()) {
          out.addEntry(search.get().answer(searches));
          continue;
        }
        EntryRequest parsed = EntryRequest.of(entry, i, fhirBase, repository);
        EntryRequest req = parsed.condition() != null && parsed.method() == HTTPVerb.PUT
            ? parsed.withId(ResourceIds.newId()) : parsed;
        Resource res = entry.getResource();
        String bodyId = idOf(res);
        TransactionPlan.requireResolvable(entry, i, terser, Map.of(), "which a batch does not resolve: its entries"
            + " are independent (FHIR R4 http.html#brules); a transaction resolves fullUrls");
        if (storesBytes(req, res)) {
          blobs.add(blobFor(res));
        }
        BlobInfo blob = blobs.isEmpty() ? null : blobs.get(0);
        result = store.inTransaction(tx -> {
          EntryRequest run = resolve(tx, principal, req, res, bodyId);
          return requireContexts(tx, principal, List.of(run),
              new BundleEntryComponent[] {execute(tx, principal, run, res, blob, run.assignedId(),
                  CreatedBinaries.none(),
                  match(tx, principal, run))})[0];
        });
        if (matched(req, result)) {
          unused = blobs;
        }
      } catch (RuntimeException e) {
        // each entry of a batch stands alone (FHIR R4 http.html#brules): one that fails, also for
        // a database or blob store that failed under it, answers with its own status, and the
        // entries before it, committed, keep theirs
        blobs.forEach(b -> binaryData.discardAfter(b, e));
        FhirException fe = e instanceof FhirException f ? f : failures.apply(e);
        result = new BundleEntryComponent();
        result.getResponse().setStatus(EntryStatus.line(fe.status()))
            .setOutcome(fe.toOperationOutcome());
      }
      // outside the try: nothing after the commit turns the entry's answer into a failure
      unused.forEach(binaryData::discard);
      out.addEntry(result);
    }
    return out;
  }

  private Bundle transaction(Principal principal, Bundle bundle, String fhirBase, EntrySearch.Runner searches) {
    TransactionPlan plan = TransactionPlan.of(bundle, fhirBase, repository, terser);
    List<EntryRequest> requests = plan.requests();
    List<EntryRequest> ordered = plan.ordered();
    Map<Integer, BlobInfo> blobs = new HashMap<>();
    BundleEntryComponent[] results;
    try {
      for (EntryRequest r : requests) {
        Resource res = bundle.getEntry().get(r.index()).getResource();
        if (storesBytes(r, res)) {
          blobs.put(r.index(), blobFor(res));
        }
      }
      Map<Integer, String> bodyIds = new HashMap<>();
      requests.forEach(r -> bodyIds.put(r.index(), idOf(bundle.getEntry().get(r.index()).getResource())));
      // read before any run rewrites them: a retried run starts from the Bundle as sent
      List<String> conditionalReferences = plan.conditionalReferences(terser);
      results = store.inTransaction(tx -> {
        // conditional creates, updates and deletes search before anything is written: what they
        // find is what they write, and what references to their fullUrl name
        Map<Integer, StoredResource> matches = new HashMap<>();
        List<EntryRequest> runs = new ArrayList<>();
        Map<Integer, String> resolved = new HashMap<>();
        for (EntryRequest r : requests) {
          StoredResource m = match(tx, principal, r);
          if (m != null) {
            matches.put(r.index(), m);
          }
          EntryRequest run = resolve(tx, principal, r, bundle.getEntry().get(r.index()).getResource(),
              bodyIds.get(r.index()));
          if (r.condition() != null && run.id() != null) {
            resolved.put(r.index(), run.type() + "/" + run.id());
          }
          runs.add(run);
        }
        Map<Integer, String> matchedTargets = new HashMap<>();
        matches.forEach((i, m) -> matchedTargets.put(i, m.type() + "/" + m.id()));
        plan.requireMatchesUntouched(matchedTargets);
        plan.requireResolvedOnce(resolved, matchedTargets);
        Map<Integer, String> named = new HashMap<>(matchedTargets);
        named.putAll(resolved);
        Map<String, String> conditionalRefs = new HashMap<>();
        conditionalReferences.forEach(ref -> conditionalRefs.put(ref, conditional.reference(tx, principal, ref)));
        plan.rewrite(terser, named, conditionalRefs);
        BundleEntryComponent[] res = new BundleEntryComponent[requests.size()];
        CreatedBinaries created = CreatedBinaries.none(); // Binaries run before the other writes
        for (EntryRequest planned : ordered) {
          EntryRequest r = runs.get(planned.index());
          created.entry(r.index());
          res[r.index()] = execute(tx, principal, r, bundle.getEntry().get(r.index()).getResource(),
              blobs.get(r.index()), r.assignedId(), created, matches.get(r.index()));
        }
        EntrySearch.Runner inTransaction = searches.within(ResourceService.Reading.in(tx));
        plan.searches().forEach(search -> res[search.index()] = search.answer(inTransaction));
        // After every entry: a Binary may name a resource this Bundle creates after it.
        requireContexts(tx, principal, runs, res);
        created.requireInCompartment(BundleProcessor::atEntry);
        return res;
      });
    } catch (RuntimeException e) {
      blobs.values().forEach(b -> binaryData.discardAfter(b, e));
      throw e;
    }
    // committed: the Binaries name their blobs, which nothing from here on may discard; only a
    // conditional create that matched stored bytes no resource names
    Bundle out = new Bundle().setType(BundleType.TRANSACTIONRESPONSE);
    out.setId(ResourceIds.newId());
    for (int i = 0; i < results.length; i++) {
      if (matched(requests.get(i), results[i])) {
        binaryData.discard(blobs.get(i));
      }
      out.addEntry(results[i]);
    }
    return out;
  }

  /**
   * The one resource the conditional create {@code r} matches, or null when {@code r} is not
   * conditional or matches nothing; 403 when the caller may not create or search its type.
   */
  private StoredResource match(ResourceStore.Tx tx, Principal principal, EntryRequest r) {
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
  private EntryRequest resolve(ResourceStore.Tx tx, Principal principal, EntryRequest r, Resource res,
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
  private static String idOf(Resource res) {
    if (res == null || !res.hasIdElement() || res.getIdElement().getValue().startsWith("urn:")) {
      return null;
    }
    return res.getIdElement().getIdPart();
  }

  /** Whether {@code result} answers a conditional create {@code r} with what it matched: nothing was written. */
  private static boolean matched(EntryRequest r, BundleEntryComponent result) {
    return r.ifNoneExist() != null && result.getResponse().getStatus().startsWith("200");
  }

  /** {@code results[i]} answers {@code requests.get(i)}; the Binaries written must name existing resources. */
  private BundleEntryComponent[] requireContexts(ResourceStore.Tx tx, Principal principal,
      List<EntryRequest> requests, BundleEntryComponent[] results) {
    for (int i = 0; i < results.length; i++) {
      EntryRequest r = requests.get(i);
      if (results[i].getResponse().hasLocation() && !matched(r, results[i])) {
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

  /** @param match what a conditional create found (the answer, with nothing written), or null */
  private BundleEntryComponent execute(ResourceStore.Tx tx, Principal principal, EntryRequest r, Resource res,
      BlobInfo blob, String assignedId, CreatedBinaries createdHere, StoredResource match) {
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
          out.setFullUrl(r.type() + "/" + r.id()).setResource(found.get());
          out.getResponse().setStatus("200 OK").setEtag("W/\"" + s.versionId() + "\"")
              .setLastModified(java.util.Date.from(s.lastUpdated()));
        }
        case PATCH -> written(out, patches.apply(tx, principal, r, res, createdHere));
        default -> throw FhirException.badRequest("entry " + r.index() + ": method " + r.method().toCode()
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
