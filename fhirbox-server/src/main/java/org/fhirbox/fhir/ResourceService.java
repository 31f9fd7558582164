package org.fhirbox.fhir;

import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.HistoryQuery;
import org.fhirbox.db.Page;
import org.fhirbox.model.PagePosition;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchClause;
import org.fhirbox.db.SearchQuery;
import org.fhirbox.fhir.SearchParser.Total;
import org.fhirbox.model.StoredResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * The FHIR interactions on resources (FHIR R4 http.html), for any caller: each checks the
 * caller's scopes for the type and interaction first, confines it to the caller's project, and
 * runs in one transaction. Binary content and its {@code securityContext} are the Binary
 * services' part.
 *
 * <p>Where only a SMART {@code patient/} grant permits an interaction, it is confined to the
 * launch patient's compartment ({@link PatientCompartment}): a resource outside it is answered as
 * one that does not exist (404), as HAPI FHIR and Medplum do, so a token learns nothing of other
 * patients; a search gets the compartment as one more criterion, so {@code total}, paging and
 * {@code _count} count only what the caller may see; history lists only the versions that were in
 * the compartment. A type outside the compartment, or a token without a patient context, is 403.
 */
public final class ResourceService {
  /** The most Binary matches a search counts one by one for a caller who may not read them all. */
  static final int READABLE_COUNT_MAX = 1000;

  /**
   * Part of a request (its body, its search parameters), read only once the caller may do what it
   * asks: a refused request is refused before its body is read or its parameters are judged.
   */
  public interface Deferred<T> {
    T read() throws IOException;
  }

  /** The page a history request asks for; {@code since} (inclusive) may be null. */
  public record HistoryWindow(Instant since, int count, int offset, PagePosition after) {
    public HistoryWindow(Instant since, int count, int offset) {
      this(since, count, offset, null);
    }
  }

  /**
   * One page of a search: the matches, the resources {@code _include}/{@code _revinclude} add,
   * and what the self and paging links need.
   *
   * @param applied the parameters the search honoured, in order (for the self link)
   * @param listed false for {@code _summary=count} and {@code _count=0}: no page was read
   * @param countOnly {@code _summary=count}: no page was asked for
   * @param after where this page starts (the request's {@code _after}), or null
   * @param next where the next page starts, after the last match this page lists ({@link VisiblePage}), or null
   */
  public record SearchPage(Map<String, List<String>> applied, OptionalLong total, int count, int offset, boolean listed,
      boolean countOnly, List<StoredResource> matches, boolean hasMore, List<StoredResource> included,
      PagePosition after, PagePosition next) {}

  /**
   * One page of history, newest first; {@code count} is the page size used; {@code origins} how
   * each version came to be, by {@link VersionOrigin#key}.
   */
  public record HistoryPage(List<StoredResource> versions, boolean hasMore, int count, int offset,
      Map<String, VersionOrigin> origins, PagePosition after, PagePosition next) {
    /** How {@code s}, one of {@link #versions}, came to be. */
    public VersionOrigin origin(StoredResource s) {
      return origins.getOrDefault(VersionOrigin.key(s.type(), s.id(), s.versionId()),
          s.deleted() ? VersionOrigin.DELETED : VersionOrigin.UPDATED);
    }
  }

  /**
   * Where a search or history reads: on its own ({@link #OWN}), or in the database transaction of
   * a transaction Bundle, after its writes, whose {@code GET}s see what it wrote (FHIR R4
   * http.html#trules). The transaction itself stays here, out of the HTTP layer's reach.
   */
  public static final class Reading {
    public static final Reading OWN = new Reading(null);
    private final ResourceStore.Tx tx;

    private Reading(ResourceStore.Tx tx) {
      this.tx = tx;
    }

    static Reading in(ResourceStore.Tx tx) {
      return new Reading(tx);
    }

    /** What runs a read's statements: a snapshot of {@code store} of their own, or this transaction. */
    <T> Function<ResourceStore.Work<T>, T> runner(ResourceStore store) {
      return tx == null ? store::readSnapshot : work -> work.run(tx);
    }
  }

  private final ResourceStore store;
  private final ResourceRepository repository;
  private final BundleProcessor bundles;
  private final SearchParser searchParser;
  private final SearchChains chains;
  private final SearchIncludes includes;
  private final BinaryAccess binaryAccess;
  private final PatientCompartment compartment;
  private final int maxCount;
  private final CompartmentEveryType everyType;

