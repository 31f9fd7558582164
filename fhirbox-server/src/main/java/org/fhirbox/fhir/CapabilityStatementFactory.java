package org.fhirbox.fhir;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestComponent;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.r4.model.CapabilityStatement.RestfulCapabilityMode;
import org.hl7.fhir.r4.model.CapabilityStatement.SystemRestfulInteraction;
import org.hl7.fhir.r4.model.CapabilityStatement.TypeRestfulInteraction;
import org.hl7.fhir.r4.model.Enumerations.FHIRVersion;
import org.hl7.fhir.r4.model.Enumerations.PublicationStatus;
import org.hl7.fhir.r4.model.Enumerations.SearchParamType;

/** Builds {@code GET /metadata}: what this server really implements, and nothing more. */
public final class CapabilityStatementFactory {
  private final ResourceRepository repository;
  private final SearchIndexer indexer;
  private final List<Customizer> customizers;

  /** Lets other parts (auth, Binary operations) describe what they add. */
  public interface Customizer {
    void customize(CapabilityStatement cs, CapabilityStatementRestComponent rest);
  }

  public CapabilityStatementFactory(ResourceRepository repository, SearchIndexer indexer,
      List<Customizer> customizers) {
    this.repository = repository;
    this.indexer = indexer;
    this.customizers = List.copyOf(customizers);
  }

  public CapabilityStatement build(String fhirBase) {
    CapabilityStatement cs = new CapabilityStatement();
    cs.setStatus(PublicationStatus.ACTIVE);
    cs.setDate(new Date());
    cs.setPublisher("fhirbox");
    cs.setKind(CapabilityStatement.CapabilityStatementKind.INSTANCE);
    cs.getSoftware().setName("fhirbox").setVersion("0.1.0");
    cs.getImplementation().setDescription("fhirbox FHIR R4 server for binary health data").setUrl(fhirBase);
    cs.setFhirVersion(FHIRVersion._4_0_1);
    cs.addFormat("application/fhir+json");
    cs.addFormat("application/fhir+xml");
    cs.addFormat("json");
    cs.addFormat("xml");
    // PATCH takes a JSON Patch or a FHIRPath Patch, a Parameters resource in either FHIR format
    // (R4 http.html#patch, fhirpatch.html); XML Patch is 415
    cs.addPatchFormat("application/json-patch+json");
    cs.addPatchFormat("application/fhir+json");
    cs.addPatchFormat("application/fhir+xml");
    CapabilityStatementRestComponent rest = cs.addRest().setMode(RestfulCapabilityMode.SERVER);
    // GET Patient/{id}/{type}, Encounter/{id}/{type}, ...: a search in a compartment (R4 http.html#search)
    CompartmentDefinitions.TYPES.forEach(c -> rest.addCompartment(CompartmentDefinitions.url(c)));
    rest.addInteraction().setCode(SystemRestfulInteraction.TRANSACTION);
    rest.addInteraction().setCode(SystemRestfulInteraction.BATCH);
    rest.addInteraction().setCode(SystemRestfulInteraction.HISTORYSYSTEM)
        .setDocumentation("_count, _offset and _since; _at is not supported (400)");
    rest.addOperation().setName("versions")
        .setDefinition("http://hl7.org/fhir/OperationDefinition/CapabilityStatement-versions")
        .setDocumentation("GET $versions: version 4.0, default 4.0. A Content-Type whose fhirVersion is another"
            + " is 415, an Accept that asks only for another 406");
    // the result parameters of every read, vread, search and history (R4 search.html#summary, #elements)
    rest.addSearchParam().setName("_summary").setType(SearchParamType.TOKEN)
        .setDocumentation("true, text (the narrative, id, meta and the top-level mandatory elements), data, count"
            + " (search only: 400 on a read or history) or false; subsetted resources carry the SUBSETTED tag");
    rest.addSearchParam().setName("_elements").setType(SearchParamType.STRING)
        .setDocumentation("the elements to return, comma-separated, besides the mandatory ones; in a search, of the"
            + " searched type's resources only: included resources come whole");
    rest.addSearchParam().setName("_sort").setType(SearchParamType.STRING)
        .setDocumentation("search parameters separated by commas, '-' before one for descending: _id, _lastUpdated"
            + " and each string, token, reference, uri, date, number and quantity parameter of the type; ascending by a"
            + " resource's smallest value (a date's start), descending by its largest (a date's end), resources without"
            + " a value last, ties newest first and then by id; an unknown parameter is 400; the next links carry"
            + " the position of the page's last entry in the sort order (_after), so they page as deep as the"
            + " results go and a write between pages moves no entry it did not change");
    // R4 search.html#include, #revinclude: what each may name is listed per type (searchInclude, searchRevInclude)
    String iterate = "; :iterate (or its R3 name :recurse) applies it to the included resources too, round after"
        + " round, at most " + SearchIncludes.MAX_ROUNDS + " rounds in all; at most the server's largest _count of"
        + " resources per value, never a Binary, and only those the caller may read (_include) or search"
        + " (_revinclude); the wildcard * is not supported";
    rest.addSearchParam().setName("_include").setType(SearchParamType.SPECIAL)
        .setDocumentation("Source:parameter[:Target], Source the searched type; a canonical parameter that may"
            + " name any type of resource (as depends-on) needs its Target and is not listed per type" + iterate);
    rest.addSearchParam().setName("_revinclude").setType(SearchParamType.SPECIAL)
        .setDocumentation("Source:parameter[:Target], the Source resources that reference the matches; a canonical"
            + " parameter that may name any type of resource needs its Target, and is listed with it" + iterate);
    Set<String> types = new TreeSet<>(repository.codec().context().getResourceTypes());
    Map<String, Set<String>> revIncludes = revIncludes(types);
    for (String type : types) {
      CapabilityStatementRestResourceComponent r = rest.addResource().setType(type);
      for (TypeRestfulInteraction i : List.of(TypeRestfulInteraction.READ, TypeRestfulInteraction.VREAD,
          TypeRestfulInteraction.UPDATE, TypeRestfulInteraction.PATCH, TypeRestfulInteraction.DELETE,
          TypeRestfulInteraction.CREATE,
          TypeRestfulInteraction.SEARCHTYPE, TypeRestfulInteraction.HISTORYINSTANCE,
          TypeRestfulInteraction.HISTORYTYPE)) {
        if (i == TypeRestfulInteraction.PATCH && type.equals("Binary")) {
          continue; // a Binary's content is replaced with PUT, not patched
        }
        r.addInteraction().setCode(i);
      }
      // If-Match on update, patch and delete (R4 capabilitystatement versioned-update)
      r.setVersioning(CapabilityStatement.ResourceVersionPolicy.VERSIONEDUPDATE);
      // If-None-Match and If-Modified-Since on read and vread (http.html#cread, ConditionalRead)
      r.setConditionalRead(CapabilityStatement.ConditionalReadStatus.FULLSUPPORT);
      r.setReadHistory(true);
      r.setUpdateCreate(true);
      r.setConditionalCreate(true);
      r.setConditionalUpdate(true);
      r.setConditionalDelete(CapabilityStatement.ConditionalDeleteStatus.SINGLE);
      r.addSearchParam().setName("_id").setType(SearchParamType.TOKEN)
          .setDocumentation("ids, comma-separated; no modifiers");
      r.addSearchParam().setName("_lastUpdated").setType(SearchParamType.DATE)
          .setDocumentation("[prefix]date, one value; no modifiers");
      for (SearchIndexer.Param p : new TreeMap<>(indexer.params(type)).values()) {
        CapabilityStatement.CapabilityStatementRestResourceSearchParamComponent param = r.addSearchParam();
        param.setName(p.name()).setType(switch (p.kind()) {
          case REFERENCE -> SearchParamType.REFERENCE;
          case STRING -> SearchParamType.STRING;
          case DATE -> SearchParamType.DATE;
          case URI -> SearchParamType.URI;
          case NUMBER -> SearchParamType.NUMBER;
          case QUANTITY -> SearchParamType.QUANTITY;
          default -> SearchParamType.TOKEN;
        });
        // R4 search.html#modifiers: the modifiers each parameter takes here
        param.setDocumentation(switch (p.kind()) {
          case TOKEN -> TokenModifiers.documentation(p);
          case STRING -> "starts with the value, ignoring case and accents; modifiers :contains, :exact, :missing";
          case URI -> "the whole URI; modifiers :below (starts with the value), :above (the URLs on the path to the"
              + " value), :missing";
          case REFERENCE -> p.literal() ? "Type/id, id or URL; modifiers :[type], :identifier (system|value of"
              + " Reference.identifier), :missing" : "canonical URL[|version]; modifiers :[type], :missing";
          case DATE -> "[prefix]date; modifier :missing";
          default -> "[prefix]number[|system|code]; modifier :missing";
        });
        // a canonical parameter that may name any type needs the type (Source:param:Target), one
        // per type of resource: it is left out here, and the _include documentation says so
        if (p.kind() == RestSearchParameterTypeEnum.REFERENCE && !anyCanonical(type, p)) {
          r.addSearchInclude(type + ":" + p.name());
        }
      }
      revIncludes.getOrDefault(type, Set.of()).forEach(r::addSearchRevInclude);
    }
    customizers.forEach(c -> c.customize(cs, rest));
    return cs;
  }

