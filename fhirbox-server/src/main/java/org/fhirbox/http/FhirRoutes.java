package org.fhirbox.http;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirbox.FhirException;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.binary.BinaryImporter;
import org.fhirbox.binary.BinaryService;
import org.fhirbox.db.HistoryQuery;
import org.fhirbox.db.Page;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchQuery;
import org.fhirbox.db.StoredResource;
import org.fhirbox.fhir.BundleProcessor;
import org.fhirbox.fhir.CapabilityStatementFactory;
import org.fhirbox.fhir.FhirFormat;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.SearchChains;
import org.fhirbox.fhir.SearchIncludes;
import org.fhirbox.fhir.SearchParser;
import org.fhirbox.fhir.Written;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleType;
import org.hl7.fhir.r4.model.Resource;

/** The FHIR REST API under {@code /fhir/R4} (FHIR R4 http.html). */
public final class FhirRoutes {
  private final ResourceStore store;
  private final ResourceRepository repository;
  private final BinaryRoutes binaries;
  private final BundleProcessor bundles;
  private final SearchParser searchParser;
  private final SearchChains chains;
  private final SearchIncludes includes;
  private final CapabilityStatementFactory capabilities;
  private final ResourceOutput output;
  private final long maxJsonBytes;
  private final int maxCount;
  private final BinaryImporter importer;

  public FhirRoutes(ResourceStore store, ResourceRepository repository, BinaryRoutes binaries,
      BundleProcessor bundles, SearchParser searchParser, SearchChains chains, SearchIncludes includes,
      CapabilityStatementFactory capabilities, ResourceOutput output, long maxJsonBytes, int maxCount,
      BinaryImporter importer) {
    this.store = store;
    this.repository = repository;
    this.binaries = binaries;
    this.bundles = bundles;
    this.searchParser = searchParser;
    this.chains = chains;
    this.includes = includes;
    this.capabilities = capabilities;
    this.output = output;
    this.maxJsonBytes = maxJsonBytes;
    this.maxCount = maxCount;
    this.importer = importer;
  }

  /** {@code GET /fhir/R4/metadata}: needs no credentials (FHIR R4 http.html#capabilities). */
  public void metadata(Exchange ex) throws IOException {
    output.writeRaw(ex, 200, capabilities.build(ex.fhirBase()));
  }

  /** Dispatches {@code segments} (the path after {@code /fhir/R4/}, split on '/'). */
  public void handle(Exchange ex, Principal principal, List<String> segments) throws IOException {
    String method = ex.method();
    int n = segments.size();
    if (n == 0) {
      requireMethod(method, "POST");
      bundle(ex, principal);
      return;
    }
    String first = segments.get(0);
    if (n == 1 && first.equals("_history")) {
      requireMethod(method, "GET");
      history(ex, principal, null, null);
      return;
    }
    String type = repository.requireType(first);
    if (n == 1) {
      switch (method) {
        case "POST" -> create(ex, principal, type);
        case "GET" -> search(ex, principal, type);
        default -> throw FhirException.methodNotAllowed(method + " is not allowed on /" + type);
      }
      return;
    }
    String second = segments.get(1);
    if (n == 2 && second.equals("_history")) {
      requireMethod(method, "GET");
      history(ex, principal, type, null);
      return;
    }
    if (n == 2 && second.equals("_search")) {
      requireMethod(method, "POST");
      search(ex, principal, type);
      return;
    }
    if (n == 2 && type.equals("Binary") && second.equals("$import")) {
      requireMethod(method, "POST");
      importBinary(ex, principal);
      return;
    }
    String id = ResourceIds.requireValid(second);
    if (n == 2) {
      switch (method) {
        case "GET", "HEAD" -> read(ex, principal, type, id, null);
        case "PUT" -> update(ex, principal, type, id);
        case "DELETE" -> delete(ex, principal, type, id);
        default -> throw FhirException.methodNotAllowed(method + " is not allowed on /" + type + "/" + id);
      }
      return;
    }
    if (segments.get(2).equals("_history")) {
      requireMethod(method, "GET", "HEAD");
      if (n == 3) {
        history(ex, principal, type, id);
        return;
      }
      if (n == 4) {
        read(ex, principal, type, id, ResourceIds.requireVersion(segments.get(3)));
        return;
      }
    }
    if (n == 3 && type.equals("Binary") && segments.get(2).startsWith("$")) {
      binaries.operation(ex, principal, id, segments.get(2));
      return;
    }
    throw FhirException.notFound("no route for /fhir/R4/" + String.join("/", segments));
  }