  public ResourceService(ResourceStore store, ResourceRepository repository, BundleProcessor bundles,
      SearchParser searchParser, SearchChains chains, SearchIncludes includes, BinaryAccess binaryAccess,
      PatientCompartment compartment, int maxCount) {
    this.store = store;
    this.repository = repository;
    this.bundles = bundles;
    this.searchParser = searchParser;
    this.chains = chains;
    this.includes = includes;
    this.binaryAccess = binaryAccess;
    this.compartment = compartment;
    this.maxCount = maxCount;
    this.everyType = new CompartmentEveryType(store, searchParser, compartment, repository.codec());
  }

  public FhirCodec codec() {
    return repository.codec();
  }

  /**
   * The resource type named in a URL, or 404 when the server has no such type: the URL names no
   * resource endpoint, as HAPI FHIR answers too, and so is a Bundle entry's URL naming one
   * ({@link EntrySearch#unknownType}). (A body naming an unknown type is a malformed request
   * instead, 400: {@link ResourceRepository#requireType}.)
   */
  public String requireType(String type) {
    if (!repository.isType(type)) {
      String shown = type.length() > 80 ? type.substring(0, 80) + "..." : type;
      throw FhirException.notFound("unknown resource type '" + shown + "': FHIR R4 has no such resource type"
          + " (names are case-sensitive, as Patient)");
    }
    return type;
  }

  public Resource toResource(StoredResource stored) {
    return repository.toResource(stored);
  }

  /** The resource a stored version holds, or empty (logged) when it cannot be read back. */
  public Optional<Resource> readable(StoredResource stored) {
    return repository.readable(stored);
  }

  /** read, or vread when {@code version} is set. */
  public StoredResource read(Principal principal, String type, String id, Long version) {
    principal.require(type, Interaction.READ);
    Optional<String> patient = compartment.limit(principal, type, Interaction.READ);
    return store.read(tx -> {
      // judged before 404/410 is told apart, so a deletion outside the compartment is not known either
      if (type.equals("Binary")) {
        // also a deletion of a Binary whose securityContext the caller may not read
        binaryAccess.requireVisible(tx, principal, id, version);
      } else if (patient.isPresent()) {
        compartment.requireVisible(tx, principal.project(), patient.get(), type, id, version);
      }
      return version == null
          ? repository.read(tx, principal.project(), type, id)
          : repository.vread(tx, principal.project(), type, id, version);
    });
  }

  /**
   * Creates (FHIR R4 http.html#create); with {@code ifNoneExist} (the {@code If-None-Exist} header,
   * or null) a conditional create (http.html#ccreate, {@link ConditionalMatch}): when its search
   * finds one resource, that one, unchanged ({@link Written#created()} false).
   */
  public Written create(Principal principal, String type, Deferred<Resource> body, String ifNoneExist)
      throws IOException {
    principal.require(type, Interaction.CREATE);
    compartment.limit(principal, type, Interaction.CREATE); // refused before the body is read
    if (ifNoneExist != null) {
      principal.require(type, Interaction.SEARCH);
    }
    Resource resource = body.read();
    if (!resource.fhirType().equals(type)) {
      throw FhirException.badRequest("the body is a " + resource.fhirType() + " but the URL names " + type);
    }
    return bundles.createSingle(principal, resource, ifNoneExist);
  }

  /**
   * The one resource of {@code type} the condition of a conditional create matches, or empty when
   * none does (412 for more): for a create whose body is read only when nothing matches.
   */
  public Optional<StoredResource> existing(Principal principal, String type, String ifNoneExist) {
    principal.require(type, Interaction.CREATE);
    compartment.limit(principal, type, Interaction.CREATE);
    return bundles.existing(principal, type, ifNoneExist);
  }

  /**
   * @param preconditions what the caller expects of the current version ({@code If-Match} and the
   *     like), read after the access check
   */
  public Written update(Principal principal, String type, String id, Deferred<Resource> body,
      Supplier<WritePreconditions> preconditions) throws IOException {
    principal.require(type, Interaction.UPDATE);
    compartment.limit(principal, type, Interaction.UPDATE);
    WritePreconditions expected = preconditions.get();
    return bundles.updateSingle(principal, type, id, body.read(), expected);
  }

