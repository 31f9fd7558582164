package org.fhirbox.http;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.binary.AuditedWrites;
import org.fhirbox.binary.BinaryImporter;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.QueryString;
import org.fhirbox.model.PagePosition;
import org.fhirbox.model.StoredResource;
import org.fhirbox.fhir.CapabilityStatementFactory;
import org.fhirbox.fhir.CompartmentDefinitions;
import org.fhirbox.fhir.DateText;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.FhirFormat;
import org.fhirbox.fhir.Patch;
import org.fhirbox.fhir.QueryLimits;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.fhir.ResourceService;
import org.fhirbox.fhir.ResourceService.HistoryWindow;
import org.fhirbox.fhir.SearchParser;
import org.fhirbox.fhir.WritePreconditions;
import org.fhirbox.fhir.Written;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Resource;

/**
 * The FHIR REST API under {@code /fhir/R4} (FHIR R4 http.html): dispatch, and the mapping of each
 * interaction to a {@link ResourceService} call and its response. Searchset and history Bundles
 * are built in {@link PagedBundles}; Binary content in {@link BinaryRoutes}.
 */
public final class FhirRoutes {
  private final ResourceService resources;
  private final AuditedWrites writes;
  private final BinaryRoutes binaries;
  private final PagedBundles pages;
  private final CapabilityStatementFactory capabilities;
  private final ResourceOutput output;
  private final long maxJsonBytes;
  private final BinaryImporter importer;

  public FhirRoutes(ResourceService resources, AuditedWrites writes, BinaryRoutes binaries,
      CapabilityStatementFactory capabilities, ResourceOutput output, long maxJsonBytes, BinaryImporter importer) {
    this.resources = resources;
    this.writes = writes;
    this.binaries = binaries;
    this.pages = new PagedBundles(resources);
    this.capabilities = capabilities;
    this.output = output;
    this.maxJsonBytes = maxJsonBytes;
    this.importer = importer;
  }

  /** {@code GET /fhir/R4/metadata}: needs no credentials (FHIR R4 http.html#capabilities). */
  public void metadata(Exchange ex) throws IOException {
    requireMethod(ex.method(), "GET", "HEAD");
    output.writeUnsigned(ex, 200, capabilities.build(ex.fhirBase()));
  }

  /**
   * {@code GET /fhir/R4/$versions}: the FHIR versions this endpoint speaks and the one it uses
   * without a {@code fhirVersion} parameter (R4 capabilitystatement-operation-versions): R4's,
   * both. Needs no credentials, as {@code metadata}.
   */
  public void versions(Exchange ex) throws IOException {
    requireMethod(ex.method(), "GET", "HEAD");
    Parameters p = new Parameters();
    p.addParameter().setName("version").setValue(new CodeType(FhirFormat.VERSION));
    p.addParameter().setName("default").setValue(new CodeType(FhirFormat.VERSION));
    output.writeRaw(ex, 200, p);
  }

  /** {@link FhirOptions#answer} of a plain OPTIONS under the base; false for a path that takes none. */
  public boolean options(Exchange ex, List<String> segments) throws IOException {
    return FhirOptions.answer(ex, segments, resources::requireType,
        () -> output.writeRaw(ex, 200, capabilities.build(ex.fhirBase())));
  }

