package org.fhirbox.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.fhirbox.db.CommitOutcomeUnknown;
import org.fhirbox.db.Database;
import org.fhirbox.db.JdbcResourceStore;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchClause;
import org.fhirbox.db.SearchQuery;
import org.fhirbox.db.StoreException;
import org.fhirbox.fhir.AttachmentNormalizer;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.SearchIndexer;
import org.fhirbox.testing.Poll;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditTrailTest {
  @TempDir
  Path dir;
  private Database db;
  private ResourceStore store;
  private ResourceRepository repository;

  @BeforeEach
  void open() {
    db = new Database("jdbc:h2:file:" + dir.resolve("db") + ";DB_CLOSE_ON_EXIT=FALSE", "", "", 4);
    store = new JdbcResourceStore(db);
    repository = new ResourceRepository(new FhirCodec(TestServer.FHIR),
        new AttachmentNormalizer(TestServer.FHIR, url -> Optional.empty()), new SearchIndexer(TestServer.FHIR),
        Clock.systemUTC());
  }

  @AfterEach
  void close() {
    db.close();
  }

  private static AuditRecord read(String project, String binaryId) {
    return new AuditRecord(BinaryAction.READ, project, binaryId, 1, "Patient/p1", "client-1", "192.0.2.1",
        Instant.parse("2025-01-02T03:04:05Z"), null);
  }

  private long count(String project) {
    return store.read(tx -> tx.count(searchAll(project)));
  }

  private static SearchQuery searchAll(String project) {
    return new SearchQuery(project, "AuditEvent", List.<SearchClause>of(), false, 100, 0);
  }

  @Test
  void aFullQueueMakesTheRequestWaitForRoomInsteadOfLosingItsEvent() throws Exception {
    AuditTrail trail = new AuditTrail(store, repository, 2, Duration.ofSeconds(20), Duration.ofMillis(1),
        Duration.ofSeconds(30));
    assertThat(trail.record(read("p", "b1"))).isTrue();
    assertThat(trail.record(read("p", "b2"))).isTrue();
    java.util.concurrent.ExecutorService requests = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      java.util.concurrent.Future<Boolean> third = requests.submit(() -> trail.record(read("p", "b3")));
      java.util.concurrent.Future<Boolean> fourth = requests.submit(() -> trail.record(read("p", "b4")));
      Poll.until("both requests found the queue full", trail::waitCount, n -> n == 2);
      assertThat(third.isDone()).as("a request returned while the queue was full").isFalse();
      assertThat(fourth.isDone()).isFalse();
      trail.start(); // the writer makes room
      assertThat(third.get(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(fourth.get(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    } finally {
      requests.shutdownNow();
    }
    trail.close();
    assertThat(trail.droppedCount()).isZero();
    assertThat(trail.writtenCount()).isEqualTo(4);
    assertThat(count("p")).isEqualTo(4);
  }

  @Test
  void aQueueThatStaysFullForTheWholeWaitDropsAndCounts() {
    AuditTrail trail = new AuditTrail(store, repository, 1, Duration.ofSeconds(5), Duration.ofMillis(1),
        Duration.ofMillis(200));
    assertThat(trail.record(read("p", "b1"))).isTrue();
    long before = System.nanoTime();
    assertThat(trail.record(read("p", "b2"))).as("no writer: no room within the wait").isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - before)).isBetween(Duration.ofMillis(150), Duration.ofSeconds(5));
    assertThat(trail.droppedCount()).isEqualTo(1);
    assertThat(trail.waitCount()).isEqualTo(1);
    trail.start().close();
    assertThat(trail.writtenCount()).isEqualTo(1);
    assertThat(count("p")).isEqualTo(1);
  }

  @Test
  void closeWritesEverythingQueuedIntoEachEventsProject() {
    AuditTrail trail = new AuditTrail(store, repository, 1000, Duration.ofSeconds(20)).start();
    for (int i = 0; i < 450; i++) {
      assertThat(trail.record(read(i % 3 == 0 ? "one" : "two", "b" + i))).isTrue();
    }
    trail.close();
    assertThat(trail.droppedCount()).isZero();
    assertThat(count("one")).isEqualTo(150);
    assertThat(count("two")).isEqualTo(300);
    assertThat(trail.record(read("one", "late"))).as("a closed trail takes nothing").isFalse();
  }

  @Test
  void eventsArrivingOneByOneWithinTheLingerShareOneTransaction() throws Exception {
    AuditTrail trail = new AuditTrail(store, repository, 1000, Duration.ofSeconds(20), Duration.ofSeconds(5),
        AuditTrail.DEFAULT_FULL_WAIT).start();
    try {
      assertThat(trail.record(read("p", "b0"))).isTrue();
      // the writer holds the first event alone: without the linger it would commit it alone
      Poll.until("the writer took the first event", trail::queueDepth, d -> d == 0);
      for (int i = 1; i < 20; i++) {
        assertThat(trail.record(read("p", "b" + i))).isTrue();
      }
      Poll.until("20 events written", trail::writtenCount, n -> n == 20);
      assertThat(trail.batchCount()).as("transactions committed for 20 events").isEqualTo(1);
      assertThat(count("p")).isEqualTo(20);
    } finally {
      trail.close();
    }
  }

  @Test
  void closeDoesNotWaitOutTheLinger() {
    AuditTrail trail = new AuditTrail(store, repository, 1000, Duration.ofSeconds(20), Duration.ofMinutes(5),
        AuditTrail.DEFAULT_FULL_WAIT).start();
    assertThat(trail.record(read("p", "b1"))).isTrue();
    long before = System.nanoTime();
    trail.close();
    assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(15));
    assertThat(trail.writtenCount()).isEqualTo(1);
    assertThat(count("p")).isEqualTo(1);
  }

  /**
   * The real store behind a fault injector: {@code fault} is asked before each transaction (with its
   * number, from 1) and may throw instead of running it, or after it committed.
   */
  private static final class FaultyStore implements ResourceStore {
    interface Fault {
      void at(int call, boolean committed);
    }

    private final ResourceStore real;
    private final Fault fault;
    private final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();

    FaultyStore(ResourceStore real, Fault fault) {
      this.real = real;
      this.fault = fault;
    }

    int calls() {
      return calls.get();
    }

    @Override
    public <T> T inTransaction(Work<T> work) {
      int call = calls.incrementAndGet();
      fault.at(call, false);
      T result = real.inTransaction(work);
      fault.at(call, true);
      return result;
    }

    @Override
    public <T> T read(Work<T> work) {
      return real.read(work);
    }
  }

  private static StoreException unavailable() {
    return new StoreException("database unavailable", new SQLException("disk full"));
  }

  @Test
  void aBatchTheDatabaseRefusesIsRetriedUntilItIsWrittenNotLost() {
    FaultyStore faulty = new FaultyStore(store, (call, committed) -> {
      if (call <= 6 && !committed) {
        throw unavailable();
      }
    });
    AuditTrail trail = new AuditTrail(faulty, repository, 100, Duration.ofSeconds(20));
    for (int i = 0; i < 3; i++) {
      assertThat(trail.record(read("p", "b" + i))).isTrue();
    }
    trail.start().close();
    assertThat(faulty.calls()).as("transactions tried").isGreaterThan(6);
    assertThat(trail.writtenCount()).isEqualTo(3);
    assertThat(trail.droppedCount()).isZero();
    assertThat(trail.failedCount()).isZero();
    assertThat(count("p")).isEqualTo(3);
  }

  @Test
  void aCommitWhoseOutcomeIsUnknownIsNotWrittenTwice() {
    FaultyStore faulty = new FaultyStore(store, (call, committed) -> {
      if (call == 1 && committed) {
        throw new CommitOutcomeUnknown(new SQLException("connection reset"));
      }
    });
    AuditTrail trail = new AuditTrail(faulty, repository, 100, Duration.ofSeconds(20));
    assertThat(trail.record(read("p", "b1"))).isTrue();
    assertThat(trail.record(read("p", "b2"))).isTrue();
    trail.start().close();
    assertThat(count("p")).isEqualTo(2);
    assertThat(trail.writtenCount()).isEqualTo(2);
  }

  @Test
  void anErrorThrownByAWriteLeavesTheWriterRunning() throws Exception {
    FaultyStore faulty = new FaultyStore(store, (call, committed) -> {
      if (call == 1 && !committed) {
        throw new OutOfMemoryError("test");
      }
    });
    AuditTrail trail = new AuditTrail(faulty, repository, 100, Duration.ofSeconds(20)).start();
    try {
      assertThat(trail.record(read("p", "b1"))).isTrue();
      Poll.until("the first write threw", faulty::calls, n -> n >= 1);
      assertThat(trail.record(read("p", "b2"))).isTrue();
      Poll.until("the second event written", Duration.ofSeconds(10), trail::writtenCount, n -> n >= 1);
      assertThat(count("p")).isEqualTo(1);
      assertThat(trail.writerAlive()).isTrue();
      assertThat(trail.failedCount()).as("the event whose write met the Error").isEqualTo(1);
    } finally {
      trail.close();
    }
  }

  @Test
  void anEventThatCannotBeStoredIsGivenUpAloneAndCounted() {
    AuditTrail trail = new AuditTrail(store, repository, 100, Duration.ofSeconds(20));
    AuditRecord broken = new AuditRecord(null, "p", "bad", 1, null, "client-1", "192.0.2.1", Instant.now(), null);
    assertThat(trail.record(read("p", "b1"))).isTrue();
    assertThat(trail.record(broken)).isTrue();
    assertThat(trail.record(read("p", "b2"))).isTrue();
    trail.start().close();
    assertThat(trail.writtenCount()).isEqualTo(2);
    assertThat(trail.failedCount()).isEqualTo(1);
    assertThat(count("p")).isEqualTo(2);
  }

  @Test
  void aDatabaseThatTurnedReadOnlyIsWaitedForWhileSomeConnectionsStillWrite() {
    // a failover: every other transaction meets a demoted primary (PostgreSQL 25006), for a while
    FaultyStore faulty = new FaultyStore(store, (call, committed) -> {
      if (call <= 40 && call % 2 == 1 && !committed) {
        throw new StoreException("read-only", new SQLException("cannot execute INSERT in a read-only transaction",
            "25006"));
      }
    });
    AuditTrail trail = new AuditTrail(faulty, repository, 100, Duration.ofSeconds(30));
    for (int i = 0; i < 5; i++) {
      assertThat(trail.record(read("p", "b" + i))).isTrue();
    }
    trail.start().close();
    assertThat(trail.failedCount()).isZero();
    assertThat(trail.writtenCount()).isEqualTo(5);
    assertThat(count("p")).isEqualTo(5);
  }

  @Test
  void anEventTheDatabaseKeepsRefusingAloneIsGivenUpAndTheNextIsWritten() throws Exception {
    // a fault that names no unavailability, met by one event only (a column it overflows)
    AtomicBoolean poisonOnly = new AtomicBoolean(true);
    FaultyStore faulty = new FaultyStore(store, (call, committed) -> {
      if (poisonOnly.get() && !committed) {
        throw new StoreException("too long", new SQLException("value too long", "22001"));
      }
    });
    AuditTrail trail = new AuditTrail(faulty, repository, 100, Duration.ofSeconds(30)).start();
    try {
      assertThat(trail.record(read("p", "poison"))).isTrue();
      Poll.until("the poison event given up", Duration.ofSeconds(30), trail::failedCount, n -> n == 1);
      poisonOnly.set(false);
      assertThat(trail.record(read("p", "next"))).isTrue();
      Poll.until("the next event written", Duration.ofSeconds(10), trail::writtenCount, n -> n == 1);
      assertThat(count("p")).isEqualTo(1);
    } finally {
      trail.close();
    }
  }

  @Test
  void eventCarriesWhoWhatWhenWhereAndCodes() {
    org.hl7.fhir.r4.model.AuditEvent e = new AuditEventFactory().build(read("p", "b1"));
    assertThat(e.getAction().toCode()).isEqualTo("R");
    assertThat(e.getType().getCode()).isEqualTo("rest");
    assertThat(e.getSubtypeFirstRep().getCode()).isEqualTo("read");
    assertThat(e.getOutcome().toCode()).isEqualTo("0");
    assertThat(e.getRecorded().toInstant()).isEqualTo(Instant.parse("2025-01-02T03:04:05Z"));
    assertThat(e.getAgentFirstRep().getWho().getIdentifier().getValue()).isEqualTo("client-1");
    assertThat(e.getAgentFirstRep().getAltId()).isEqualTo("client-1");
    assertThat(e.getAgentFirstRep().getRequestor()).isTrue();
    assertThat(e.getAgentFirstRep().getNetwork().getAddress()).isEqualTo("192.0.2.1");
    assertThat(e.getAgentFirstRep().getNetwork().getType().toCode()).isEqualTo("2");
    assertThat(e.getEntity()).extracting(x -> x.getWhat().getReference())
        .containsExactly("Binary/b1/_history/1", "Patient/p1");
    assertThat(e.getEntity().get(1).getRole().getCode()).isEqualTo("1");
  }
}