  /**
   * Conditional update ({@code PUT /Type?criteria}, FHIR R4 http.html#cond-update): see
   * {@link BundleProcessor#updateConditional}.
   *
   * @param shown the criteria as the client wrote them, for diagnostics
   */
  public Written updateConditional(Principal principal, String type, Map<String, List<String>> criteria,
      String shown, Deferred<Resource> body, Supplier<WritePreconditions> preconditions) throws IOException {
    principal.require(type, Interaction.UPDATE);
    principal.require(type, Interaction.SEARCH);
    compartment.limit(principal, type, Interaction.UPDATE);
    WritePreconditions expected = preconditions.get();
    Resource resource = body.read();
    if (!resource.fhirType().equals(type)) {
      throw FhirException.badRequest("the body is a " + resource.fhirType() + " but the URL names " + type);
    }
    return bundles.updateConditional(principal, type, criteria, shown, resource, expected);
  }

  /**
   * Conditional delete ({@code DELETE /Type?criteria}): the deleted version of the one match, or
   * empty when nothing matches; 412 for more than one.
   */
  public Optional<StoredResource> deleteConditional(Principal principal, String type,
      Map<String, List<String>> criteria, String shown, Supplier<WritePreconditions> preconditions) {
    principal.require(type, Interaction.DELETE);
    principal.require(type, Interaction.SEARCH);
    return bundles.deleteConditional(principal, type, criteria, shown, preconditions.get());
  }

  /**
   * Patch (FHIR R4 http.html#patch) with a JSON Patch or a FHIRPath Patch ({@link Patch}): read,
   * patch and an update of the version read. The caller needs read and update access. When another write comes
   * in between, the patch is applied again to the newer version (at most 3 times), unless the
   * client named the version it patches ({@code If-Match}): then that write is 412. The other
   * preconditions are checked against the version read; the update that follows writes only over
   * that same version, so they hold when it commits. The patched
   * resource may not exceed {@code maxBytes} of JSON (413).
   */
  public Written patch(Principal principal, String type, String id, Deferred<Patch> body, long maxBytes,
      Supplier<WritePreconditions> preconditions) throws IOException {
    principal.require(type, Interaction.UPDATE);
    compartment.limit(principal, type, Interaction.UPDATE);
    if (type.equals("Binary")) {
      throw FhirException.badRequest("a Binary is not patched; send its new content with PUT /Binary/" + id);
    }
    WritePreconditions given = preconditions.get();
    Long expected = given.ifMatch();
    Patch patch = body.read();
    for (int attempt = 1; ; attempt++) {
      StoredResource current = read(principal, type, id, null);
      if (expected != null && expected != ResourceRepository.IF_MATCH_ANY && current.versionId() != expected) {
        throw FhirException.preconditionFailed("If-Match W/\"" + expected + "\" does not match the current version W/\""
            + current.versionId() + "\"");
      }
      given.requireAfterIfMatch(Optional.of(current), type, id);
      Resource patched = patch.applyTo(repository.codec(), repository.toResource(current), maxBytes);
      try {
        return bundles.patchSingle(principal, type, id, patched, WritePreconditions.ifMatch(current.versionId()));
      } catch (FhirException e) {
        if (e.status() != 412 || expected != null || attempt == 3) {
          throw e;
        }
      }
    }
  }

  /**
   * Conditional patch ({@code PATCH /Type?criteria}, FHIR R4 http.html#patch): the one match of the
   * search, made as the caller, patched as {@link #patch} does, in one transaction that locks its
   * row from the read to the write; none is 404, more than one 412. Needs search, read and update
   * access.
   *
   * @param shown the criteria as the client wrote them, for diagnostics
   */
  public Written patchConditional(Principal principal, String type, Map<String, List<String>> criteria,
      String shown, Deferred<Patch> body, Supplier<WritePreconditions> preconditions) throws IOException {
    principal.require(type, Interaction.UPDATE);
    principal.require(type, Interaction.SEARCH);
    compartment.limit(principal, type, Interaction.UPDATE);
    if (type.equals("Binary")) {
      throw FhirException.badRequest("a Binary is not patched; send its new content with PUT /Binary/{id}");
    }
    WritePreconditions given = preconditions.get();
    return bundles.patchConditional(principal, type, criteria, shown, body.read(), given);
  }

  /** The deleted version, or empty when the resource never existed (FHIR R4 http.html#delete). */
  public Optional<StoredResource> delete(Principal principal, String type, String id,
      Supplier<WritePreconditions> preconditions) {
    principal.require(type, Interaction.DELETE);
    WritePreconditions expected = preconditions.get();
    return store.inTransaction(tx -> bundles.delete(tx, principal, type, id, expected));
  }

