package org.fhirbox.http;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.fhir.SearchParser;
import org.fhirbox.model.PagePosition;
import org.fhirbox.model.StoredResource;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.ResourceService;
import org.fhirbox.fhir.ResourceService.HistoryPage;
import org.fhirbox.fhir.ResourceService.SearchPage;
import org.fhirbox.fhir.VersionOrigin;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleType;
import org.hl7.fhir.r4.model.Resource;

/** The searchset and history Bundles, with their self, next and previous links (FHIR R4 http.html#paging). */
final class PagedBundles {
  private final ResourceService resources;

  PagedBundles(ResourceService resources) {
    this.resources = resources;
  }

  /** @param path what was searched: {@code Type}, or {@code Patient/{id}/Type} (and so on) in a compartment */
  Bundle searchset(Exchange ex, String path, SearchPage p) {
    return searchset(ex.fhirBase(), path, p, presentation(ex, p.countOnly() ? COUNTED : SEARCHSET));
  }

  /**
   * @param presentation what the links carry beside the parameters the search applied ({@code _format}
   *     and the like, each followed by {@code &}), empty for a searchset inside another Bundle
   */
  Bundle searchset(String fhirBase, String path, SearchPage p, String presentation) {
    Bundle bundle = new Bundle().setType(BundleType.SEARCHSET);
    bundle.setId(ResourceIds.newId());
    bundle.getMeta().setLastUpdated(new Date());
    p.total().ifPresent(total -> bundle.setTotal((int) Math.min(total, Integer.MAX_VALUE)));
    // _summary is among the parameters the search applied, and comes with them
    String selfBase = fhirBase + "/" + path + "?" + queryString(p.applied()) + presentation;
    int count = p.count();
    int offset = p.offset();
    // the self link names the search as it ran: a count names no page size, place or subset, a
    // first page no place
    bundle.addLink().setRelation("self").setUrl(p.countOnly() ? selfBase.substring(0, selfBase.length() - 1)
        : selfBase + "_count=" + count + (p.after() == null && offset == 0 ? "" : position(p.after(), offset)));
    if (!p.listed()) {
      return bundle;
    }
    p.matches().forEach(s -> addSearchEntry(fhirBase, bundle, s, Bundle.SearchEntryMode.MATCH));
    p.included().forEach(s -> addSearchEntry(fhirBase, bundle, s, Bundle.SearchEntryMode.INCLUDE));
    if (p.hasMore()) {
      // the next page starts after this one's last match, not at an offset: a write between the
      // pages then neither repeats nor skips a match that was there all along
      bundle.addLink().setRelation("next").setUrl(selfBase + "_count=" + count + position(p.next(), (long) offset + count));
    }
    if (offset > 0 && offset - count <= SearchParser.MAX_OFFSET) {
      // a previous page further in than _offset may skip is left to the client, who came by it
      bundle.addLink().setRelation("previous")
          .setUrl(selfBase + "_count=" + count + "&_offset=" + Math.max(0, offset - count));
    }
    return bundle;
  }

  /**
   * Where a linked page starts: after a position when there is one, which is what the page reads
   * from; its offset still tells how many entries came before it (for a total on the last page,
   * and the previous link).
   */
  private static String position(PagePosition after, long offset) {
    return "&_offset=" + offset + (after != null ? "&_after=" + after.token() : "");
  }

  private void addSearchEntry(String fhirBase, Bundle bundle, StoredResource s, Bundle.SearchEntryMode mode) {
    Optional<Resource> r = resources.readable(s);
    if (r.isEmpty()) {
      // one unreadable stored version costs its entry, not the search (FHIR R4 bundle.html#searchset)
      bundle.addEntry().setResource(ResourceRepository.unreadableOutcome(s))
          .getSearch().setMode(Bundle.SearchEntryMode.OUTCOME);
      return;
    }
    bundle.addEntry()
        .setFullUrl(fhirBase + "/" + s.type() + "/" + s.id())
        .setResource(r.get())
        .getSearch().setMode(mode);
  }

  /** @param sinceParam the {@code _since} the request gave, or null */
  Bundle history(Exchange ex, String type, String id, String sinceParam, HistoryPage page) {
    return history(ex.fhirBase(), type, id, sinceParam, page, presentation(ex, HISTORY));
  }