  private static void requireMethod(String method, String... allowed) {
    for (String a : allowed) {
      if (a.equals(method)) {
        return;
      }
    }
    throw FhirException.methodNotAllowed(method + " is not allowed here; use " + String.join(" or ", allowed));
  }

  private void create(Exchange ex, Principal principal, String type) throws IOException {
    principal.require(type, Interaction.CREATE);
    if (type.equals("Binary") && binaries.isRawBody(ex)) {
      respondWritten(ex, principal, binaries.createRaw(ex, principal));
      return;
    }
    Resource resource = parseBody(ex);
    if (!resource.fhirType().equals(type)) {
      throw FhirException.badRequest("the body is a " + resource.fhirType() + " but the URL names " + type);
    }
    Written w = bundles.createSingle(principal.project(), resource);
    respondWritten(ex, principal, w);
  }

  private void update(Exchange ex, Principal principal, String type, String id) throws IOException {
    principal.require(type, Interaction.UPDATE);
    Long ifMatch = ex.ifMatch();
    if (type.equals("Binary") && binaries.isRawBody(ex)) {
      respondWritten(ex, principal, binaries.updateRaw(ex, principal, id, ifMatch));
      return;
    }
    Resource resource = parseBody(ex);
    Written w = bundles.updateSingle(principal.project(), type, id, resource, ifMatch);
    respondWritten(ex, principal, w);
  }

  Resource parseBody(Exchange ex) throws IOException {
    FhirFormat format = ex.bodyFormat().orElseThrow(() -> FhirException.unsupportedMediaType(
        "Content-Type must be application/fhir+json or application/fhir+xml, got '"
            + (ex.contentType() == null ? "" : ex.contentType()) + "'"));
    return repository.codec().parse(ex.body(maxJsonBytes), format);
  }

  void respondWritten(Exchange ex, Principal principal, Written w) throws IOException {
    Resource r = w.resource();
    StoredResource s = w.stored();
    if (r instanceof org.hl7.fhir.r4.model.Binary b) {
      binaries.written(ex, principal, b, w.created());
    }
    String location = ex.fhirBase() + "/" + s.type() + "/" + s.id() + "/_history/" + s.versionId();
    ex.response().setHeader("Location", location);
    if (w.created()) {
      ex.response().setHeader("Content-Location", location);
    }
    ResourceOutput.versionHeaders(ex, r);
    int status = w.created() ? 201 : 200;
    switch (ex.preferReturn()) {
      case "minimal" -> ex.response().setStatus(status);
      case "operationoutcome" -> output.writeRaw(ex, status, org.fhirbox.http.ErrorMapper.info(
          (w.created() ? "created " : "updated ") + s.type() + "/" + s.id() + " version " + s.versionId()));
      default -> output.writeWritten(ex, principal, status, w);
    }
  }

  /**
   * {@code POST /Binary/$import}: fetches {@code url} into a new Binary now. Parameters come as a
   * FHIR Parameters body ({@code url}, {@code contentType}, {@code securityContext}) or as query
   * parameters of the same names.
   */
  private void importBinary(Exchange ex, Principal principal) throws IOException {
    principal.require("Binary", Interaction.CREATE);
    Map<String, String> args = new java.util.HashMap<>();
    for (String name : List.of("url", "contentType", "securityContext")) {
      ex.param(name).ifPresent(v -> args.put(name, v));
    }
    if (ex.bodyFormat().isPresent()) {
      if (!(parseBody(ex) instanceof org.hl7.fhir.r4.model.Parameters p)) {
        throw FhirException.badRequest("$import takes a Parameters resource");
      }
      for (var param : p.getParameter()) {
        if (param.getValue() != null && param.getValue().isPrimitive()) {
          args.put(param.getName(), param.getValue().primitiveValue());
        } else if (param.getValue() instanceof org.hl7.fhir.r4.model.Reference ref) {
          args.put(param.getName(), ref.getReference());
        }
      }
    }
    respondWritten(ex, principal, importer.importNow(principal.project(), args.get("url"), args.get("contentType"),
        args.get("securityContext")));
  }