  /**
   * A batch or transaction Bundle (FHIR R4 http.html#transaction); each entry is checked on its own.
   * An entry that searches is answered by {@code searches} ({@link EntrySearch}).
   */
  public Bundle process(Principal principal, Bundle bundle, String fhirBase, EntrySearch.Runner searches) {
    return bundles.process(principal, bundle, fhirBase, searches);
  }

  /**
   * A type-level search. The count, the page and the included resources are read in one
   * snapshot ({@link ResourceStore#readSnapshot}), so the total agrees with the page while
   * others write.
   *
   * @param strict {@code Prefer: handling=strict}: an unknown parameter is an error
   */
  public SearchPage search(Principal principal, String type, Deferred<Map<String, List<String>>> params,
      boolean strict) throws IOException {
    return search(principal, type, null, null, params, strict);
  }

  /**
   * A search of {@code type} in the compartment {@code compartmentType/compartmentId} (FHIR R4
   * http.html#search, {@code GET Encounter/{id}/Observation}), or a type-level search when
   * {@code compartmentType} is null: the compartment is one more criterion, as the R4
   * CompartmentDefinition of {@code compartmentType} places resources of the type in it
   * ({@link CompartmentDefinitions}); 400 for a type outside the compartment. The caller's access
   * is that of a search of {@code type}: its scopes, and its patient's compartment where
   * {@code patient/} scopes limit it.
   */
  public SearchPage search(Principal principal, String type, String compartmentType, String compartmentId,
      Deferred<Map<String, List<String>>> params, boolean strict) throws IOException {
    return search(principal, type, compartmentType, compartmentId, params, strict, store::readSnapshot);
  }

  /**
   * A type-level search read as {@code reading} says: in its own snapshot ({@link Reading#OWN},
   * as {@link #search(Principal, String, Deferred, boolean)}), or in a transaction that wrote, with
   * the same checks and page. There its statements read at the transaction's isolation (READ
   * COMMITTED), not in one snapshot: a total counted apart from the page may miss what another
   * transaction commits in between.
   */
  public SearchPage search(Reading reading, Principal principal, String type,
      Deferred<Map<String, List<String>>> params, boolean strict) throws IOException {
    return search(principal, type, null, null, params, strict,
        reading.runner(store));
  }

  /** @param run runs the search's statements: in a snapshot of their own, or in a caller's transaction */
  private SearchPage search(Principal principal, String type, String compartmentType, String compartmentId,
      Deferred<Map<String, List<String>>> params, boolean strict,
      Function<ResourceStore.Work<SearchPage>, SearchPage> run) throws IOException {
    principal.require(type, Interaction.SEARCH);
    compartment.requireSearchable(principal, type);
    SearchClause within = compartmentType == null ? null
        : compartment.definitions().criterion(compartmentType, compartmentId, type);
    SearchParser.Parsed parsed = searchParser.parse(principal.project(), type, params.read(), strict,
        t -> principal.access().allows(t, Interaction.SEARCH)
            && compartment.mayReach(principal, t, Interaction.SEARCH));
    return run.apply(tx -> {
      SearchQuery query = compartment.confine(principal, chains.resolve(tx, inCompartment(parsed.query(), within),
          t -> compartment.criteria(principal, t, Interaction.SEARCH)));
      boolean withheld = type.equals("Binary") && binaryAccess.mayWithhold(principal);
      if (parsed.summaryCount() || query.count() <= 0) {
        OptionalLong total = parsed.total() == Total.NONE ? OptionalLong.empty()
            : withheld ? readableCount(tx, principal, query) : OptionalLong.of(tx.count(query));
        return new SearchPage(parsed.applied(), total, query.count(), query.offset(), false, parsed.summaryCount(),
            List.of(), false, List.of(), query.after(), null);
      }
      // Binaries whose securityContext the caller may not read are left out of the page, as on read;
      // also for a caller that reads every type, which one under an AuditEvent, a deleted resource or
      // a Binary it may not read still refuses (only its total is the database's count).
      Page page = type.equals("Binary") ? VisiblePage.read(query.count(), query.offset(), query.after(), maxCount,
          (n, offset, after) -> tx.search(query.page(n, offset, after)),
          row -> binaryAccess.canReadVersion(tx, principal, row)) : tx.search(query);
      OptionalLong total = withheld ? readableTotal(tx, principal, query, page, parsed.total())
          : total(tx, query, page, parsed.total());
      List<StoredResource> matches = page.items();
      return new SearchPage(parsed.applied(), total, query.count(), query.offset(), true, false, matches,
          page.hasMore(), includes.resolve(tx, principal, parsed.includes(), matches), query.after(),
          page.next());
    });
  }