  /** @param presentation as for {@link #searchset(String, String, SearchPage, String)} */
  Bundle history(String fhirBase, String type, String id, String sinceParam, HistoryPage page, String presentation) {
    int offset = page.offset();
    Bundle bundle = new Bundle().setType(BundleType.HISTORY);
    bundle.setId(ResourceIds.newId());
    bundle.getMeta().setLastUpdated(new Date());
    // _since is kept encoded: a '+' of its offset (+02:00) would be read back as a space
    String path = fhirBase + (type == null ? "" : "/" + type) + (id == null ? "" : "/" + id) + "/_history?"
        + (sinceParam == null ? "" : "_since=" + enc(sinceParam) + "&") + presentation;
    bundle.addLink().setRelation("self").setUrl(path + "_count=" + page.count() + position(page.after(), offset));
    // with _count=0 a next page would be this one again, and a client following next would never stop
    if (page.hasMore() && page.count() > 0) {
      // after this page's last version, not at an offset: versions written meanwhile are newer,
      // before the position, and move nothing after it
      bundle.addLink().setRelation("next").setUrl(path + "_count=" + page.count()
          + position(page.next(), (long) offset + page.count()));
    }
    for (StoredResource s : page.versions()) {
      Bundle.BundleEntryComponent e = bundle.addEntry().setFullUrl(fhirBase + "/" + s.type() + "/" + s.id());
      String versioned = s.type() + "/" + s.id() + "/_history/" + s.versionId();
      VersionOrigin origin = page.origin(s);
      if (origin == VersionOrigin.DELETED) {
        e.getRequest().setMethod(Bundle.HTTPVerb.DELETE).setUrl(s.type() + "/" + s.id());
        e.getResponse().setStatus("204 No Content").setEtag("W/\"" + s.versionId() + "\"")
            .setLastModified(Date.from(s.lastUpdated()));
      } else {
        // an unreadable version keeps its entry, with a warning in place of the resource
        resources.readable(s).ifPresentOrElse(e::setResource,
            () -> e.getResponse().setOutcome(ResourceRepository.unreadableOutcome(s)));
        boolean post = origin == VersionOrigin.CREATED;
        e.getRequest().setMethod(post ? Bundle.HTTPVerb.POST
                : origin == VersionOrigin.PATCHED ? Bundle.HTTPVerb.PATCH : Bundle.HTTPVerb.PUT)
            .setUrl(post ? s.type() : s.type() + "/" + s.id());
        boolean changed = origin == VersionOrigin.UPDATED || origin == VersionOrigin.PATCHED;
        e.getResponse().setStatus(changed ? "200 OK" : "201 Created")
            .setEtag("W/\"" + s.versionId() + "\"").setLocation(versioned)
            .setLastModified(Date.from(s.lastUpdated()));
      }
    }
    return bundle;
  }

  /** What a searchset's links carry beside the parameters the search applied. */
  private static final List<String> SEARCHSET = List.of("_format", "_pretty", "_elements");
  /** What a {@code _summary=count} search's self link carries beside its parameters: no subset, as it lists nothing. */
  private static final List<String> COUNTED = List.of("_format", "_pretty");
  /** What a history's links carry: every parameter that shapes its pages ({@link ResourceSubset}). */
  private static final List<String> HISTORY = List.of("_format", "_pretty", "_elements", "_summary");

  /**
   * The request's parameters among {@code names}, to carry into the paging links: a client that
   * asked for XML, pretty output or a subset gets the same on every page it follows (R4
   * http.html#paging: the links are opaque to the client, which cannot add them back).
   */
  private static String presentation(Exchange ex, List<String> names) {
    StringBuilder sb = new StringBuilder();
    for (String name : names) {
      // the value the answer used: the encoder takes the last _summary and _elements (ResourceSubset)
      Optional<String> used = name.equals("_summary") || name.equals("_elements") ? ex.lastParam(name) : ex.param(name);
      used.ifPresent(v -> sb.append(name).append('=').append(enc(v)).append('&'));
    }
    return sb.toString();
  }

  static String queryString(Map<String, List<String>> params) {
    StringBuilder sb = new StringBuilder();
    List<String> parts = new ArrayList<>();
    params.forEach((k, vs) -> vs.forEach(v -> parts.add(enc(k) + "=" + enc(v))));
    for (String p : parts) {
      sb.append(p).append('&');
    }
    return sb.toString();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
