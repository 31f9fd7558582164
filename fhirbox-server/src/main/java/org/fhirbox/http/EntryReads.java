package org.fhirbox.http;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.fhirbox.auth.Principal;
import org.fhirbox.fhir.EntrySearch;
import org.fhirbox.fhir.ReadConditions;
import org.fhirbox.fhir.ResourceService;
import org.fhirbox.fhir.ResourceService.Reading;
import org.fhirbox.fhir.SearchParser;
import org.fhirbox.model.StoredResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * The searches and histories of a batch's or a transaction's entries ({@link EntrySearch}), as the
 * caller: each answers the page a {@code GET} of its URL would, with the same limits and paging
 * links, but without the request's {@code _format} or {@code _pretty}, which shape the Bundle's
 * answer as a whole. A transaction's read in its own database transaction ({@link #within}). A
 * read entry's conditions are judged as a single read's ({@link ConditionalRead}).
 */
final class EntryReads implements EntrySearch.Runner {
  private final ResourceService resources;
  private final PagedBundles pages;
  private final ResourceOutput output;
  private final Principal principal;
  private final Exchange ex;
  private final Reading reading;
  private final Supplier<Resource> capabilities;

  EntryReads(ResourceService resources, PagedBundles pages, ResourceOutput output, Principal principal,
      Exchange ex, Supplier<Resource> capabilities) {
    this(resources, pages, output, principal, ex, Reading.OWN, capabilities);
  }

  private EntryReads(ResourceService resources, PagedBundles pages, ResourceOutput output, Principal principal,
      Exchange ex, Reading reading, Supplier<Resource> capabilities) {
    this.capabilities = capabilities;
    this.resources = resources;
    this.pages = pages;
    this.output = output;
    this.principal = principal;
    this.ex = ex;
    this.reading = reading;
  }

  @Override
  public EntrySearch.Runner within(Reading within) {
    return new EntryReads(resources, pages, output, principal, ex, within, capabilities);
  }

  @Override
  public Resource capabilities() {
    return capabilities.get();
  }

  @Override
  public boolean notModified(StoredResource s, ReadConditions conditions) {
    return ConditionalRead.notModified(conditions, s, output, resources::toResource);
  }

  @Override
  public Bundle search(String type, Map<String, List<String>> params) throws IOException {
    return pages.searchset(ex.fhirBase(), type, resources.search(reading, principal, type,
        () -> SearchParser.withoutEmptyValues(params), ex.prefersStrictHandling()), "");
  }

  @Override
  public Bundle history(String type, String id, Map<String, List<String>> params) throws IOException {
    Map<String, List<String>> given = SearchParser.withoutEmptyValues(params);
    Optional<String> since = first(given, "_since");
    return pages.history(ex.fhirBase(), type, id, since.orElse(null), resources.history(reading, principal, type,
        id, () -> FhirRoutes.historyWindow(name -> first(given, name))), "");
  }

  private static Optional<String> first(Map<String, List<String>> params, String name) {
    return params.getOrDefault(name, List.of()).stream().findFirst();
  }
}
