package org.fhirbox.fhir;

import ca.uhn.fhir.util.FhirTerser;
import java.util.ArrayList;
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
import org.hl7.fhir.r4.model.Resource;

/**
 * Single writes of JSON/XML resources and batch/transaction Bundles (FHIR R4 http.html#transaction).
 * A batch runs each entry in a database transaction of its own; a transaction runs in one, all
 * entries or none ({@link TransactionRunner}). A POST entry with {@code request.ifNoneExist} is a
 * conditional create ({@link ConditionalMatch}). The entries of both run through {@link BundleEntries}.
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
  private final ConditionalMatch conditional;
  private final Function<RuntimeException, FhirException> failures;
  private final FhirTerser terser;
  private final WriteChecks checks;
  private final PatchEntries patches;
  private final BundleEntries entries;
  private final TransactionRunner transactions;
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
    this.conditional = conditional;
    this.failures = failures;
    this.terser = repository.codec().context().newTerser();
    this.checks = new WriteChecks(repository, binaryData, access, compartment);
    this.patches = new PatchEntries(repository, compartment, checks, conditional, maxJsonBytes);
    this.entries = new BundleEntries(repository, binaryData, access, compartment, conditional, checks, patches);
    this.transactions = new TransactionRunner(store, repository, binaryData, conditional, entries, terser);
    this.maxEntries = maxEntries;
  }

  /**
   * Creates {@code resource}; with {@code ifNoneExist} (not null) only when that search finds
   * nothing ({@link ConditionalMatch}), else the one match, unchanged ({@link Written#created()} false).
   */
  public Written createSingle(Principal principal, Resource resource, String ifNoneExist) {
    BlobInfo blob = entries.blobFor(resource);
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
    return writeSingle(principal, type, id, resource, preconditions, false);
  }

  /**
   * {@link #updateSingle} of what a PATCH made of the current version ({@code ResourceService.patch}),
   * which {@code preconditions} name by {@code If-Match}: the version it stores is recorded as made
   * by PATCH, for its history entry.
   */
  public Written patchSingle(Principal principal, String type, String id, Resource patched,
      WritePreconditions preconditions) {
    return writeSingle(principal, type, id, patched, preconditions, true);
  }

  private Written writeSingle(Principal principal, String type, String id, Resource resource,
      WritePreconditions preconditions, boolean patch) {
    BlobInfo blob = resource instanceof Binary b && b.hasData() ? entries.blobFor(resource) : null;
    return withBlob(blob, () -> store.inTransaction(tx -> {
      WriteChecks.Checked c = checks.before(tx, principal, type, id, Interaction.UPDATE, resource,
          CreatedBinaries.none());
      Written w = checks.after(c.patient(), patch
          ? repository.patch(tx, principal.project(), type, id, resource, preconditions, c.gate())
          : repository.update(tx, principal.project(), type, id, resource, preconditions, blob, null, c.gate()));
      return checks.context(tx, principal, w, Interaction.UPDATE);
    }));
  }

  /**
   * Conditional update (FHIR R4 http.html#cond-update), its search and its write in one transaction;
   * what it writes is {@link BundleEntries#conditionalTarget}.
   */
  public Written updateConditional(Principal principal, String type, Map<String, List<String>> criteria,
      String shown, Resource resource, WritePreconditions preconditions) {
    String bodyId = BundleEntries.idOf(resource);
    String newId = ResourceIds.newId();
    BlobInfo blob = resource instanceof Binary b && b.hasData() ? entries.blobFor(resource) : null;
    return withBlob(blob, () -> store.inTransaction(tx -> {
      String id = entries.conditionalTarget(tx, principal, type, criteria, shown, bodyId, newId);
      resource.setId(id);
      WriteChecks.Checked c = checks.before(tx, principal, type, id, Interaction.UPDATE, resource,
          CreatedBinaries.none());
      Written w = checks.after(c.patient(), repository.update(tx, principal.project(), type, id, resource,
          preconditions, blob, null, c.gate()));
      return checks.context(tx, principal, w, Interaction.UPDATE);
    }));
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
        BundleEntries.requireNoIfMatch(preconditions.ifMatch(), type, shown);
        return Optional.<StoredResource>empty();
      }
      return entries.delete(tx, principal, type, match.get().id(), preconditions);
    });
  }

  /** Deletes in the caller's transaction, as a DELETE entry of a Bundle does: {@link BundleEntries#delete}. */
  public Optional<StoredResource> delete(ResourceStore.Tx tx, Principal principal, String type, String id,
      WritePreconditions preconditions) {
    return entries.delete(tx, principal, type, id, preconditions);
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
      out = transactions.run(principal, bundle, fhirBase, searches);
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
    // the urls committed entries had queued for fetching: the request's cap counts every entry's
    int[] fetchesQueued = {0};
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      BundleEntryComponent entry = bundle.getEntry().get(i);
      BundleEntryComponent result;
      List<BlobInfo> blobs = new ArrayList<>();
      List<BlobInfo> unused = List.of();
      try {
        BundleEntryParse.requireParsed(entry);
        Optional<EntrySearch> search = EntrySearch.of(entry, i, fhirBase, repository);
        if (search.isPresent()) {
          out.addEntry(search.get().answer(searches));
          continue;
        }
        EntryRequest parsed = EntryRequest.of(entry, i, fhirBase, repository);
        EntryRequest req = parsed.condition() != null && parsed.method() == HTTPVerb.PUT
            ? parsed.withId(ResourceIds.newId()) : parsed;
        Resource res = entry.getResource();
        String bodyId = BundleEntries.idOf(res);
        TransactionPlan.requireResolvable(entry, i, terser, Map.of(), "which a batch does not resolve: its entries"
            + " are independent (FHIR R4 http.html#brules); a transaction resolves fullUrls");
        if (BundleEntries.storesBytes(req, res)) {
          blobs.add(entries.blobFor(res));
        }
        BlobInfo blob = blobs.isEmpty() ? null : blobs.get(0);
        CreatedBinaries[] unit = new CreatedBinaries[1];
        result = store.inTransaction(tx -> {
          unit[0] = CreatedBinaries.afterFetches(fetchesQueued[0]); // afresh for each run
          EntryRequest run = entries.resolve(tx, principal, req, res, bodyId);
          return entries.requireContexts(tx, principal, List.of(run),
              new BundleEntryComponent[] {entries.execute(tx, principal, run, res, blob, run.assignedId(),
                  unit[0], entries.match(tx, principal, run), searches)})[0];
        });
        fetchesQueued[0] = unit[0].fetchesQueued();
        if (BundleEntries.matched(req, result)) {
          unused = blobs;
        }
      } catch (RuntimeException | Error e) {
        // each entry of a batch stands alone (FHIR R4 http.html#brules): one that fails, also for
        // a database or blob store that failed under it or content too deep to encode, answers
        // with its own status, and the entries before it, committed, keep theirs
        RuntimeException failure = EntryFailures.of(e);
        blobs.forEach(b -> binaryData.discardAfter(b, failure));
        FhirException fe = failure instanceof FhirException f ? f : failures.apply(failure);
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
}