  private void read(Exchange ex, Principal principal, String type, String id, Long version) throws IOException {
    principal.require(type, Interaction.READ);
    StoredResource s = store.read(tx -> version == null
        ? repository.read(tx, principal.project(), type, id)
        : repository.vread(tx, principal.project(), type, id, version));
    if (type.equals("Binary") && !ex.wantsFhirFormat()) {
      // FHIR R4 binary.html#rest: a non-FHIR Accept gets the raw content.
      binaries.writeRaw(ex, principal, s);
      return;
    }
    org.fhirbox.binary.BinaryContent content = type.equals("Binary") ? binaries.content(principal, s) : null;
    if (ex.method().equals("HEAD")) {
      ResourceOutput.versionHeaders(ex, s);
      ex.response().setStatus(200);
      ex.response().setContentType(ex.format().contentType() + ";charset=utf-8");
      return;
    }
    output.writeStored(ex, principal, s, repository::toResource);
    if (content != null) {
      binaries.readAsResource(ex, principal, content);
    }
  }

  private void delete(Exchange ex, Principal principal, String type, String id) throws IOException {
    principal.require(type, Interaction.DELETE);
    Long ifMatch = ex.ifMatch();
    StoredResource gone = store.inTransaction(tx -> repository.delete(tx, principal.project(), type, id, ifMatch))
        .orElseThrow();
    ex.response().setHeader("ETag", "W/\"" + gone.versionId() + "\"");
    output.writeRaw(ex, 200, ErrorMapper.info("deleted " + type + "/" + id));
  }

  private void search(Exchange ex, Principal principal, String type) throws IOException {
    principal.require(type, Interaction.SEARCH);
    Map<String, List<String>> params = ex.params();
    if (ex.method().equals("POST")) {
      String ct = ex.contentType();
      if (ct != null && ct.startsWith("application/x-www-form-urlencoded")) {
        params = new java.util.LinkedHashMap<>(params);
        Exchange.parseQuery(ex.body(maxJsonBytes)).forEach(params::putIfAbsent);
      }
    }
    boolean strict = ex.header("Prefer") != null && ex.header("Prefer").contains("handling=strict");
    SearchParser.Parsed parsed = searchParser.parse(principal.project(), type, params, strict,
        t -> principal.access().allows(t, Interaction.SEARCH));
    Bundle bundle = new Bundle().setType(BundleType.SEARCHSET);
    bundle.setId(ResourceIds.newId());
    bundle.getMeta().setLastUpdated(new java.util.Date());
    // Chains are looked up in the transaction that counts: one connection, one snapshot.
    record Counted(SearchQuery query, long total) {}
    Counted counted = store.read(tx -> {
      SearchQuery resolved = chains.resolve(tx, parsed.query());
      return new Counted(resolved, tx.count(resolved));
    });
    SearchQuery query = counted.query();
    long total = counted.total();
    bundle.setTotal((int) Math.min(total, Integer.MAX_VALUE));
    String selfBase = ex.fhirBase() + "/" + type + "?" + queryString(parsed.applied());
    int count = query.count();
    int offset = query.offset();
    bundle.addLink().setRelation("self").setUrl(selfBase + "_count=" + count + "&_offset=" + offset);
    if (!parsed.summaryCount() && count > 0) {
      Page page = store.read(tx -> tx.search(query));
      page.items().forEach(s -> addSearchEntry(ex, bundle, s, Bundle.SearchEntryMode.MATCH));
      includes.resolve(principal, parsed.includes(), page.items())
          .forEach(s -> addSearchEntry(ex, bundle, s, Bundle.SearchEntryMode.INCLUDE));
      if (page.hasMore()) {
        bundle.addLink().setRelation("next").setUrl(selfBase + "_count=" + count + "&_offset=" + (offset + count));
      }
      if (offset > 0) {
        bundle.addLink().setRelation("previous")
            .setUrl(selfBase + "_count=" + count + "&_offset=" + Math.max(0, offset - count));
      }
    }
    output.write(ex, principal, 200, bundle);
  }

  private void addSearchEntry(Exchange ex, Bundle bundle, StoredResource s, Bundle.SearchEntryMode mode) {
    bundle.addEntry()
        .setFullUrl(ex.fhirBase() + "/" + s.type() + "/" + s.id())
        .setResource(repository.toResource(s))
        .getSearch().setMode(mode);
  }

