package org.fhirbox.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.fhirbox.fhir.AttachmentNormalizer;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.SearchChains;
import org.fhirbox.fhir.SearchIndexer;
import org.fhirbox.fhir.WritePreconditions;
import org.fhirbox.testing.TestClock;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.fhirbox.model.PagePosition;
import org.fhirbox.model.StoredResource;

/** What every {@link ResourceStore} backend must do. Subclasses supply a fresh, empty database. */
abstract class ResourceStoreContract extends BinaryContentStoreContract {

  private static StoredResource version(String project, String id, long v, long millis, String json) {
    return new StoredResource(project, "Patient", id, v, Instant.ofEpochMilli(millis), json == null, json);
  }

  /** Writes the next version the way the repository does: lock, read, insert previous + 1. */
  private long writeNext(String project, String id, long millis) {
    return writeNext(project, id, millis, false);
  }

  /** {@link #writeNext}, recorded as made by PATCH when {@code patched}. */
  private long writeNext(String project, String id, long millis, boolean patched) {
    return store.inTransaction(tx -> {
      long next = tx.current(project, "Patient", id, true).map(r -> r.versionId() + 1).orElse(1L);
      tx.insert(version(project, id, next, millis, "{\"v\":" + next + "}"), List.of(), patched);
      return next;
    });
  }

  @Test
  void insertedVersionsAreReadableAndTheNewestIsCurrent() {
    writeNext("p", "a", 1000);
    writeNext("p", "a", 2000);
    StoredResource current = store.read(tx -> tx.current("p", "Patient", "a", false)).orElseThrow();
    assertThat(current.versionId()).isEqualTo(2);
    assertThat(current.json()).isEqualTo("{\"v\":2}");
    assertThat(this.<Optional<StoredResource>>q(tx -> tx.version("p", "Patient", "a", 1)).orElseThrow().json()).isEqualTo("{\"v\":1}");
    assertThat(this.<Optional<StoredResource>>q(tx -> tx.version("p", "Patient", "a", 3))).isEmpty();
  }

  @Test
  void projectsDoNotSeeEachOther() {
    writeNext("p1", "a", 1000);
    assertThat(current("p2", "Patient", "a", false)).isEmpty();
    SearchQuery q = new SearchQuery("p2", "Patient", List.of(), true, 10, 0);
    assertThat(this.<Page>q(tx -> tx.search(q)).items()).isEmpty();
    assertThat(this.<Page>q(tx -> tx.history(new HistoryQuery("p2", null, null, null, 10, 0))).items()).isEmpty();
  }

