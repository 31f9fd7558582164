package org.fhirbox.fhir;

import ca.uhn.fhir.util.FhirTerser;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.fhirbox.auth.Principal;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;
import org.fhirbox.storage.BlobInfo;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.BundleType;
import org.hl7.fhir.r4.model.Resource;

/**
 * A transaction Bundle (FHIR R4 http.html#transaction), run in one database transaction: all
 * entries or none. Its {@code urn:uuid:} (and other fullUrl) references, including an
 * {@code Attachment.url} naming a Binary created in the same Bundle, are rewritten to the ids
 * assigned here ({@link TransactionPlan}). Every conditional create ({@link ConditionalMatch})
 * searches before anything is written, and a fullUrl of one that found its match names it. Each
 * entry runs through {@link BundleEntries}. The bytes its Binaries store are discarded when it
 * fails, and never once it has committed.
 */
final class TransactionRunner {
  private final ResourceStore store;
  private final ResourceRepository repository;
  private final BinaryData binaryData;
  private final ConditionalMatch conditional;
  private final BundleEntries entries;
  private final FhirTerser terser;

  TransactionRunner(ResourceStore store, ResourceRepository repository, BinaryData binaryData,
      ConditionalMatch conditional, BundleEntries entries, FhirTerser terser) {
    this.store = store;
    this.repository = repository;
    this.binaryData = binaryData;
    this.conditional = conditional;
    this.entries = entries;
    this.terser = terser;
  }

  /**
   * Runs {@code bundle}, a transaction; the entries that search are answered by {@code searches}
   * ({@link EntrySearch}) after its writes, in its database transaction.
   */
  Bundle run(Principal principal, Bundle bundle, String fhirBase, EntrySearch.Runner searches) {
    TransactionPlan plan = TransactionPlan.of(bundle, fhirBase, repository, terser);
    List<EntryRequest> requests = plan.requests();
    List<EntryRequest> ordered = plan.ordered();
    Map<Integer, BlobInfo> blobs = new HashMap<>();
    BundleEntryComponent[] results;
    try {
      for (EntryRequest r : requests) {
        Resource res = bundle.getEntry().get(r.index()).getResource();
        if (BundleEntries.storesBytes(r, res)) {
          blobs.put(r.index(), entries.blobFor(res));
        }
      }
      Map<Integer, String> bodyIds = new HashMap<>();
      requests.forEach(r -> bodyIds.put(r.index(),
          BundleEntries.idOf(bundle.getEntry().get(r.index()).getResource())));
      // read before any run rewrites them: a retried run starts from the Bundle as sent
      List<String> conditionalReferences = plan.conditionalReferences(terser);
      results = store.inTransaction(tx -> {
        // conditional creates, updates and deletes search before anything is written: what they
        // find is what they write, and what references to their fullUrl name
        Map<Integer, StoredResource> matches = new HashMap<>();
        List<EntryRequest> runs = new ArrayList<>();
        Map<Integer, String> resolved = new HashMap<>();
        for (EntryRequest r : requests) {
          StoredResource m = entries.match(tx, principal, r);
          if (m != null) {
            matches.put(r.index(), m);
          }
          EntryRequest run = entries.resolve(tx, principal, r, bundle.getEntry().get(r.index()).getResource(),
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
          res[r.index()] = entries.execute(tx, principal, r, bundle.getEntry().get(r.index()).getResource(),
              blobs.get(r.index()), r.assignedId(), created, matches.get(r.index()), searches);
        }
        // After every entry: a Binary may name a resource this Bundle creates after it.
        entries.requireContexts(tx, principal, runs, res);
        created.requireInCompartment(BundleEntries::atEntry);
        // last before the commit: no search runs, with the rows locked, for a transaction that fails
        EntrySearch.Runner inTransaction = searches.within(ResourceService.Reading.in(tx));
        plan.searches().forEach(search -> res[search.index()] = search.answer(inTransaction));
        return res;
      });
    } catch (RuntimeException | Error e) {
      // an Error other than those of one entry's content (EntryFailures) is thrown on as it is,
      // its blobs left to the orphan sweeper; the rolled-back transaction names none of them
      RuntimeException failure = EntryFailures.of(e);
      blobs.values().forEach(b -> binaryData.discardAfter(b, failure));
      throw failure;
    }
    // committed: the Binaries name their blobs, which nothing from here on may discard; only a
    // conditional create that matched stored bytes no resource names
    Bundle out = new Bundle().setType(BundleType.TRANSACTIONRESPONSE);
    out.setId(ResourceIds.newId());
    for (int i = 0; i < results.length; i++) {
      if (BundleEntries.matched(requests.get(i), results[i])) {
        binaryData.discard(blobs.get(i));
      }
      out.addEntry(results[i]);
    }
    return out;
  }
}