  private void history(Exchange ex, Principal principal, String type, String id) throws IOException {
    if (type != null) {
      principal.require(type, Interaction.READ);
    } else if (!principal.access().allows("*", Interaction.READ)) {
      throw FhirException.forbidden("system history needs read access to all resource types");
    }
    int count = ex.param("_count").map(v -> parseCount(v)).orElse(50);
    int offset = ex.param("_offset").map(v -> parseCount(v)).orElse(0);
    java.time.Instant since = ex.param("_since").map(FhirRoutes::instant).orElse(null);
    if (id != null) {
      store.read(tx -> repository.readAny(tx, principal.project(), type, id));
    }
    HistoryQuery q = new HistoryQuery(principal.project(), type, id, since, Math.min(count, maxCount), offset);
    Page page = store.read(tx -> tx.history(q));
    if (type == null && !principal.access().allows("AuditEvent", Interaction.READ)) {
      // AuditEvents are for the project's admins only (Scopes.allows); a short page is still a page
      page = new Page(page.items().stream().filter(s -> !s.type().equals("AuditEvent")).toList(), page.hasMore());
    }
    Bundle bundle = new Bundle().setType(BundleType.HISTORY);
    bundle.setId(ResourceIds.newId());
    bundle.getMeta().setLastUpdated(new java.util.Date());
    String path = ex.fhirBase() + (type == null ? "" : "/" + type) + (id == null ? "" : "/" + id) + "/_history?"
        + (since == null ? "" : "_since=" + ex.param("_since").orElseThrow() + "&");
    bundle.addLink().setRelation("self").setUrl(path + "_count=" + q.count() + "&_offset=" + offset);
    if (page.hasMore()) {
      bundle.addLink().setRelation("next").setUrl(path + "_count=" + q.count() + "&_offset=" + (offset + q.count()));
    }
    for (StoredResource s : page.items()) {
      Bundle.BundleEntryComponent e = bundle.addEntry().setFullUrl(ex.fhirBase() + "/" + s.type() + "/" + s.id());
      String versioned = s.type() + "/" + s.id() + "/_history/" + s.versionId();
      if (s.deleted()) {
        e.getRequest().setMethod(Bundle.HTTPVerb.DELETE).setUrl(s.type() + "/" + s.id());
        e.getResponse().setStatus("204 No Content").setEtag("W/\"" + s.versionId() + "\"");
      } else {
        e.setResource(repository.toResource(s));
        e.getRequest().setMethod(s.versionId() == 1 ? Bundle.HTTPVerb.POST : Bundle.HTTPVerb.PUT)
            .setUrl(s.versionId() == 1 ? s.type() : s.type() + "/" + s.id());
        e.getResponse().setStatus(s.versionId() == 1 ? "201 Created" : "200 OK")
            .setEtag("W/\"" + s.versionId() + "\"").setLocation(versioned)
            .setLastModified(java.util.Date.from(s.lastUpdated()));
      }
    }
    output.write(ex, principal, 200, bundle);
  }

  private static int parseCount(String v) {
    try {
      int n = Integer.parseInt(v.trim());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw FhirException.badRequest("'" + v + "' is not a non-negative whole number");
    }
  }

  private static java.time.Instant instant(String v) {
    try {
      return new org.hl7.fhir.r4.model.InstantType(v).getValue().toInstant();
    } catch (RuntimeException e) {
      throw FhirException.badRequest("_since must be an instant like 2024-01-01T00:00:00Z, got '" + v + "'");
    }
  }

  private void bundle(Exchange ex, Principal principal) throws IOException {
    Resource body = parseBody(ex);
    if (!(body instanceof Bundle b)) {
      throw FhirException.badRequest("POST to the base needs a Bundle, got " + body.fhirType());
    }
    Bundle response = bundles.process(principal, b, ex.fhirBase());
    for (Bundle.BundleEntryComponent e : response.getEntry()) {
      // written entries carry a Location; a GET entry has none
      if (e.getResource() instanceof org.hl7.fhir.r4.model.Binary binary && e.getResponse().hasLocation()) {
        binaries.written(ex, principal, binary, e.getResponse().getStatus().startsWith("201"));
      }
    }
    output.write(ex, principal, 200, response);
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
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }
}
