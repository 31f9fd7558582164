package org.fhirbox.fhir;

import ca.uhn.fhir.util.FhirTerser;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.fhirbox.core.FhirException;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.UriType;
import org.hl7.fhir.utilities.xhtml.NodeType;
import org.hl7.fhir.utilities.xhtml.XhtmlNode;

/**
 * A transaction Bundle's entries, parsed, with the ids its creates get, the resource each
 * {@code fullUrl} stands for, and the order they run in (FHIR R4 http.html#trules). The references
 * of the entries are rewritten in place inside the database transaction, once conditional creates
 * have found what they match; a transaction run again after a lost race first puts back what the
 * earlier run rewrote, since its conditional creates may find otherwise.
 */
final class TransactionPlan {
  private final Bundle bundle;
  private final List<EntryRequest> requests;
  /** The entries that search or read a history, in Bundle order; they run after every other entry. */
  private final List<EntrySearch> searches;
  /** fullUrl to {@code Type/id}, for the entries that create (their assigned ids). */
  private final Map<String, String> targets;
  /** fullUrl by entry index, for the entries that create. */
  private final Map<Integer, String> fullUrls;
  /** {@code Type/id} to the index of the entry that updates or deletes it. */
  private final Map<String, Integer> written;
  private final List<Runnable> undo = new ArrayList<>();
  /** {@code Type?criteria}: a search standing for its one match; a URL has a scheme before any '?'. */
  private static final Pattern CONDITIONAL_REFERENCE = Pattern.compile("[A-Z][A-Za-z]+\\?.+");

  private TransactionPlan(Bundle bundle, List<EntryRequest> requests, List<EntrySearch> searches,
      Map<String, String> targets, Map<Integer, String> fullUrls, Map<String, Integer> written) {
    this.bundle = bundle;
    this.requests = requests;
    this.searches = searches;
    this.targets = targets;
    this.fullUrls = fullUrls;
    this.written = written;
  }