  /**
   * {@code GET [compartmentType]/[compartmentId]/*}: every type in the compartment that the caller
   * may search, with the parameters every type has ({@link CompartmentEveryType}).
   */
  public SearchPage searchEveryType(Principal principal, String compartmentType, String compartmentId,
      Deferred<Map<String, List<String>>> params) throws IOException {
    return everyType.search(principal, compartmentType, compartmentId, params);
  }

  private static SearchQuery inCompartment(SearchQuery q, SearchClause within) {
    return within == null ? q : q.and(List.of(within));
  }

  /**
   * {@code Bundle.total} as {@link Total} asks; a last page that is not empty tells it without
   * counting, where the database skipped the offset. Beside {@code _after} the offset is only what
   * the link says came before (a client may change it, a delete between pages makes it wrong): it
   * still gives the unasked total of such a last page, which costs nothing, but a total asked for
   * ({@code estimate}, {@code accurate}) is counted.
   */
  private static OptionalLong total(ResourceStore.Tx tx, SearchQuery query, Page page, Total mode) {
    boolean lastPage = !page.hasMore() && (!page.items().isEmpty() || query.offset() == 0);
    boolean lastPageShowsIt = lastPage && query.after() == null;
    return switch (mode) {
      case NONE -> OptionalLong.empty();
      case ACCURATE -> lastPageShowsIt ? OptionalLong.of(query.offset() + page.items().size())
          : OptionalLong.of(tx.count(query));
      case DEFAULT -> lastPage ? OptionalLong.of(query.offset() + page.items().size()) : OptionalLong.empty();
      case ESTIMATE -> {
        if (lastPageShowsIt) {
          yield OptionalLong.of(query.offset() + page.items().size());
        }
        long upTo = tx.countUpTo(query, Total.ESTIMATE_CAP + 1);
        yield upTo <= Total.ESTIMATE_CAP ? OptionalLong.of(upTo) : OptionalLong.empty();
      }
    };
  }

  /**
   * {@code Bundle.total} of a Binary search whose results leave out Binaries the caller may not
   * read ({@link BinaryAccess#mayWithhold}): the Binaries it may read, as {@link #readableCount}
   * counts them, where {@code mode} asks for a total ({@link Total#DEFAULT}: on the last page).
   */
  private OptionalLong readableTotal(ResourceStore.Tx tx, Principal principal, SearchQuery query, Page page,
      Total mode) {
    boolean lastPage = !page.hasMore() && (!page.items().isEmpty() || query.offset() == 0);
    if (mode == Total.NONE || mode == Total.DEFAULT && !lastPage) {
      return OptionalLong.empty();
    }
    if (!page.hasMore() && query.offset() == 0 && query.after() == null) {
      // the one page read every match and kept those the caller may read
      return OptionalLong.of(page.items().size());
    }
    return readableCount(tx, principal, query);
  }

  /**
   * How many of the Binaries {@code query} matches the caller may read, judged one by one as a
   * page is ({@link BinaryAccess#readable}); empty (no {@code Bundle.total}, which R4 leaves
   * optional) when more than {@link #READABLE_COUNT_MAX} match, as a count of all of them would
   * tell how many exist that the caller may not read.
   */
  private OptionalLong readableCount(ResourceStore.Tx tx, Principal principal, SearchQuery query) {
    Page all = tx.search(new SearchQuery(query.project(), query.type(), query.clauses(), query.descending(),
        READABLE_COUNT_MAX, 0));
    if (all.hasMore()) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(binaryAccess.readable(tx, principal, all.items()).size());
  }

  /**
   * History at system ({@code type} null), type ({@code id} null) or instance level, newest first
   * (FHIR R4 http.html#history). System history needs read access to every type; AuditEvents
   * are left out for callers who may not read them.
   *
   * @param window its {@code count} is cut to the server's largest page
   */
  public HistoryPage history(Principal principal, String type, String id, Deferred<HistoryWindow> window)
      throws IOException {
    return history(principal, type, id, window, store::readSnapshot);
  }