  @Test
  void aLostRaceIsReportedAsConflictAndNothingIsWritten() {
    writeNext("p", "a", 1000);
    assertThatThrownBy(() -> store.inTransaction(tx -> {
      tx.insert(version("p", "a", 1, 2000, "{\"stale\":true}"), List.of());
      return null;
    })).isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.isConflict()).isTrue());
    assertThat(current("p", "Patient", "a", false).orElseThrow().json()).isEqualTo("{\"v\":1}");
  }

  @Test
  void failedTransactionLeavesNothing() {
    assertThatThrownBy(() -> store.inTransaction(tx -> {
      tx.insert(version("p", "x", 1, 1000, "{}"), List.of());
      throw new IllegalStateException("boom");
    })).hasMessage("boom");
    assertThat(current("p", "Patient", "x", false)).isEmpty();
  }

  @Test
  void aTransactionCutShortByAnErrorLeavesNothing() {
    // an OutOfMemoryError or StackOverflowError half way through a Bundle: the connection's
    // return to auto-commit must not commit what the work had written so far
    assertThatThrownBy(() -> store.inTransaction(tx -> {
      tx.insert(version("p", "err", 1, 1000, "{}"), List.of());
      throw new StackOverflowError("deep");
    })).isInstanceOf(StackOverflowError.class);
    assertThat(current("p", "Patient", "err", false)).isEmpty();
    writeNext("p", "err", 2000);
    assertThat(current("p", "Patient", "err", false).orElseThrow().versionId()).isEqualTo(1);
  }

  @Test
  void concurrentWritersEachGetTheirOwnVersion() throws Exception {
    writeNext("p", "c", 1000);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Long>> futures = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        long t = 2000 + i;
        futures.add(pool.submit(() -> writeNext("p", "c", t)));
      }
      List<Long> versions = new ArrayList<>();
      for (Future<Long> f : futures) {
        versions.add(f.get());
      }
      assertThat(versions).doesNotHaveDuplicates().hasSize(20).allMatch(v -> v >= 2 && v <= 21);
    } finally {
      pool.shutdownNow();
    }
    assertThat(current("p", "Patient", "c", false).orElseThrow().versionId()).isEqualTo(21);
    assertThat(this.<Page>q(tx -> tx.history(new HistoryQuery("p", "Patient", "c", null, 100, 0))).items())
        .hasSize(21);
  }

  /** Of a page's versions, those a PATCH made, found by their keys (more than one statement's worth). */
  @Test
  void thePatchedVersionsOfAPageAreThoseRecordedAsPatched() {
    List<StoredResource> page = new ArrayList<>();
    List<Long> patchedAt = new ArrayList<>();
    for (int i = 0; i < 130; i++) {
      String id = "r" + (i % 7);
      boolean patch = i % 3 == 0 && i >= 7; // a later version of its resource
      long v = writeNext("p", id, 1000L + i, patch);
      page.add(version("p", id, v, 1000L + i, "{\"v\":" + v + "}"));
      if (patch) {
        patchedAt.add(1000L + i);
      }
    }
    writeNext("q", "r1", 5000); // another project's version 1..: never patched in "p"'s page
    List<StoredResource> patched = this.<List<StoredResource>>q(tx -> tx.patched(page));
    assertThat(patched).extracting(r -> r.lastUpdated().toEpochMilli()).containsExactlyElementsOf(patchedAt);
    assertThat(this.<List<StoredResource>>q(tx -> tx.patched(List.of()))).isEmpty();
  }

  @Test
  void historyIsNewestFirstPagedAndFilteredBySince() {
    for (int i = 1; i <= 5; i++) {
      writeNext("p", "h", i * 1000L);
    }
    Page first = store.read(tx -> tx.history(new HistoryQuery("p", "Patient", "h", null, 2, 0)));
    assertThat(first.items()).extracting(StoredResource::versionId).containsExactly(5L, 4L);
    assertThat(first.hasMore()).isTrue();
    Page last = store.read(tx -> tx.history(new HistoryQuery("p", "Patient", "h", null, 2, 4)));
    assertThat(last.items()).extracting(StoredResource::versionId).containsExactly(1L);
    assertThat(last.hasMore()).isFalse();
    Page since = store.read(tx -> tx.history(new HistoryQuery("p", null, null, Instant.ofEpochMilli(4000), 10, 0)));
    assertThat(since.items()).extracting(StoredResource::versionId).containsExactly(5L, 4L);
  }

  @Test
  void aNewVersionIsNeverOlderThanThePreviousOneWhenTheWritersClockIsBehind() {
    // node A writes version 1 at 10 s; node B, its clock 5 s behind, then writes versions 2 and 3
    TestClock clock = new TestClock(Instant.ofEpochMilli(10_000));
    ResourceRepository repository = new ResourceRepository(new FhirCodec(TestServer.FHIR),
        new AttachmentNormalizer(TestServer.FHIR, url -> Optional.empty()), new SearchIndexer(TestServer.FHIR), clock);
    for (int i = 0; i < 2; i++) {
      boolean active = i == 0; // a change each time: an update that changes nothing makes no version
      store.inTransaction(tx -> repository.update(tx, "p", "Patient", "c", new Patient().setActive(active).setId("c"),
          WritePreconditions.NONE, null, null));
      clock.advance(Duration.ofMillis(i == 0 ? -5_000 : -1_000));
    }
    store.inTransaction(tx -> repository.delete(tx, "p", "Patient", "c", WritePreconditions.NONE));
    List<StoredResource> history = this.<Page>q(tx -> tx.history(new HistoryQuery("p", null, null,
        Instant.ofEpochMilli(10_001), 10, 0))).items();
    assertThat(history).extracting(r -> r.versionId() + "@" + r.lastUpdated().toEpochMilli())
        .containsExactly("3@10002", "2@10001");
  }

  @Test
  void oneResourcesHistoryIsInVersionOrderWhateverTheTimesOfItsVersions() {
    writeNext("p", "t", 3000);
    writeNext("p", "t", 1000); // written before versions were kept in time order
    writeNext("p", "t", 2000);
    assertThat(this.<Page>q(tx -> tx.history(new HistoryQuery("p", "Patient", "t", null, 10, 0))).items())
        .extracting(StoredResource::versionId).containsExactly(3L, 2L, 1L);
  }

  @Test
  void aSnapshotReadSeesNothingOthersCommitWhileItRuns() {
    writeNext("p", "s1", 1000);
    SearchQuery all = new SearchQuery("p", "Patient", List.of(), true, 10, 0);
    List<Object> seen = store.readSnapshot(tx -> {
      long counted = tx.count(all);
      writeNext("p", "s2", 2000); // another transaction, committed between the count and the page
      return List.of(counted, tx.search(all).items().size(), tx.count(all));
    });
    assertThat(seen).containsExactly(1L, 1, 1L);
  }

  @Test
  void aPageAfterAPositionStartsRightAfterItInSearchAndHistory() {
    for (String id : List.of("a", "b", "c")) {
      writeNext("p", id, 1000); // one millisecond: the id orders them
    }
    writeNext("p", "b", 2000);
    PagePosition b2 = new PagePosition(2000, "Patient", "b", 2);
    assertThat(this.<Page>q(tx -> tx.search(new SearchQuery("p", "Patient", List.of(), true, 10, 5, b2))).items())
        .extracting(StoredResource::id).containsExactly("c", "a");
    assertThat(this.<Page>q(tx -> tx.history(new HistoryQuery("p", "Patient", null, null, 10, 5, null,
        new PagePosition(1000, "Patient", "a", 1)))).items()).extracting(r -> r.id() + r.versionId())
        .containsExactly("b1", "c1");
    assertThat(this.<Page>q(tx -> tx.history(new HistoryQuery("p", "Patient", "b", null, 10, 5, null, b2))).items())
        .extracting(StoredResource::versionId).containsExactly(1L);
  }

  @Test
  void searchFiltersByIdLastUpdatedAndIndexedTokensAndCounts() {
    store.inTransaction(tx -> {
      tx.insert(version("p", "s1", 1, 1000, "{}"), List.of(SearchValue.token("identifier", "urn:mrn", "111")));
      tx.insert(version("p", "s2", 1, 2000, "{}"), List.of(SearchValue.token("identifier", "urn:mrn", "222")));
      tx.insert(version("p", "s3", 1, 3000, "{}"), List.of(SearchValue.token("identifier", "urn:other", "111")));
      return null;
    });
    assertThat(ids(List.of(new SearchClause.Ids(List.of("s1", "s3"))))).containsExactly("s3", "s1");
    assertThat(ids(List.of(new SearchClause.LastUpdated(1500L, 3000L)))).containsExactly("s3", "s2");
    assertThat(ids(List.of(new SearchClause.Token("identifier", List.of(new SearchClause.TokenValue(null, "111"))))))
        .containsExactly("s3", "s1");
    assertThat(ids(List.of(new SearchClause.Token("identifier",
        List.of(new SearchClause.TokenValue("urn:mrn", "111")))))).containsExactly("s1");
    SearchQuery all = new SearchQuery("p", "Patient", List.of(), false, 2, 0);
    Page page = store.read(tx -> tx.search(all));
    assertThat(page.items()).extracting(StoredResource::id).containsExactly("s1", "s2");
    assertThat(page.hasMore()).isTrue();
    assertThat(this.<Long>q(tx -> tx.count(all))).isEqualTo(3);
  }

  @Test
  void stringsMatchByNormalisedPrefixOrContainsOrExactlyAndWildcardsAreLiteral() {
    store.inTransaction(tx -> {
      tx.insert(version("p", "m", 1, 1000, "{}"), List.of(SearchValue.string("name", "Müller")));
      tx.insert(version("p", "u", 1, 2000, "{}"), List.of(SearchValue.string("name", "a_c 50%")));
      tx.insert(version("p", "v", 1, 3000, "{}"), List.of(SearchValue.string("name", "abc 500")));
      tx.insert(version("p", "z", 1, 4000, "{}"), List.of(SearchValue.string("family", "Zeta")));
      tx.insert(version("p", "l", 1, 5000, "{}"), List.of(SearchValue.string("name", "Long" + "ö".repeat(296))));
      return null;
    });
    // :exact compares the first 255 characters, of the search value as of the stored one
    assertThat(ids(List.of(text("name", SearchClause.TextMatch.EXACT, "Long" + "ö".repeat(296))))).containsExactly("l");
    assertThat(ids(List.of(text("name", SearchClause.TextMatch.EXACT, "long" + "ö".repeat(296))))).isEmpty();

    assertThat(ids(List.of(text("name", SearchClause.TextMatch.STARTS_WITH, "mul")))).containsExactly("m");
    assertThat(ids(List.of(text("name", SearchClause.TextMatch.STARTS_WITH, "ull")))).isEmpty();
    assertThat(ids(List.of(text("name", SearchClause.TextMatch.CONTAINS, "ull")))).containsExactly("m");
    assertThat(ids(List.of(text("name", SearchClause.TextMatch.EXACT, "Müller")))).containsExactly("m");
    assertThat(ids(List.of(text("name", SearchClause.TextMatch.EXACT, "müller")))).isEmpty();
    assertThat(ids(List.of(text("name", SearchClause.TextMatch.STARTS_WITH, "a_")))).containsExactly("u");
    assertThat(ids(List.of(text("name", SearchClause.TextMatch.CONTAINS, "50%")))).containsExactly("u");
    assertThat(ids(List.of(text("name", SearchClause.TextMatch.STARTS_WITH, "zz", "ab")))).containsExactly("v");
    assertThat(ids(List.of(new SearchClause.Text(List.of("name", "family"), List.of("mul", "zet"),
        SearchClause.TextMatch.STARTS_WITH)))).as("a value stored under any of the parameters").containsExactly("z", "m");
  }

  @Test
  void datesMatchWithinForEqualsAndByOverlapOtherwise() {
    store.inTransaction(tx -> {
      tx.insert(version("p", "day", 1, 1000, "{}"), List.of(SearchValue.date("birthdate", 1000, 1999)));
      tx.insert(version("p", "open", 1, 2000, "{}"), List.of(SearchValue.date("birthdate", 1500, Long.MAX_VALUE)));
      return null;
    });

    assertThat(ids(List.of(new SearchClause.DateRange("birthdate", 1000L, 1999L, true)))).containsExactly("day");
    assertThat(ids(List.of(new SearchClause.DateRange("birthdate", 1000L, 1999L, false)))).containsExactly("open", "day");
    assertThat(ids(List.of(new SearchClause.DateRange("birthdate", 2000L, null, false)))).containsExactly("open");
    assertThat(ids(List.of(new SearchClause.DateRange("birthdate", null, 1499L, false)))).containsExactly("day");
  }

  @Test
  void theIndexCanBeReplacedAndEveryCurrentResourceWalked() {
    writeNext("p", "a", 1000);
    writeNext("p", "b", 1000);
    writeNext("q", "a", 1000);
    store.inTransaction(tx -> {
      tx.insert(version("p", "gone", 1, 1000, null), List.of());
      return null;
    });
    StoredResource b = current("p", "Patient", "b", false).orElseThrow();

    store.inTransaction(tx -> {
      tx.replaceIndex(b, List.of(SearchValue.string("name", "Replaced")));
      tx.setSearchIndexVersion(7);
      return null;
    });

    assertThat(ids(List.of(text("name", SearchClause.TextMatch.STARTS_WITH, "repl")))).containsExactly("b");
    assertThat(this.<Integer>q(ResourceStore.Tx::searchIndexVersion)).isEqualTo(7);
    List<StoredResource> first = store.read(tx -> tx.currentAfter(null, 2));
    assertThat(first).extracting(r -> r.project() + "/" + r.id()).containsExactly("p/a", "p/b");
    assertThat(this.<List<StoredResource>>q(tx -> tx.currentAfter(first.get(1), 10)))
        .extracting(r -> r.project() + "/" + r.id()).containsExactly("q/a");
  }

  @Test
  void indexedValuesOfAParameterAreListedOncePerValue() {
    store.inTransaction(tx -> {
      tx.insert(version("p", "o1", 1, 1000, "{}"), List.of(SearchValue.token("general-practitioner", null,
          "Practitioner/a"), SearchValue.token("organization", null, "Organization/x")));
      tx.insert(version("p", "o2", 1, 2000, "{}"), List.of(SearchValue.token("general-practitioner", null,
          "Practitioner/a"), SearchValue.token("general-practitioner", null, "Practitioner/b")));
      tx.insert(version("q", "o1", 1, 1000, "{}"), List.of(SearchValue.token("general-practitioner", null,
          "Practitioner/other-project")));
      return null;
    });

    assertThat(this.<List<String>>q(tx -> tx.indexedValues("p", "Patient", List.of("o1", "o2"),
        "general-practitioner", null, 10))).containsExactlyInAnyOrder("Practitioner/a", "Practitioner/b");
    assertThat(this.<List<String>>q(tx -> tx.indexedValues("p", "Patient", List.of(), "organization", null, 10)))
        .isEmpty();
    // at most the limit, and only the given type's references when a prefix is given
    assertThat(this.<List<String>>q(tx -> tx.indexedValues("p", "Patient", List.of("o1", "o2"),
        "general-practitioner", null, 1))).hasSize(1);
    assertThat(this.<List<String>>q(tx -> tx.indexedValues("p", "Patient", List.of("o1"), "organization",
        "Practitioner/", 10))).isEmpty();
  }

  private static SearchClause text(String param, SearchClause.TextMatch match, String... values) {
    return new SearchClause.Text(List.of(param), List.of(values).stream()
        .map(v -> match == SearchClause.TextMatch.EXACT ? v : SearchValue.normalize(v)).toList(), match);
  }

  @Test
  void tokensLongerThanTheirColumnsAreStoredAndFound() {
    String system = "urn:" + "s".repeat(300);
    String code = "c".repeat(600);
    store.inTransaction(tx -> {
      tx.insert(version("p", "long", 1, 1000, "{}"), List.of(SearchValue.token("identifier", system, code)));
      return null;
    });
    assertThat(ids(List.of(new SearchClause.Token("identifier", List.of(new SearchClause.TokenValue(system, code))))))
        .containsExactly("long");
  }

  @Test
  void numbersMatchByIntervalAndUnit() {
    String ucum = "http://unitsofmeasure.org";
    store.inTransaction(tx -> {
      tx.insert(version("p", "mg", 1, 1000, "{}"), List.of(SearchValue.quantity("value", ucum, "mg", new BigDecimal("5.4"))));
      tx.insert(version("p", "g", 1, 2000, "{}"), List.of(SearchValue.quantity("value", ucum, "g", new BigDecimal("5.39"))));
      tx.insert(version("p", "big", 1, 3000, "{}"), List.of(SearchValue.quantity("value", ucum, "mg", new BigDecimal("100"))));
      tx.insert(version("p", "none", 1, 4000, "{}"), List.of(SearchValue.token("identifier", null, "5.4")));
      return null;
    });
    BigDecimal low = new BigDecimal("5.35");
    BigDecimal high = new BigDecimal("5.45");
    assertThat(ids(List.of(new SearchClause.NumberRange("value", low, true, high, false, false, null, null))))
        .containsExactly("g", "mg");
    assertThat(ids(List.of(new SearchClause.NumberRange("value", low, true, high, false, false, ucum, "mg"))))
        .containsExactly("mg");
    assertThat(ids(List.of(new SearchClause.NumberRange("value", low, true, high, false, true, null, null))))
        .as("outside the interval, and only resources with a value").containsExactly("big");
    assertThat(ids(List.of(new SearchClause.NumberRange("value", new BigDecimal("5.4"), false, null, false, false,
        null, null)))).containsExactly("big");
    assertThat(ids(List.of(new SearchClause.NumberRange("value", null, false, new BigDecimal("5.39"), true, false,
        null, null)))).containsExactly("g");
    assertThat(SearchValue.number("n", new BigDecimal("1e25")).number()).as("indexed whole").isEqualTo("1e25");

    // a zero of any scale (one a resource stored before the number limits may hold) is indexed as
    // 0: PostgreSQL's numeric holds no scale past 16383
    store.inTransaction(tx -> {
      tx.insert(version("p", "zero", 1, 5000, "{}"), List.of(SearchValue.quantity("value", ucum, "mg",
          new BigDecimal("0e-20000"))));
      return null;
    });
    assertThat(ids(List.of(new SearchClause.NumberRange("value", new BigDecimal("-0.5"), true, new BigDecimal("0.5"),
        false, false, null, null)))).containsExactly("zero");
  }

  @Test
  void chainsMatchThroughCurrentResourcesOfTheSameProjectOnly() {
    store.inTransaction(tx -> {
      tx.insert(typed("p", "Organization", "acme", false), List.of(SearchValue.string("name", "Acme")));
      tx.insert(typed("p", "Organization", "beta", false), List.of(SearchValue.string("name", "Beta")));
      tx.insert(typed("p", "Organization", "gone", true), List.of(SearchValue.string("name", "Acme")));
      tx.insert(typed("q", "Organization", "elsewhere", false), List.of(SearchValue.string("name", "Acme")));
      tx.insert(version("p", "pa", 1, 1000, "{}"), List.of(SearchValue.token("organization", null, "Organization/acme")));
      tx.insert(version("p", "pb", 1, 2000, "{}"), List.of(SearchValue.token("organization", null, "Organization/beta")));
      tx.insert(version("p", "pg", 1, 3000, "{}"), List.of(SearchValue.token("organization", null, "Organization/gone")));
      tx.insert(version("p", "pe", 1, 4000, "{}"),
          List.of(SearchValue.token("organization", null, "Organization/elsewhere")));
      tx.insert(typed("p", "Encounter", "e1", false), List.of(SearchValue.token("subject", null, "Patient/pa")));
      tx.insert(typed("p", "Encounter", "e2", false), List.of(SearchValue.token("subject", null, "Patient/pb")));
      return null;
    });
    SearchClause acme = new SearchClause.Chain("organization",
        Map.of("Organization", text("name", SearchClause.TextMatch.STARTS_WITH, "acme")));
    assertThat(chained("Patient", acme)).containsExactly("pa");
    assertThat(chained("Patient", new SearchClause.Chain("organization",
        Map.of("Organization", new SearchClause.Ids(List.of("beta", "gone")))))).containsExactly("pb");
    assertThat(chained("Patient", new SearchClause.Chain("organization",
        Map.of("Organization", text("name", SearchClause.TextMatch.STARTS_WITH, "zzz"))))).isEmpty();
    assertThat(chained("Encounter", new SearchClause.Chain("subject", Map.of("Patient", acme))))
        .as("two references").containsExactly("e1");
    SearchQuery broad = new SearchQuery("p", "Patient", List.of(new SearchClause.Chain("organization",
        Map.of("Organization", text("name", SearchClause.TextMatch.STARTS_WITH, "acme", "beta")))), true, 50, 0);
    assertThatThrownBy(() -> store.read(tx -> new SearchChains(1).resolve(tx, broad)))
        .hasMessageContaining("matches more than 1 Organization resources");
  }

  /** Ids of the resources of {@code type} matching {@code clause} once {@link SearchChains} has looked it up. */
  private List<String> chained(String type, SearchClause clause) {
    SearchQuery q = store.read(tx -> new SearchChains(100).resolve(tx,
        new SearchQuery("p", type, List.of(clause), true, 50, 0)));
    assertThat(q.clauses()).noneMatch(c -> c instanceof SearchClause.Chain || c instanceof SearchClause.Has);
    assertThat(this.<Long>q(tx -> tx.count(q))).isEqualTo(store.read(tx -> tx.ids(q)).size());
    return store.read(tx -> tx.search(q)).items().stream().map(StoredResource::id).toList();
  }

  @Test
  void hasMatchesResourcesNamedByCurrentMatchingSources() {
    store.inTransaction(tx -> {
      tx.insert(version("p", "pa", 1, 1000, "{}"), List.of());
      tx.insert(version("p", "pb", 1, 2000, "{}"), List.of());
      tx.insert(version("p", "pc", 1, 3000, "{}"), List.of());
      tx.insert(typed("p", "Observation", "o1", false), List.of(SearchValue.token("patient", null, "Patient/pa"),
          SearchValue.token("code", "urn:c", "hr")));
      tx.insert(typed("p", "Observation", "o2", false), List.of(SearchValue.token("patient", null, "Patient/pb"),
          SearchValue.token("code", "urn:c", "bp")));
      tx.insert(typed("p", "Observation", "o3", true), List.of(SearchValue.token("patient", null, "Patient/pc"),
          SearchValue.token("code", "urn:c", "hr")));
      tx.insert(typed("q", "Observation", "o4", false), List.of(SearchValue.token("patient", null, "Patient/pb"),
          SearchValue.token("code", "urn:c", "hr")));
      return null;
    });
    SearchClause hr = new SearchClause.Has("Observation", "patient",
        new SearchClause.Token("code", List.of(new SearchClause.TokenValue("urn:c", "hr"))));
    assertThat(chained("Patient", hr)).as("not through a deleted source, nor one of another project")
        .containsExactly("pa");
  }

  @Test
  void aCompartmentMatchesByAnyOfItsParametersAndItsOwnResource() {
    store.inTransaction(tx -> {
      tx.insert(version("p", "pa", 1, 1000, "{}"), List.of());
      tx.insert(version("p", "pb", 1, 1000, "{}"), List.of());
      tx.insert(version("p", "pl", 1, 1000, "{}"), List.of(SearchValue.token("link", null, "Patient/pa")));
      tx.insert(typed("p", "Observation", "bySubject", false), List.of(SearchValue.token("subject", null,
          "Patient/pa")));
      tx.insert(typed("p", "Observation", "byPerformer", false), List.of(SearchValue.token("performer", null,
          "Patient/pa")));
      tx.insert(typed("p", "Observation", "byFocus", false), List.of(SearchValue.token("focus", null, "Patient/pa")));
      tx.insert(typed("p", "Observation", "other", false), List.of(SearchValue.token("subject", null, "Patient/pb")));
      tx.insert(typed("q", "Observation", "elsewhere", false), List.of(SearchValue.token("subject", null,
          "Patient/pa")));
      return null;
    });
    SearchClause observations = new SearchClause.Compartment(List.of("performer", "subject"), "Patient/pa", null);
    SearchQuery q = new SearchQuery("p", "Observation", List.of(observations), true, 50, 0);
    assertThat(this.<List<String>>q(tx -> tx.ids(q))).containsExactlyInAnyOrder("bySubject", "byPerformer");
    assertThat(this.<Long>q(tx -> tx.count(q))).isEqualTo(2);
    assertThat(ids(List.of(new SearchClause.Compartment(List.of("link"), "Patient/pa", "pa"))))
        .containsExactlyInAnyOrder("pa", "pl");
  }

  @Test
  void historyInAScopeListsItsOpenTypesAndTheMatchesAndDeletionsOfItsLimitedOnes() {
    store.inTransaction(tx -> {
      tx.insert(typed("p", "Practitioner", "dr", false), List.of());
      tx.insert(typed("p", "Observation", "mine", false), List.of(SearchValue.token("subject", null, "Patient/pa")));
      tx.insert(typed("p", "Observation", "theirs", false), List.of(SearchValue.token("subject", null,
          "Patient/pb")));
      tx.insert(typed("p", "Observation", "gone", true), List.of());
      tx.insert(typed("p", "Organization", "org", false), List.of());
      tx.insert(typed("p", "Organization", "closed", true), List.of());
      tx.insert(typed("q", "Observation", "elsewhere", true), List.of());
      return null;
    });
    HistoryQuery.Scope scope = new HistoryQuery.Scope(Set.of("Practitioner"), Map.of("Observation",
        List.of(new SearchClause.Compartment(List.of("subject"), "Patient/pa", null))));
    // the index holds nothing of a deleted resource, so the caller judges its versions itself
    assertThat(this.<Page>q(tx -> tx.history(new HistoryQuery("p", null, null, null, 10, 0, scope))).items())
        .extracting(StoredResource::id).containsExactlyInAnyOrder("dr", "mine", "gone");
    assertThat(this.<Page>q(tx -> tx.history(new HistoryQuery("p", "Observation", null, null, 10, 0, scope)))
        .items()).extracting(StoredResource::id).containsExactlyInAnyOrder("mine", "gone");
  }

  @Test
  void namedByFindsTheCurrentResourcesOfTheGivenTypesWhoseIndexHoldsAValue() {
    store.inTransaction(tx -> {
      tx.insert(typed("p", "DocumentReference", "d1", false), List.of(SearchValue.token("_attached-binary", null,
          "Binary/b")));
      tx.insert(typed("p", "Media", "m1", false), List.of(SearchValue.token("_attached-binary", null, "Binary/b")));
      tx.insert(typed("p", "Media", "m2", false), List.of(SearchValue.token("_attached-binary", null, "Binary/c")));
      tx.insert(typed("p", "Basic", "x", false), List.of(SearchValue.token("_attached-binary", null, "Binary/b")));
      tx.insert(typed("q", "Media", "m3", false), List.of(SearchValue.token("_attached-binary", null, "Binary/b")));
      return null;
    });
    assertThat(this.<List<String>>q(tx -> tx.namedBy("p", List.of("DocumentReference", "Media"), "_attached-binary",
        "Binary/b"))).containsExactlyInAnyOrder("DocumentReference/d1", "Media/m1");
    assertThat(this.<List<String>>q(tx -> tx.namedBy("p", List.of(), "_attached-binary", "Binary/b"))).isEmpty();
  }

  private static StoredResource typed(String project, String type, String id, boolean deleted) {
    return new StoredResource(project, type, id, 1, Instant.ofEpochMilli(500), deleted, deleted ? null : "{}");
  }

  @Test
  void deletedResourcesLeaveSearchButKeepHistory() {
    writeNext("p", "d", 1000);
    store.inTransaction(tx -> {
      tx.insert(version("p", "d", 2, 2000, null), List.of());
      return null;
    });
    assertThat(ids(List.of())).isEmpty();
    assertThat(current("p", "Patient", "d", false).orElseThrow().deleted()).isTrue();
    assertThat(this.<Page>q(tx -> tx.history(new HistoryQuery("p", "Patient", "d", null, 10, 0))).items()).hasSize(2);
  }

  private Optional<StoredResource> current(String project, String type, String id, boolean lock) {
    return store.read(tx -> tx.current(project, type, id, lock));
  }

  private List<String> ids(List<SearchClause> clauses) {
    SearchQuery q = new SearchQuery("p", "Patient", clauses, true, 50, 0);
    return store.read(tx -> tx.search(q)).items().stream().map(StoredResource::id).toList();
  }
}
