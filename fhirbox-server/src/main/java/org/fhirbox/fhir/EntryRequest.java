package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirbox.core.FhirException;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.Resource;

/**
 * A Bundle entry's request, parsed: {@code Type}, {@code Type/id} or {@code Type/id/_history/vid};
 * {@code ifNoneExist} the condition of a conditional create (a POST only), or null;
 * {@code condition} the query of a conditional update, delete or patch ({@code PUT}, {@code DELETE}
 * or {@code PATCH} {@code Type?criteria}), or null; {@code assignedId} the id a create (or a conditional update that
 * matches nothing and names no id) gets. {@code ifMatch} and {@code ifNoneMatch} are the
 * preconditions of a write, as {@link WritePreconditions} reads the headers of a single write
 * (null and empty for a {@code GET}); {@code read} the conditions of a read or vread, its
 * {@code ifMatch} among them ({@link ReadConditions#NONE} for any other method).
 */
record EntryRequest(int index, HTTPVerb method, String type, String id, Long version, Long ifMatch,
    List<Long> ifNoneMatch, String ifNoneExist, String condition, String assignedId, ReadConditions read) {

  /**
   * The place of a search or history entry ({@link EntrySearch}) among a transaction's requests: a
   * {@code GET} that reads no resource, writes nothing and is run by its {@link EntrySearch}.
   *
   * @param type the searched type; that of a history, or null for the system's
   */
  static EntryRequest search(int index, String type) {
    return new EntryRequest(index, HTTPVerb.GET, type, null, null, null, List.of(), null, null, null,
        ReadConditions.NONE);
  }

  EntryRequest withId(String newId) {
    return new EntryRequest(index, method, type, id, version, ifMatch, ifNoneMatch, ifNoneExist, condition, newId,
        read);
  }

  /** This conditional update, delete or patch with what its search found: {@code found} (null: nothing to delete). */
  EntryRequest resolved(String found) {
    return new EntryRequest(index, method, type, found, version, ifMatch, ifNoneMatch, ifNoneExist, null,
        assignedId, read);
  }

  /** 400 unless {@code res}, the entry's resource, is there and of the type its URL names. */
  void requireBody(Resource res) {
    if (res == null) {
      throw FhirException.badRequest("the entry has no resource", "Bundle.entry[" + index + "].resource");
    }
    if (!res.fhirType().equals(type)) {
      throw FhirException.badRequest("the entry holds a " + res.fhirType() + " but its request URL names " + type,
          "Bundle.entry[" + index + "].resource");
    }
  }

  /** The preconditions of this update or delete. */
  WritePreconditions preconditions() {
    return new WritePreconditions(ifMatch, ifNoneMatch, null);
  }

  static EntryRequest of(BundleEntryComponent entry, int index, String fhirBase, ResourceRepository repo) {
    String where = "Bundle.entry[" + index + "].request";
    if (!entry.hasRequest() || !entry.getRequest().hasMethod() || !entry.getRequest().hasUrl()) {
      throw FhirException.badRequest("Bundle.entry[" + index + "]: needs request.method and request.url", where);
    }
    HTTPVerb method = entry.getRequest().getMethod();
    String ifNoneExist = entry.getRequest().hasIfNoneExist() ? entry.getRequest().getIfNoneExist() : null;
    if (ifNoneExist != null && method != HTTPVerb.POST) {
      throw FhirException.badRequest("Bundle.entry[" + index + "]: ifNoneExist makes a POST conditional, not a "
          + method.toCode(), where + ".ifNoneExist");
    }
    String url = EntrySearch.relative(entry.getRequest().getUrl(), fhirBase);
    String condition = null;
    int q = url.indexOf('?');
    if (q >= 0 && method == HTTPVerb.GET && url.substring(0, q).contains("/")) {
      url = readWithoutFormat(url, q, index, where);
      q = url.indexOf('?');
    }
    if (q >= 0) {
      // FHIR R4 http.html#trules: PUT, DELETE (and PATCH, http.html#patch) may name their resource by a search.
      // A search (GET Type?criteria) is an EntrySearch, in a batch and a transaction alike, and never
      // comes here; what does is a search under an id, or another method's.
      if (method != HTTPVerb.PUT && method != HTTPVerb.DELETE && method != HTTPVerb.PATCH
          || url.substring(0, q).contains("/") || q == url.length() - 1) {
        throw FhirException.badRequest("Bundle.entry[" + index + "]: a URL with search criteria is a conditional update,"
            + " delete or patch (PUT, DELETE or PATCH Type?criteria) or a search (GET Type?criteria), not a "
            + method.toCode() + " of '" + QueryLimits.shorten(url) + "'", where + ".url");
      }
      condition = url.substring(q + 1);
      url = url.substring(0, q);
    }
    String[] parts = url.split("/");
    if (parts.length == 0 || parts[0].isEmpty()) {
      throw FhirException.badRequest("Bundle.entry[" + index + "]: request.url '" + url + "' names no resource type",
          where + ".url");
    }
    if (!repo.isType(parts[0])) {
      throw EntrySearch.unknownType(parts[0], index);
    }
    String type = parts[0];
    String id = null;
    Long version = null;
    if (parts.length >= 2) {
      id = ResourceIds.requireValid(parts[1]);
    }
    if (parts.length == 4 && parts[2].equals("_history")) {
      version = ResourceIds.requireVersion(parts[3]);
    } else if (parts.length > 2) {
      throw FhirException.badRequest("Bundle.entry[" + index + "]: cannot interpret request.url '" + url + "'", where + ".url");
    }
    if (method == HTTPVerb.POST && id != null) {
      throw FhirException.badRequest("Bundle.entry[" + index + "]: POST goes to the type, not to an id", where + ".url");
    }
    if (method != HTTPVerb.POST && id == null && condition == null) {
      throw FhirException.badRequest("Bundle.entry[" + index + "]: " + method.toCode() + " needs Type/id in request.url",
          where + ".url");
    }
    Long ifMatch = null;
    // a read's or vread's is a precondition of the read, judged as a single read's If-Match (ReadConditions)
    if (entry.getRequest().hasIfMatch() && method != HTTPVerb.GET) {
      // as If-Match on a single update or delete: "*" is any current version
      ifMatch = ResourceIds.ifMatch(entry.getRequest().getIfMatch());
      if (ifMatch == null) {
        throw FhirException.badRequest("Bundle.entry[" + index + "]: ifMatch must look like W/\"3\"", where + ".ifMatch");
      }
    }
    return new EntryRequest(index, method, type, id, version, ifMatch, ifNoneMatch(entry, index, method, where),
        ifNoneExist, condition, null,
        method == HTTPVerb.GET ? ReadConditions.of(entry.getRequest()) : ReadConditions.NONE);
  }

  /**
   * A read's or vread's URL ({@code Type/id?...}) without the parameters the Bundle's answer follows
   * as a whole ({@code _format}, {@code _pretty}; as an entry search leaves them out,
   * {@link EntrySearch}); a subset of this entry's resource alone ({@code _summary}, {@code _elements})
   * is refused as an entry search's is. What is left is search criteria, which the caller refuses.
   */
  private static String readWithoutFormat(String url, int q, int index, String where) {
    Map<String, List<String>> params = QueryString.parse(url.substring(q + 1));
    if (params.containsKey("_summary") || params.containsKey("_elements")) {
      throw FhirException.badRequest("Bundle.entry[" + index + "]: _elements and _summary are not supported on a"
          + " read in a batch or transaction entry; send a GET of its URL to have a subset", where + ".url");
    }
    return Set.of("_format", "_pretty").containsAll(params.keySet()) ? url.substring(0, q) : url;
  }

  /**
   * {@code request.ifNoneMatch} as the versions it names ({@link ResourceRepository#IF_MATCH_ANY}
   * for {@code *}), empty without one: a precondition of a PUT or DELETE, as {@code If-None-Match}
   * is of a single write, so that an entry sent to create only what is absent never overwrites. A
   * GET entry's is a conditional read's ({@link ReadConditions}), not a precondition. A POST has
   * none (a conditional create is {@code ifNoneExist}).
   */
  private static List<Long> ifNoneMatch(BundleEntryComponent entry, int index, HTTPVerb method, String where) {
    if (!entry.getRequest().hasIfNoneMatch() || method == HTTPVerb.GET) {
      return List.of();
    }
    if (method == HTTPVerb.POST) {
      throw FhirException.badRequest("Bundle.entry[" + index + "]: ifNoneMatch is a precondition of a PUT or DELETE;"
          + " a create that must not find a match is conditional with ifNoneExist", where + ".ifNoneMatch");
    }
    String value = entry.getRequest().getIfNoneMatch().trim();
    if (value.equals("*")) {
      return List.of(ResourceRepository.IF_MATCH_ANY);
    }
    List<Long> versions = new ArrayList<>();
    for (String tag : value.split(",")) {
      Long v = ResourceIds.ifMatch(tag);
      if (v == null || v == ResourceRepository.IF_MATCH_ANY) {
        throw FhirException.badRequest("Bundle.entry[" + index + "]: ifNoneMatch must be * or version ETags like W/\"3\","
            + " not '" + QueryLimits.shorten(value) + "'", where + ".ifNoneMatch");
      }
      versions.add(v);
    }
    return versions;
  }
}
