package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.BinaryContent;

/**
 * The Binaries a transaction creates, which its entries may attach ({@link WriteChecks}), and the
 * attachments of them whose patient compartment check waits until every entry has run: a Binary's
 * {@code securityContext} may name a resource the transaction writes after the Binary, even the
 * resource that attaches it, which is not in the compartment (nor anywhere) before it is written.
 * Also how many external urls the request has had queued for fetching into Binaries so far, which
 * ingestion caps per request ({@link AttachmentNormalizer.Gate#fetchesQueued}). One per run of a
 * transaction, so that a retried run starts afresh; a single write has an empty one.
 */
final class CreatedBinaries {
  /** An attachment of a Binary this transaction created, to be in the compartment when every entry has run. */
  record Deferred(int entry, String reference, BooleanSupplier inCompartment) {}

  /** {@code id/versionId} of each Binary version created. */
  private final Set<String> versions = new HashSet<>();
  private final List<Deferred> deferred = new ArrayList<>();
  private int entry = -1;
  /** External urls queued for fetching: by this run's writes, and by the batch entries committed before it. */
  private int fetchesQueued;

  /** None yet: a single write, or a batch entry, attaches no Binary it creates. */
  static CreatedBinaries none() {
    return new CreatedBinaries();
  }

  /**
   * None yet, for a batch entry after entries that committed having queued {@code fetchesQueued}
   * urls for fetching: the request's cap counts them all, though each entry stands alone.
   */
  static CreatedBinaries afterFetches(int fetchesQueued) {
    CreatedBinaries c = new CreatedBinaries();
    c.fetchesQueued = fetchesQueued;
    return c;
  }

  /** The external urls the request has had queued for fetching so far, this run's writes among them. */
  int fetchesQueued() {
    return fetchesQueued;
  }

  /** Notes {@code count} more urls queued for fetching by a write of this run. */
  void queuedFetches(int count) {
    fetchesQueued += count;
  }

  /**
   * Notes what an entry wrote: a Binary created (by POST, or by a PUT that found none, or only a
   * deletion, under its id), not one updated. Only the version created counts: a PUT that creates
   * a deleted Binary again does not make the versions before the deletion the caller's.
   */
  void written(Written w) {
    if (w.created() && w.stored().type().equals("Binary")) {
      versions.add(w.stored().id() + "/" + w.stored().versionId());
    }
  }

  /** The entry that runs now, to which the attachments deferred from now on belong. */
  void entry(int index) {
    entry = index;
  }

  /** Whether this transaction created {@code content}, that version of its Binary. */
  boolean contains(BinaryContent content) {
    return versions.contains(content.binaryId() + "/" + content.versionId());
  }

  /**
   * For a Binary this transaction created: true, with {@code inCompartment} to be judged when every
   * entry has run ({@link #requireInCompartment}); false for any other Binary.
   */
  boolean deferIfCreated(BinaryContent content, String reference, BooleanSupplier inCompartment) {
    if (!contains(content)) {
      return false;
    }
    deferred.add(new Deferred(entry, reference, inCompartment));
    return true;
  }

  /**
   * 400 for an attachment, under a patient limit, of a Binary this transaction created that is not
   * in the compartment now that every entry has run, in the words of {@link WriteChecks} and
   * {@code atEntry} of the entry that attached it.
   */
  void requireInCompartment(BiFunction<Integer, FhirException, FhirException> atEntry) {
    for (Deferred d : deferred) {
      if (!d.inCompartment().getAsBoolean()) {
        throw atEntry.apply(d.entry(), AttachmentNormalizer.unknownBinary(d.reference()));
      }
    }
  }
}