  /** Dispatches {@code segments} (the path after {@code /fhir/R4/}, split on '/'). */
  public void handle(Exchange ex, Principal principal, List<String> segments) throws IOException {
    String method = ex.method();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      // every write answers in a FHIR format: one the client cannot take is refused (406) before
      // anything is stored, not after, so that the client does not repeat a write that was made
      ex.format();
    }
    int n = segments.size();
    if (n == 0) {
      if (!method.equals("POST")) {
        throw FhirException.methodNotAllowed(method + " is not allowed here; use POST", FhirOptions.BASE[0],
            Arrays.copyOfRange(FhirOptions.BASE, 1, FhirOptions.BASE.length));
      }
      bundle(ex, principal);
      return;
    }
    UnknownOperations.refuse(segments, resources::requireType);
    String first = segments.get(0);
    if (n == 1 && first.equals("_history")) {
      requireMethod(method, "GET", "HEAD");
      history(ex, principal, null, null);
      return;
    }
    String type = resources.requireType(first);
    if (n == 1) {
      switch (method) {
        case "POST" -> create(ex, principal, type);
        // RFC 9110 §9.1: HEAD wherever GET; Jetty sends no body for HEAD, only GET's headers
        case "GET", "HEAD" -> search(ex, principal, type);
        case "PUT" -> conditionalUpdate(ex, principal, type);
        case "DELETE" -> conditionalDelete(ex, principal, type);
        case "PATCH" -> conditionalPatch(ex, principal, type);
        default -> throw FhirException.methodNotAllowed(method + " is not allowed on /" + type, FhirOptions.TYPE[0],
            Arrays.copyOfRange(FhirOptions.TYPE, 1, FhirOptions.TYPE.length));
      }
      return;
    }
    String second = segments.get(1);
    if (n == 2 && second.equals("_history")) {
      requireMethod(method, "GET", "HEAD");
      history(ex, principal, type, null);
      return;
    }
    if (n == 2 && second.equals("_search")) {
      requireMethod(method, "POST");
      search(ex, principal, type);
      return;
    }
    if (n == 2 && type.equals("Binary") && second.equals(UnknownOperations.IMPORT)) {
      requireMethod(method, "POST");
      importBinary(ex, principal);
      return;
    }
    if (n == 2 && type.equals("Binary") && second.equals(UnknownOperations.UPLOAD_URL)) {
      requireMethod(method, "POST");
      binaries.uploadUrl(ex, principal, () -> operationArguments(ex, UnknownOperations.UPLOAD_URL));
      return;
    }
    String id = ResourceIds.requireValid(second);
    if (n == 2) {
      switch (method) {
        case "GET", "HEAD" -> read(ex, principal, type, id, null);
        case "PUT" -> update(ex, principal, type, id);
        case "DELETE" -> delete(ex, principal, type, id);
        case "PATCH" -> patch(ex, principal, type, id);
        default -> throw FhirException.methodNotAllowed(method + " is not allowed on /" + type + "/" + id,
            "GET", "HEAD", "PUT", "DELETE", "PATCH");
      }
      return;
    }
    if (n == 5 && type.equals("Binary") && segments.get(2).equals("_history") && segments.get(4).startsWith("$")) {
      binaries.operation(ex, principal, id, ResourceIds.requireVersion(segments.get(3)), segments.get(4));
      return;
    }
    if (CompartmentDefinitions.isCompartment(type) && isCompartmentSearch(segments)) {
      if (n == 3) {
        requireMethod(method, "GET", "HEAD");
      } else {
        requireMethod(method, "POST");
      }
      if (segments.get(2).equals("*")) {
        ResourceService.SearchPage page = resources.searchEveryType(principal, type, id, () -> searchParams(ex));
        output.writeSubset(ex, principal, 200, pages.searchset(ex, type + "/" + id + "/*", page), null);
        return;
      }
      String inner = resources.requireType(segments.get(2));
      ResourceService.SearchPage page = resources.search(principal, inner, type, id, () -> searchParams(ex),
          ex.prefersStrictHandling());
      output.writeSubset(ex, principal, 200, pages.searchset(ex, type + "/" + id + "/" + inner, page), inner);
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
      binaries.operation(ex, principal, id, null, segments.get(2));
      return;
    }
    throw FhirException.notFound("no route for /fhir/R4/" + String.join("/", segments));
  }

  /**
   * {@code Patient/{id}/{type}} or {@code Patient/{id}/{type}/_search}, and so for every R4
   * compartment ({@link CompartmentDefinitions#TYPES}): a search in the compartment (FHIR R4
   * http.html#search); a {@code $} or {@code _} segment is something else.
   */
  private static boolean isCompartmentSearch(List<String> segments) {
    String inner = segments.get(2);
    return !inner.startsWith("$") && !inner.startsWith("_")
        && (segments.size() == 3 || segments.size() == 4 && segments.get(3).equals("_search"));
  }

  private static void requireMethod(String method, String first, String... more) {
    if (first.equals(method) || Arrays.asList(more).contains(method)) {
      return;
    }
    String use = more.length == 0 ? first : first + " or " + String.join(" or ", more);
    throw FhirException.methodNotAllowed(method + " is not allowed here; use " + use, first, more);
  }

  /**
   * {@code POST /{type}}; with {@code If-None-Exist}, a conditional create (FHIR R4 http.html#ccreate):
   * when the search it names finds one resource, nothing is created and that resource is the answer,
   * 200 with its {@code Location} and {@code ETag}; more than one is 412. A Binary's body is read
   * only when nothing matches, as content or as a Binary resource ({@link BinaryRoutes#isContent});
   * a match settles the unread body around its answer ({@link Exchange#answerLeavingBodyUnread}).
   */
  private void create(Exchange ex, Principal principal, String type) throws IOException {
    String ifNoneExist = ex.header("If-None-Exist");
    if (ifNoneExist != null && ifNoneExist.isBlank()) {
      throw FhirException.badRequest("If-None-Exist is empty; it takes search parameters, as identifier=system|value");
    }
    if (type.equals("Binary")) {
      Optional<StoredResource> match = ifNoneExist == null ? Optional.empty()
          : resources.existing(principal, type, ifNoneExist);
      if (match.isPresent()) {
        ex.answerLeavingBodyUnread(() -> {
          respondExisting(ex, principal, match.get());
          return null;
        });
        return;
      }
      if (binaries.isContent(ex, principal, Interaction.CREATE, maxJsonBytes)) {
        respondWritten(ex, principal, binaries.createRaw(ex, principal));
        return;
      }
    }
    Written w = writes.create(principal, type, () -> parseBody(ex), ifNoneExist, new ExchangeFacts(ex));
    if (w.created()) {
      respondWritten(ex, principal, w);
    } else {
      respondExisting(ex, principal, w.stored());
    }
  }

  /** The answer to a conditional create that found {@code s}: 200, its Location, nothing written. */
  private void respondExisting(Exchange ex, Principal principal, StoredResource s) throws IOException {
    ex.response().setHeader("Location", ex.fhirBase() + "/" + s.type() + "/" + s.id() + "/_history/" + s.versionId());
    ResourceOutput.versionHeaders(ex, s);
    switch (ex.applyReturnPreference()) {
      case "minimal" -> ex.response().setStatus(200);
      case "operationoutcome" -> output.writeRaw(ex, 200, ErrorMapper.info(s.type() + "/" + s.id()
          + " matches If-None-Exist; nothing was created"));
      default -> output.writeStored(ex, principal, s, resources::toResource);
    }
  }

  /** The preconditions of a write of {@code type/id}, read when the service asks ({@link IfMatchField}). */
  private Supplier<WritePreconditions> preconditions(Exchange ex, Principal principal, String type, String id) {
    return () -> ex.writePreconditions(() -> IfMatchField.current(resources, binaries, principal, type, id));
  }

  private void update(Exchange ex, Principal principal, String type, String id) throws IOException {
    if (type.equals("Binary") && binaries.isContent(ex, principal, Interaction.UPDATE, maxJsonBytes)) {
      respondWritten(ex, principal, binaries.updateRaw(ex, principal, id, preconditions(ex, principal, type, id)));
      return;
    }
    respondWritten(ex, principal, writes.update(principal, type, id, () -> parseBody(ex),
        preconditions(ex, principal, type, id), new ExchangeFacts(ex)));
  }

  /**
   * {@code PUT /{type}?criteria}: a conditional update (FHIR R4 http.html#cond-update), as the Medplum
   * client's {@code upsertResource} sends it. One match is updated (200), none creates (201), more
   * than one is 412.
   */
  private void conditionalUpdate(Exchange ex, Principal principal, String type) throws IOException {
    Map<String, List<String>> criteria = conditionOf(ex, "PUT", type);
    if (type.equals("Binary") && binaries.isRawBody(ex)) {
      throw FhirException.badRequest("a conditional update of a Binary takes the Binary as FHIR JSON or XML; "
          + "raw content goes to PUT /Binary/{id}");
    }
    respondWritten(ex, principal, writes.updateConditional(principal, type, criteria, shownCondition(ex),
        () -> parseBody(ex), ex::writePreconditions, new ExchangeFacts(ex)));
  }

  /**
   * {@code DELETE /{type}?criteria}: a conditional delete (FHIR R4 http.html#delete). The one match
   * is deleted; none is 200 with nothing deleted, as for a delete by id; more than one is 412.
   */
  private void conditionalDelete(Exchange ex, Principal principal, String type) throws IOException {
    Map<String, List<String>> criteria = conditionOf(ex, "DELETE", type);
    Optional<StoredResource> gone = writes.deleteConditional(principal, type, criteria, shownCondition(ex),
        ex::writePreconditions, new ExchangeFacts(ex));
    if (gone.isEmpty()) {
      output.writeRaw(ex, 200, ErrorMapper.info("no " + type + " matches the condition; nothing was deleted"));
      return;
    }
    ResourceOutput.versionHeaders(ex, gone.get());
    output.writeRaw(ex, 200, ErrorMapper.info("deleted " + type + "/" + gone.get().id()));
  }

  /**
   * The search criteria of a conditional update, delete or patch: the URL's query, which must name some.
   * None is 400 (FHIR R4 http.html#cdelete, #cond-update: the criteria select what is written), not
   * 405: the method is allowed on the type, with criteria.
   */
  private static Map<String, List<String>> conditionOf(Exchange ex, String method, String type) {
    Map<String, List<String>> criteria = ex.params();
    if (criteria.isEmpty()) {
      String kind = switch (method) {
        case "PUT" -> "update";
        case "PATCH" -> "patch";
        default -> "delete";
      };
      throw FhirException.badRequest(method + " /" + type + " needs an id (" + method + " /" + type
          + "/{id}) or search criteria (a conditional " + kind + ")");
    }
    return criteria;
  }

  private static String shownCondition(Exchange ex) {
    return ex.request().getQueryString();
  }

  /**
   * {@code PATCH /{type}/{id}} with a JSON Patch ({@code application/json-patch+json}, FHIR R4
   * http.html#patch), as the Medplum client's {@code patchResource} sends it, or a FHIRPath Patch
   * (a Parameters resource as FHIR JSON or XML, R4 fhirpatch.html). XML Patch is not supported: 415.
   */
  private void patch(Exchange ex, Principal principal, String type, String id) throws IOException {
    respondWritten(ex, principal, resources.patch(principal, type, id, patchBody(ex), maxJsonBytes,
        preconditions(ex, principal, type, id)));
  }

  /**
   * {@code PATCH /{type}?criteria}: a conditional patch (FHIR R4 http.html#patch, "conditional
   * patch"): the one match is patched (200); none is 404, more than one 412.
   */
  private void conditionalPatch(Exchange ex, Principal principal, String type) throws IOException {
    Map<String, List<String>> criteria = conditionOf(ex, "PATCH", type);
    respondWritten(ex, principal, resources.patchConditional(principal, type, criteria, shownCondition(ex),
        patchBody(ex), ex::writePreconditions));
  }

  /** The patch the body holds, by its Content-Type, read when the service asks for it; 415 for another format. */
  private ResourceService.Deferred<Patch> patchBody(Exchange ex) {
    String ct = ex.contentType() == null ? "" : ex.contentType().toLowerCase(Locale.ROOT);
    if (ct.startsWith("application/json-patch+json")) {
      return () -> new Patch.Json(ex.body(maxJsonBytes));
    }
    if (FhirFormat.of(ct).isPresent()) {
      return () -> Patch.fhirPath(parseBody(ex));
    }
    throw FhirException.unsupportedMediaType("PATCH takes a JSON Patch (Content-Type: application/json-patch+json)"
        + " or a FHIRPath Patch (a Parameters resource as application/fhir+json or application/fhir+xml);"
        + " XML Patch is not supported, got '" + QueryLimits.shorten(ct) + "'");
  }

  Resource parseBody(Exchange ex) throws IOException {
    return parseBody(ex, false);
  }

  /** @param bundle a Bundle to process, whose entries that fail to parse are named ({@link FhirCodec#parseBundle}) */
  private Resource parseBody(Exchange ex, boolean bundle) throws IOException {
    FhirFormat format = ex.bodyFormat().orElseThrow(() -> FhirException.unsupportedMediaType(
        "Content-Type must be application/fhir+json or application/fhir+xml, got '"
            + (ex.contentType() == null ? "" : ex.contentType()) + "'"));
    String body = ex.body(maxJsonBytes);
    return bundle ? resources.codec().parseBundle(body, format) : resources.codec().parse(body, format);
  }

  void respondWritten(Exchange ex, Principal principal, Written w) throws IOException {
    Resource r = w.resource();
    StoredResource s = w.stored();
    String location = ex.fhirBase() + "/" + s.type() + "/" + s.id() + "/_history/" + s.versionId();
    ex.response().setHeader("Location", location);
    if (w.created()) {
      ex.response().setHeader("Content-Location", location);
    }
    ResourceOutput.versionHeaders(ex, r);
    int status = w.created() ? 201 : 200;
    switch (ex.applyReturnPreference()) {
      case "minimal" -> ex.response().setStatus(status);
      case "operationoutcome" -> output.writeRaw(ex, status, ErrorMapper.info(
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
    respondWritten(ex, principal, importer.importNow(principal, () -> importArguments(ex), new ExchangeFacts(ex)));
  }

  private Map<String, String> importArguments(Exchange ex) throws IOException {
    Map<String, String> args = new HashMap<>();
    for (String name : List.of("url", "contentType", "securityContext")) {
      ex.param(name).ifPresent(v -> args.put(name, v));
    }
    args.putAll(operationArguments(ex, UnknownOperations.IMPORT));
    return args;
  }

  /**
   * {@link OperationArguments#of} of the request's FHIR body; empty without one (no Content-Type).
   * A body of another type (fetch's text/plain, a form) is 415, not read as no parameters at all.
   */
  private Map<String, String> operationArguments(Exchange ex, String operation) throws IOException {
    return OperationArguments.of(ex.contentType() == null ? null : parseBody(ex), operation);
  }

  private void read(Exchange ex, Principal principal, String type, String id, Long version) throws IOException {
    StoredResource s = readConfirming(ex, principal, type, id, version);
    if (type.equals("Binary") && !ex.wantsFhirFormat() && FhirFormat.acceptsOnlyUnspokenVersions(ex.header("Accept"))) {
      ex.format(); // 406: neither the R4 resource nor the raw content is what this client takes
    }
    if (type.equals("Binary") && !ex.wantsFhirFormat()) {
      // FHIR R4 binary.html#rest: a non-FHIR Accept gets the raw content; a subset that every read refuses is 400
      ResourceSubset.ofRead(ex);
      binaries.writeRaw(ex, principal, s, version != null);
    } else if (type.equals("Binary")) {
      binaries.writeResource(ex, principal, s, content -> writeStored(ex, principal, s));
    } else {
      writeStored(ex, principal, s);
    }
  }

  /** A Binary reserved by an upload straight to S3 that nobody confirmed is confirmed by its first read. */
  private StoredResource readConfirming(Exchange ex, Principal principal, String type, String id, Long version) {
    try {
      return resources.read(principal, type, id, version);
    } catch (FhirException e) {
      if (!type.equals("Binary") || e.status() != 404 || !binaries.confirmPendingUpload(ex, principal, id)) {
        throw e;
      }
      return resources.read(principal, type, id, version);
    }
  }

  /** Writes a read's resource; true when it is Binary JSON carrying a signed {@code url} (never for HEAD or a 304). */
  private boolean writeStored(Exchange ex, Principal principal, StoredResource s) throws IOException {
    // what GET refuses, HEAD refuses with the same status (RFC 9110 §9.3.2), and a request refused
    // without its conditions is refused with them (RFC 9110 §13.2.1)
    ResourceSubset.ofRead(ex);
    ex.format();
    // If-Match and If-Unmodified-Since first (412), then If-None-Match and If-Modified-Since (304)
    if (ConditionalRead.notModified(ConditionalRead.of(ex), s, output, resources::toResource)) {
      ResourceOutput.versionHeaders(ex, s);
      ex.response().setStatus(304);
      ex.response().flushBuffer(); // no Content-Length: the container's 0 is forbidden (RFC 9110 §8.6)
      return false;
    }
    // HEAD is answered with GET's headers, Content-Length included (RFC 9110 §8.6 forbids any other
    // value), so it encodes the body GET would send; the container sends none of it. It hands out
    // no signed URL, so it is never audited as one.
    boolean signedUrl = output.writeStored(ex, principal, s, resources::toResource);
    return signedUrl && !ex.method().equals("HEAD");
  }

  /**
   * {@code DELETE /{type}/{id}}: 200 with an OperationOutcome, also when the resource never existed
   * (FHIR R4 http.html#delete: a server "SHOULD" answer a delete of a resource that does not exist
   * with 200 or 204, as HAPI FHIR does with 200), so that a retried delete is not an error.
   */
  private void delete(Exchange ex, Principal principal, String type, String id) throws IOException {
    Optional<StoredResource> gone = writes.delete(principal, type, id, preconditions(ex, principal, type, id),
        new ExchangeFacts(ex));
    if (gone.isEmpty()) {
      output.writeRaw(ex, 200, ErrorMapper.info(type + "/" + id + " does not exist; nothing was deleted"));
      return;
    }
    ResourceOutput.versionHeaders(ex, gone.get()); // the deletion's version and time
    output.writeRaw(ex, 200, ErrorMapper.info("deleted " + type + "/" + id));
  }

  private void search(Exchange ex, Principal principal, String type) throws IOException {
    ResourceService.SearchPage page = resources.search(principal, type, () -> searchParams(ex),
        ex.prefersStrictHandling());
    output.writeSubset(ex, principal, 200, pages.searchset(ex, type, page), type);
  }

  /**
   * The query's parameters, and those of a POST {@code _search} form body (FHIR R4 http.html#search:
   * the URL's parameters and the body's together are the search). A name in both keeps every value,
   * URL's first, as a GET repeating the parameter would: repeats AND together. An empty body, or
   * none, adds no parameters; the form's media type is matched in any case (RFC 9110 §8.3.1). The
   * answer reads them too ({@link Exchange#useParams}). A body
   * of another type is 415: R4 takes search parameters in a body only as a form, and ignoring it
   * would search wider than the client asked.
   */
  private Map<String, List<String>> searchParams(Exchange ex) throws IOException {
    Map<String, List<String>> params = ex.params();
    if (!ex.method().equals("POST")) {
      return asked(ex, params);
    }
    if (!FormBody.isForm(ex)) {
      long declared = ex.request().getContentLengthLong();
      if (declared > 0 || (declared < 0 && !ex.bodyOrEmpty(maxJsonBytes).isEmpty())) {
        throw FhirException.unsupportedMediaType("POST _search takes its parameters as a form (Content-Type: "
            + "application/x-www-form-urlencoded), got '" + (ex.contentType() == null ? "" : ex.contentType()) + "'");
      }
      return asked(ex, params);
    }
    Map<String, List<String>> both = new LinkedHashMap<>();
    params.forEach((k, vs) -> both.put(k, new ArrayList<>(vs)));
    QueryString.parse(ex.bodyOrEmpty(maxJsonBytes))
        .forEach((k, vs) -> both.computeIfAbsent(k, x -> new ArrayList<>()).addAll(vs));
    return asked(ex, both);
  }

  /**
   * A search's parameters without the empty ones, which it ignores (R4 search.html#errors), and
   * so does its answer: an empty {@code _format}, {@code _summary} or {@code _elements} shapes
   * neither the Bundle nor its links.
   */
  private static Map<String, List<String>> asked(Exchange ex, Map<String, List<String>> params) {
    Map<String, List<String>> asked = SearchParser.withoutEmptyValues(params);
    ex.useParams(asked);
    return asked;
  }

  /**
   * {@code GET [...]/_history} with {@code _count}, {@code _offset} and {@code _since} (FHIR R4
   * http.html#history). {@code _at} (the versions current at some point within a period) would
   * need each version's successor in the stores' history queries, which they do not have; it is
   * refused with 400 naming it rather than ignored, which would answer a different question, and
   * so is {@code _summary=count}, as a history has no total to give.
   */
  private void history(Exchange ex, Principal principal, String type, String id) throws IOException {
    ResourceService.HistoryPage page = resources.history(principal, type, id, () -> historyWindow(ex::param));
    output.writeSubset(ex, principal, 200, pages.history(ex, type, id, ex.param("_since").orElse(null), page), null);
  }

  /**
   * The page a history request asks for, from its parameters: {@code param} gives a name's first
   * value that is not empty.
   */
  static HistoryWindow historyWindow(Function<String, Optional<String>> param) {
    if (param.apply("_at").isPresent()) {
      throw FhirException.badRequest("_at is not supported on _history; use _since");
    }
    if (param.apply("_summary").filter(v -> v.trim().equalsIgnoreCase("count")).isPresent()) {
      // it counts a search's matches (R4 search.html#summary); ignored, every version would be listed
      throw FhirException.badRequest("_summary=count is not supported on _history, which keeps no count of"
          + " versions; page through it with _count");
    }
    int count = param.apply("_count").map(SearchParser::pageSize).orElse(50);
    int offset = param.apply("_offset").map(v -> parseCount(v)).orElse(0);
    PagePosition after = param.apply("_after").map(SearchParser::after).orElse(null);
    SearchParser.checkOffset(offset, after != null);
    Instant since = param.apply("_since").map(v -> DateText.instant("_since", v)).orElse(null);
    return new HistoryWindow(since, count, offset, after);
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

  private void bundle(Exchange ex, Principal principal) throws IOException {
    Resource body = parseBody(ex, true);
    if (!(body instanceof Bundle b)) {
      throw FhirException.badRequest("POST to the base needs a Bundle, got " + body.fhirType());
    }
    Bundle response = writes.process(principal, b, ex.fhirBase(), new EntryReads(resources, pages, output, principal,
        ex, () -> capabilities.build(ex.fhirBase())),
        new ExchangeFacts(ex));
    BundleReturns.apply(ex, b, response);
    output.write(ex, principal, 200, response);
  }
}