  /**
   * Parses every entry (400 for the first that is malformed) and assigns the ids of its creates;
   * 400 when two entries update or delete the same resource (see {@link #requireOnce}), and when a
   * reference names a {@code urn:uuid:} that is no entry's fullUrl ({@link #requireResolvable}).
   */
  static TransactionPlan of(Bundle bundle, String fhirBase, ResourceRepository repository, FhirTerser terser) {
    List<EntryRequest> requests = new ArrayList<>();
    List<EntrySearch> searches = new ArrayList<>();
    Map<String, String> targets = new HashMap<>();
    Map<Integer, String> fullUrls = new HashMap<>();
    Map<String, Integer> written = new HashMap<>();
    Map<String, Integer> conditions = new HashMap<>();
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      BundleEntryComponent entry = bundle.getEntry().get(i);
      Optional<EntrySearch> search = EntrySearch.of(entry, i, fhirBase, repository);
      if (search.isPresent()) {
        searches.add(search.get());
        requests.add(EntryRequest.search(i, search.get().type()));
        continue;
      }
      EntryRequest req = EntryRequest.of(entry, i, fhirBase, repository);
      requireConditionOnce(conditions, req);
      if (req.method() == HTTPVerb.POST) {
        String id = ResourceIds.newId();
        req = req.withId(id);
        if (entry.hasFullUrl()) {
          target(targets, entry, req.type() + "/" + id, i);
          fullUrls.put(i, entry.getFullUrl());
        }
      } else if (req.condition() != null) {
        // what a conditional update or delete names is known once its search ran (see
        // requireResolvedOnce); the fullUrl of an update stands for it, a new resource until then
        if (req.method() == HTTPVerb.PUT) {
          req = req.withId(ResourceIds.newId());
          if (entry.hasFullUrl()) {
            target(targets, entry, req.type() + "/" + req.assignedId(), i);
            fullUrls.put(i, entry.getFullUrl());
          }
        }
      } else if (req.method() != HTTPVerb.GET && req.method() != HTTPVerb.HEAD) {
        requireOnce(written, req.type() + "/" + req.id(), i);
        if (req.method() == HTTPVerb.PUT && entry.hasFullUrl()) {
          // the fullUrl of an update (often a urn:uuid: too) stands for the resource its URL names
          target(targets, entry, req.type() + "/" + req.id(), i);
        }
      }
      requests.add(req);
    }
    requireResolvable(bundle, terser, targets);
    return new TransactionPlan(bundle, requests, searches, targets, fullUrls, written);
  }

  /**
   * 400 when two entries that may create under a condition (a POST's ifNoneExist, a conditional
   * PUT) share it: every search runs before any write, so when nothing matches both would create,
   * and the one resource the condition is meant to keep unique would exist twice. The same
   * criteria in another order are the same condition.
   */
  private static void requireConditionOnce(Map<String, Integer> conditions, EntryRequest req) {
    String condition = req.method() == HTTPVerb.POST ? req.ifNoneExist()
        : req.method() == HTTPVerb.PUT ? req.condition() : null;
    if (condition == null) {
      return;
    }
    String key = req.type() + "?" + new TreeMap<>(req.method() == HTTPVerb.POST
        ? ConditionalMatch.criteria(req.type(), condition) : QueryString.parse(condition));
    Integer before = conditions.putIfAbsent(key, req.index());
    if (before != null) {
      throw FhirException.badRequest("Bundle.entry[" + before + "] and Bundle.entry[" + req.index() + "] both create " + req.type()
          + " only if '" + QueryLimits.shorten(condition) + "' matches nothing; when nothing does, a transaction"
          + " would create two (send one of them)", "Bundle.entry[" + req.index() + "].request");
    }
  }

  private static void target(Map<String, String> targets, BundleEntryComponent entry, String target, int index) {
    if (targets.put(entry.getFullUrl(), target) != null) {
      throw FhirException.badRequest("Bundle.entry[" + index + "]: fullUrl " + entry.getFullUrl() + " occurs twice",
          "Bundle.entry[" + index + "].fullUrl");
    }
  }

  /**
   * 400 naming the first reference or {@code Attachment.url} of an entry's resource that is a
   * {@code urn:uuid:} no entry has as its fullUrl: it stands for nothing outside the Bundle, and
   * stored as it is it would be a reference no one could follow (HAPI FHIR refuses it too). The
   * resources inside a Bundle or Parameters that an entry holds keep their own {@code urn:uuid:}
   * references, which name their own entries.
   */
  private static void requireResolvable(Bundle bundle, FhirTerser terser, Map<String, String> targets) {
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      requireResolvable(bundle.getEntry().get(i), i, terser, targets,
          "which is the fullUrl of no entry in this transaction");
    }
  }

  /**
   * 400 when entry {@code index}'s resource names a {@code urn:uuid:} that is not in
   * {@code targets}; {@code why} ends the diagnostic.
   */
  static void requireResolvable(BundleEntryComponent entry, int index, FhirTerser terser, Map<String, String> targets,
      String why) {
    Resource r = entry.getResource();
    if (r == null) {
      return;
    }
    List<String> named = new ArrayList<>();
    terser.getAllPopulatedChildElementsOfType(r, Reference.class).forEach(ref -> named.add(ref.getReference()));
    terser.getAllPopulatedChildElementsOfType(r, Attachment.class).forEach(a -> named.add(a.getUrl()));
    for (String n : named) {
      if (n != null && n.startsWith("urn:uuid:") && !targets.containsKey(n)) {
        throw FhirException.badRequest("Bundle.entry[" + index + "]: the resource names " + n + ", " + why,
            "Bundle.entry[" + index + "].resource");
      }
    }
  }

  /**
   * 400 when the resource a conditional create matched ({@code matched}: entry index to
   * {@code Type/id}) is one another entry updates or deletes: the create would answer with what the
   * same transaction changes (see {@link #requireOnce}).
   */
  void requireMatchesUntouched(Map<Integer, String> matched) {
    matched.forEach((index, target) -> {
      Integer other = written.get(target);
      if (other != null) {
        throw twice(target, Math.min(index, other), Math.max(index, other));
      }
    });
  }

  /**
   * 400 when a conditional update or delete ({@code resolved}: entry index to the {@code Type/id} its
   * search named) names a resource another entry writes, another conditional entry names, or a
   * conditional create matched ({@code matched}): the identities of a transaction's writes, resolved
   * ones included, must not overlap (see {@link #requireOnce}).
   */
  void requireResolvedOnce(Map<Integer, String> resolved, Map<Integer, String> matched) {
    Map<String, Integer> seen = new HashMap<>(written);
    resolved.forEach((index, target) -> requireOnce(seen, target, index));
    Map<String, Integer> resolvedTargets = new HashMap<>();
    resolved.forEach((index, target) -> resolvedTargets.putIfAbsent(target, index));
    matched.forEach((index, target) -> {
      Integer other = resolvedTargets.get(target);
      if (other != null) {
        throw twice(target, Math.min(index, other), Math.max(index, other));
      }
    });
  }

  /**
   * FHIR R4 http.html#trules: "If any resource identities (including resolved identities from
   * conditional update/delete) overlap in steps 1-3 [DELETE, POST, PUT], then the transaction SHALL
   * fail." Two writes of one resource in one transaction have no order a client could rely on.
   */
  private static void requireOnce(Map<String, Integer> written, String target, int index) {
    Integer before = written.putIfAbsent(target, index);
    if (before != null) {
      throw twice(target, before, index);
    }
  }

  private static FhirException twice(String target, int first, int second) {
    return FhirException.badRequest("Bundle.entry[" + first + "] and Bundle.entry[" + second + "] both name " + target + "; a transaction"
        + " may create, update or delete a resource once (FHIR R4 http.html#trules)",
        "Bundle.entry[" + second + "].request.url");
  }

  /** The entries in Bundle order; one that searches is a {@code GET} of its type with no id ({@link #searches}). */
  List<EntryRequest> requests() {
    return requests;
  }

  /**
   * The entries that search or read a history, in Bundle order. They run last, after every read
   * too, in the transaction's own database transaction: FHIR R4 http.html#trules processes the
   * {@code GET}s after the writes, so wherever one is listed it sees what the transaction wrote.
   */
  List<EntrySearch> searches() {
    return searches;
  }

  /**
   * The entries in the order they run, but for the {@link #searches}, which follow them: DELETE,
   * then POST, then PUT/PATCH, then GET (FHIR R4 http.html#trules), except that Binaries are
   * written before the other POSTs and PUTs, creates before updates; otherwise in Bundle order.
   * The rules leave the order within a group to the server ("the order of ... POST ... does not
   * matter"), and an {@code Attachment.url} is the one
   * reference a write checks: it must name a Binary that exists, so a Patient whose photo names a
   * Binary listed after it, or one the Bundle PUTs, would fail in Bundle order. Nothing else can
   * tell the orders apart: a create gets a new id, no two entries write the same resource
   * ({@link #requireOnce}), and every conditional create searches before the first write.
   */
  List<EntryRequest> ordered() {
    Set<Integer> searched = searches.stream().map(EntrySearch::index).collect(Collectors.toSet());
    List<EntryRequest> ordered = new ArrayList<>(requests);
    ordered.removeIf(r -> searched.contains(r.index()));
    ordered.sort(Comparator.comparingInt(r -> {
      boolean binary = r.type().equals("Binary");
      return switch (r.method()) {
        case DELETE -> 0;
        case POST -> binary ? 1 : 3;
        case PUT, PATCH -> binary ? 2 : 4;
        default -> 5;
      };
    }));
    return ordered;
  }

  /**
   * The conditional references ({@code Patient?identifier=urn:mrn|4711}, FHIR R4 http.html#trules
   * "Conditional References") the entries' resources hold, once each, in the elements
   * {@link #rewrite} replaces: not inside a Bundle or Parameters an entry holds, whose references
   * are its own, as {@link #requireResolvable} leaves them.
   */
  List<String> conditionalReferences(FhirTerser terser) {
    Set<String> found = new LinkedHashSet<>();
    for (BundleEntryComponent entry : bundle.getEntry()) {
      if (entry.hasResource()) {
        for (Reference ref : terser.getAllPopulatedChildElementsOfType(entry.getResource(), Reference.class)) {
          if (ref.hasReference() && CONDITIONAL_REFERENCE.matcher(ref.getReference()).matches()) {
            found.add(ref.getReference());
          }
        }
      }
    }
    return List.copyOf(found);
  }

  /**
   * Rewrites the references (and Attachment urls, uris and narrative links, {@link #rewriteUris})
   * of every entry that name a {@code fullUrl} of the Bundle to the resource it stands for: the id
   * assigned to a create, or, for a conditional create that found its match or a conditional
   * update, what its search named ({@code matched}:
   * entry index to {@code Type/id}); and each conditional reference to its match
   * ({@code conditional}: the reference to {@code Type/id}). Those of the entries' own resources
   * and the resources they contain: a Bundle or Parameters an entry stores keeps its references,
   * which name its own entries (FHIR R4 bundle.html#references).
   */
  void rewrite(FhirTerser terser, Map<Integer, String> matched, Map<String, String> conditional) {
    restore();
    Map<String, String> named = new HashMap<>(targets);
    matched.forEach((index, target) -> {
      String fullUrl = fullUrls.get(index);
      if (fullUrl != null) {
        named.put(fullUrl, target);
      }
    });
    Map<String, String> to = new HashMap<>(named);
    to.putAll(conditional);
    if (to.isEmpty()) {
      return;
    }
    for (BundleEntryComponent entry : bundle.getEntry()) {
      if (!entry.hasResource()) {
        continue;
      }
      for (Reference ref : terser.getAllPopulatedChildElementsOfType(entry.getResource(), Reference.class)) {
        String was = ref.getReference();
        String target = ref.hasReference() ? to.get(was) : null;
        if (target != null) {
          ref.setReference(target);
          undo.add(() -> ref.setReference(was));
        }
      }
      for (Attachment a : terser.getAllPopulatedChildElementsOfType(entry.getResource(), Attachment.class)) {
        String was = a.getUrl();
        String target = a.hasUrl() ? to.get(was) : null;
        if (target != null) {
          a.setUrl(target);
          undo.add(() -> a.setUrl(was));
        }
      }
      rewriteUris(terser, entry.getResource(), named);
    }
  }

  /**
   * FHIR R4 http.html#trules: a fullUrl is replaced wherever the Bundle names it, "in the resource
   * ids, resource references, elements of type uri, url, oid, uuid, and <a href="" & <img src=""
   * in the narrative"; a conditional reference is a reference only. A Bundle or Parameters an
   * entry stores keeps its uris, as its references: its fullUrls name its own entries.
   */
  private void rewriteUris(FhirTerser terser, Resource resource, Map<String, String> named) {
    if (named.isEmpty() || resource instanceof Bundle || resource instanceof Parameters) {
      return;
    }
    for (UriType uri : terser.getAllPopulatedChildElementsOfType(resource, UriType.class)) {
      String was = uri.getValue();
      String target = named.get(was);
      if (target != null) {
        uri.setValue(target);
        undo.add(() -> uri.setValue(was));
      }
    }
    NarrativeRules.forEachNarrative(resource, resource.fhirType(), (text, path) -> {
      if (text.hasDiv()) {
        rewriteLinks(text.getDiv(), named);
      }
    });
  }

  private void rewriteLinks(XhtmlNode node, Map<String, String> named) {
    String attribute = "a".equals(node.getName()) ? "href" : "img".equals(node.getName()) ? "src" : null;
    String was = attribute == null ? null : node.getAttribute(attribute);
    String target = was == null ? null : named.get(was);
    if (target != null) {
      node.setAttribute(attribute, target);
      undo.add(() -> node.setAttribute(attribute, was));
    }
    for (XhtmlNode child : node.getChildNodes()) {
      if (child.getNodeType() == NodeType.Element) {
        rewriteLinks(child, named);
      }
    }
  }

  /** Puts back what {@link #rewrite} changed. */
  private void restore() {
    for (int i = undo.size() - 1; i >= 0; i--) {
      undo.get(i).run();
    }
    undo.clear();
  }
}