  /**
   * Whether {@code p} of {@code source} holds canonical references to any type of resource, which
   * {@link SearchInclude} takes only with a target type ({@code Source:param:Target}).
   */
  private boolean anyCanonical(String source, SearchIndexer.Param p) {
    return p.canonical() && indexer.referenceTargets(source, p.name()).isEmpty();
  }

  /**
   * For each type, the {@code _revinclude} values that can add something to a search of it
   * (R4 search.html#revinclude): {@code Source:param} for every reference parameter of every type
   * whose targets include it (a parameter without declared targets, as {@code Provenance:target},
   * can name any), as {@code Source:param:Type} for a canonical parameter that may name any type
   * ({@link #anyCanonical}). {@code _revinclude} accepts any reference parameter of any type, but one that
   * cannot name the searched type adds nothing.
   */
  private Map<String, Set<String>> revIncludes(Set<String> types) {
    Map<String, Set<String>> byTarget = new TreeMap<>();
    for (String source : types) {
      for (SearchIndexer.Param p : indexer.params(source).values()) {
        if (p.kind() != RestSearchParameterTypeEnum.REFERENCE) {
          continue;
        }
        Set<String> targets = indexer.referenceTargets(source, p.name());
        boolean any = anyCanonical(source, p);
        for (String target : targets.isEmpty() || targets.contains("Resource") ? types : targets) {
          byTarget.computeIfAbsent(target, t -> new TreeSet<>())
              .add(source + ":" + p.name() + (any ? ":" + target : ""));
        }
      }
    }
    return byTarget;
  }
}