  /**
   * {@link #history} read as {@code reading} says: on its own ({@link Reading#OWN}), or in a
   * transaction that wrote, listing the versions it wrote.
   */
  public HistoryPage history(Reading reading, Principal principal, String type, String id,
      Deferred<HistoryWindow> window) throws IOException {
    return history(principal, type, id, window, reading.runner(store));
  }

  private HistoryPage history(Principal principal, String type, String id, Deferred<HistoryWindow> window,
      Function<ResourceStore.Work<Page>, Page> run) throws IOException {
    HistoryQuery.Scope scope = null;
    Optional<String> patient = Optional.empty();
    if (type != null) {
      principal.require(type, Interaction.READ);
      patient = compartment.limit(principal, type, Interaction.READ);
      if (patient.isPresent() && id == null) {
        if (type.equals("Binary")) {
          throw FhirException.forbidden("Binary is outside the Patient compartment, to which the access token's"
              + " patient/ scopes limit reads; its type history is not available to them");
        }
        scope = new HistoryQuery.Scope(Set.of(), Map.of(type, List.of(compartment.criterion(type, patient.get()))));
      }
    } else if (!principal.access().allows("*", Interaction.READ)) {
      throw FhirException.insufficientScope("system history needs read access to all resource types");
    } else {
      SystemScope system = systemScope(principal);
      scope = system.scope();
      if (system.limited()) {
        patient = Optional.of(compartment.requirePatient(principal));
      }
    }
    HistoryWindow w = window.read();
    HistoryQuery q = new HistoryQuery(principal.project(), type, id, w.since(), Math.min(w.count(), maxCount),
        w.offset(), scope, w.after());
    Optional<String> limitedTo = patient;
    Map<String, VersionOrigin> origins = new HashMap<>();
    Page page = run.apply(tx -> {
      if (id != null) {
        // instance history of a resource outside the compartment is 404, as its read is
        limitedTo.ifPresent(p -> compartment.requireVisible(tx, principal.project(), p, type, id, null));
        // The history of one Binary asks what a read of it asks: access to its securityContext.
        binaryAccess.requireReadVersion(tx, principal, repository.readAny(tx, principal.project(), type, id));
      }
      Page visible = VisiblePage.read(q.count(), q.offset(), q.after(), maxCount,
          (n, offset, after) -> tx.history(q.page(n, offset, after)),
          // a resource that moved between patients keeps its earlier versions in the earlier compartment
          s -> binaryAccess.canReadVersion(tx, principal, s) && (limitedTo.isEmpty() || s.type().equals("Binary")
              || !compartment.limited(principal, s.type(), Interaction.READ)
              || compartment.contains(tx, s, limitedTo.get())));
      origins.putAll(VersionOrigin.of(tx, visible.items()));
      return visible;
    });
    return new HistoryPage(page.items(), page.hasMore(), q.count(), q.offset(), origins, q.after(), page.next());
  }

  /**
   * What system history lists for a caller who may not read every type without limit: every
   * version of the types it may read without limit, and of those its reads of are limited to a
   * patient the versions of resources in the compartment or deleted (each version then judged by
   * {@link PatientCompartment#contains}, a deletion by the version before it); Binary is in no
   * compartment and is left out. AuditEvents are for the project's admins only (Scopes.allows):
   * for anyone else the query leaves them out, rather than the page after it, which would read a
   * busy server's many only to drop them; the query names the few types it leaves out rather than
   * the many it lists. Its scope is null when every type is listed.
   */
  private SystemScope systemScope(Principal principal) {
    Set<String> except = new TreeSet<>();
    Map<String, List<SearchClause>> limited = new TreeMap<>();
    boolean anyLimited = false;
    boolean audit = principal.access().allows("AuditEvent", Interaction.READ);
    for (String t : repository.codec().context().getResourceTypes()) {
      boolean limitedType = compartment.limited(principal, t, Interaction.READ);
      anyLimited |= limitedType;
      if (t.equals("AuditEvent") && !audit) {
        except.add(t);
      } else if (limitedType && compartment.isMember(t) && principal.patient().isPresent()) {
        limited.put(t, List.of(compartment.criterion(t, principal.patient().get())));
      } else if (limitedType) {
        except.add(t);
      }
    }
    return new SystemScope(except.isEmpty() && limited.isEmpty() ? null : HistoryQuery.Scope.allBut(except, limited),
        anyLimited);
  }

  /** {@link #systemScope}'s answer: the scope, and whether reads of any type are limited to a patient. */
  private record SystemScope(HistoryQuery.Scope scope, boolean limited) {}

}
