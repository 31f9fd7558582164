package org.fhirbox.fhir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.model.StoredResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Resource;

/**
 * A batch or transaction entry that searches or reads a history: {@code GET Type?criteria},
 * {@code GET Type} for every resource of the type, or {@code GET [Type/[id/]]_history[?_count=...]}
 * (FHIR R4 http.html#transaction: an entry's request is any interaction, as the Medplum client's
 * automatic batching sends them). It answers {@code 200} with the searchset or history Bundle as
 * its resource, the page a {@code GET} of its URL would answer; one that fails answers its entry's
 * own status in a batch, as every batch entry does, and fails a transaction whole. A transaction's
 * run after all its other entries, in its database transaction ({@link Runner#within}), so they
 * see what it wrote (FHIR R4 http.html#trules).
 *
 * @param type the searched type, or the type whose history is read (null: the system's)
 * @param id the resource whose history is read, or null
 * @param history a history rather than a search
 * @param capabilities {@code GET metadata}: the CapabilityStatement rather than a search
 * @param params the parameters, as decoded from the entry's URL
 */
public record EntrySearch(int index, String type, String id, boolean history, boolean capabilities,
    Map<String, List<String>> params) {
  /**
   * Runs a search or reads a history as the caller, and answers the page asked for as a Bundle;
   * judges a read entry's conditions as a single read's are judged.
   */
  public interface Runner {
    /** A type-level search: its searchset. */
    Bundle search(String type, Map<String, List<String>> params) throws IOException;

    /**
     * A history (FHIR R4 http.html#history): of the system ({@code type} null), of a type
     * ({@code id} null) or of one resource.
     */
    Bundle history(String type, String id, Map<String, List<String>> params) throws IOException;

    /**
     * The same searches and histories read as {@code reading} says: in a transaction Bundle's own
     * database transaction, after its writes, whose {@code GET}s see what it wrote (FHIR R4
     * http.html#trules).
     */
    Runner within(ResourceService.Reading reading);

    /** The CapabilityStatement {@code GET metadata} answers (FHIR R4 http.html#capabilities). */
    Resource capabilities();

    /**
     * Whether a read or vread entry of {@code s} with {@code conditions} (its
     * {@code request.ifMatch}, {@code request.ifNoneMatch} and {@code request.ifModifiedSince})
     * answers 304 Not Modified, as a single read with those conditions does (FHIR R4
     * http.html#cread), by the same rule.
     *
     * @throws FhirException 412 where that read's is: {@code ifMatch} names
     *     neither {@code *} nor the version read; 400 where its {@code If-Match} is no list of
     *     entity tags
     */
    boolean notModified(StoredResource s, ReadConditions conditions);
  }

  /** The search {@code entry} asks for, or empty when it asks for something else. */
  static Optional<EntrySearch> of(BundleEntryComponent entry, int index, String fhirBase, ResourceRepository repo) {
    if (!entry.hasRequest() || entry.getRequest().getMethod() != HTTPVerb.GET || !entry.getRequest().hasUrl()) {
      return Optional.empty();
    }
    String url = relative(entry.getRequest().getUrl(), fhirBase);
    int q = url.indexOf('?');
    String[] path = (q < 0 ? url : url.substring(0, q)).split("/", -1);
    if (path.length == 1 && path[0].equals("metadata")) {
      return Optional.of(new EntrySearch(index, null, null, false, true, Map.of()));
    }
    boolean history = path[path.length - 1].equals("_history") && path.length <= 3;
    boolean search = path.length == 1 && !path[0].isEmpty() && !history && (q >= 0 || repo.isType(path[0]));
    if (!history && !search) {
      return Optional.empty();
    }
    String type = history && path.length == 1 ? null : path[0];
    if (type != null && !repo.isType(type)) {
      throw unknownType(type, index);
    }
    try {
      String id = path.length == 3 ? ResourceIds.requireValid(path[1]) : null;
      Map<String, List<String>> params = QueryString.parse(q < 0 ? "" : url.substring(q + 1));
      // The entry's Bundle is encoded within the batch's answer, with it: a subset of its resources
      // alone (search.html#summary, #elements) is not made there, and the whole ones would be more
      // than the client asked for.
      if (!params.getOrDefault("_elements", List.of()).stream().allMatch(String::isEmpty)
          || !params.getOrDefault("_summary", List.of()).stream()
              .allMatch(v -> v.isEmpty() || v.equals("count") || v.equals("false"))) {
        throw FhirException.badRequest("_elements and _summary (other than count and false) are not supported in"
            + " a batch or transaction entry; send a GET of its URL to have a subset",
            "Bundle.entry[" + index + "].request.url");
      }
      return Optional.of(new EntrySearch(index, type, id, history, false, params));
    } catch (FhirException e) {
      throw BundleEntries.atEntry(index, e);
    }
  }

  /**
   * An entry's {@code request.url} relative to the base: without the base URL in front, or without
   * one leading {@code /} ({@code /Patient/1}, as HAPI FHIR takes it).
   */
  static String relative(String url, String fhirBase) {
    if (url.startsWith(fhirBase + "/")) {
      return url.substring(fhirBase.length() + 1);
    }
    return url.startsWith("/") ? url.substring(1) : url;
  }

  /**
   * 404 for an entry whose URL names no R4 resource type, as a request to that URL is answered on
   * its own ({@link ResourceService#requireType}).
   */
  static FhirException unknownType(String type, int index) {
    return new FhirException(IssueKind.NOT_FOUND, List.of(new FhirException.Issue(IssueSeverity.ERROR,
        IssueType.NOTFOUND, "Bundle.entry[" + index + "]: unknown resource type '" + QueryLimits.shorten(type)
        + "': FHIR R4 has no such resource type (names are case-sensitive, as Patient)",
        "Bundle.entry[" + index + "].request.url")), Map.of(), null);
  }

  /** The entry that answers: 200 with the searchset, history or CapabilityStatement, or the failure. */
  BundleEntryComponent answer(Runner runner) {
    try {
      BundleEntryComponent out = new BundleEntryComponent().setResource(capabilities ? runner.capabilities()
          : history ? runner.history(type, id, params) : runner.search(type, params));
      out.getResponse().setStatus("200 OK");
      return out;
    } catch (FhirException e) {
      throw BundleEntries.atEntry(index, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
