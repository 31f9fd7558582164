package org.fhirbox.fhir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.core.FhirException;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;

/**
 * A batch entry that searches: {@code GET Type?criteria}, or {@code GET Type} for every resource of
 * the type (FHIR R4 http.html#transaction: an entry's request is any interaction, a search too, as
 * the Medplum client's automatic batching and HAPI FHIR's Bundle builders send them). It answers
 * {@code 200} with the searchset Bundle as its resource, the page a {@code GET} of its URL would
 * answer; a search that fails answers its entry's own status, as every batch entry does.
 *
 * @param type the searched type
 * @param params the search's parameters, as decoded from the entry's URL
 */
public record EntrySearch(int index, String type, Map<String, List<String>> params) {
  /** Runs a type-level search as the caller and answers its first page as a searchset Bundle. */
  public interface Runner {
    Bundle search(String type, Map<String, List<String>> params) throws IOException;
  }

  /** The search {@code entry} asks for, or empty when it asks for something else. */
  static Optional<EntrySearch> of(BundleEntryComponent entry, int index, String fhirBase, ResourceRepository repo) {
    if (!entry.hasRequest() || entry.getRequest().getMethod() != HTTPVerb.GET || !entry.getRequest().hasUrl()) {
      return Optional.empty();
    }
    String url = entry.getRequest().getUrl();
    if (url.startsWith(fhirBase + "/")) {
      url = url.substring(fhirBase.length() + 1);
    }
    int q = url.indexOf('?');
    String path = q < 0 ? url : url.substring(0, q);
    if (path.isEmpty() || path.contains("/") || q < 0 && !repo.isType(path)) {
      return Optional.empty();
    }
    String where = "Bundle.entry[" + index + "].request.url";
    if (!repo.isType(path)) {
      throw BundleProcessor.atEntry(index, FhirException.badRequest("unknown resource type '"
          + QueryLimits.shorten(path) + "'", where));
    }
    Map<String, List<String>> params = QueryString.parse(q < 0 ? "" : url.substring(q + 1));
    // The entry's searchset is encoded within the batch's answer, with it: a subset of its
    // resources alone (search.html#summary, #elements) is not made there, and the whole ones
    // would be more than the client asked for.
    if (!params.getOrDefault("_elements", List.of()).stream().allMatch(String::isEmpty)
        || !params.getOrDefault("_summary", List.of()).stream()
            .allMatch(v -> v.isEmpty() || v.equals("count") || v.equals("false"))) {
      throw BundleProcessor.atEntry(index, FhirException.badRequest("_elements and _summary (other than count and"
          + " false) are not supported on a search in a batch entry; search with GET to have a subset", where));
    }
    return Optional.of(new EntrySearch(index, path, params));
  }

  /** The entry that answers this search: 200 with its searchset, or the search's failure. */
  BundleEntryComponent answer(Runner runner) {
    try {
      BundleEntryComponent out = new BundleEntryComponent().setResource(runner.search(type, params));
      out.getResponse().setStatus("200 OK");
      return out;
    } catch (FhirException e) {
      throw BundleProcessor.atEntry(index, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
