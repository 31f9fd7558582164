package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

class TokenRefreshTest {
  /** A clock the test moves forward by hand. */
  static final class ManualClock extends Clock {
    private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @RegisterExtension
  final PeerServer peer = PeerServer.started();
  private final AtomicInteger issued = new AtomicInteger();
  private final AtomicReference<String> valid = new AtomicReference<>();
  private final ManualClock clock = new ManualClock();

  /** A token endpoint issuing tok-1, tok-2, ... and a Patient that needs the latest one. */
  private FhirboxClient client() {
    peer.on("/oauth2/token", ex -> {
      String token = "tok-" + issued.incrementAndGet();
      valid.set(token);
      PeerServer.send(ex, 200, "application/json", "{\"access_token\":\"" + token
          + "\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
    });
    peer.on("/fhir/R4/Patient/1", ex -> {
      if (!("Bearer " + valid.get()).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        PeerServer.send(ex, 401, "application/fhir+json", "{\"resourceType\":\"OperationOutcome\",\"issue\":"
            + "[{\"severity\":\"error\",\"code\":\"login\",\"diagnostics\":\"invalid token\"}]}");
        return;
      }
      PeerServer.send(ex, 200, "application/fhir+json", "{\"resourceType\":\"Patient\",\"id\":\"1\"}");
    });
    return FhirboxClient.builder().baseUrl(peer.root()).clientCredentials("app", "s3cret").clock(clock).build();
  }

  @Test
  void tokenIsFetchedLazilyOnceForConcurrentCallers() throws Exception {
    FhirboxClient client = client();
    assertThat(issued).hasValue(0);

    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Patient>> reads = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        reads.add(pool.submit(() -> client.readResource(Patient.class, "1")));
      }
      for (Future<Patient> f : reads) {
        assertThat(f.get().getIdElement().getIdPart()).isEqualTo("1");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(issued).hasValue(1);
    var tokenRequest = peer.seen("/oauth2/token").get(0);
    assertThat(tokenRequest.method()).isEqualTo("POST");
    assertThat(tokenRequest.body()).isEqualTo("grant_type=client_credentials");
    assertThat(tokenRequest.authorization()).isEqualTo("Basic "
        + Base64.getEncoder().encodeToString("app:s3cret".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void tokenIsRefreshedShortlyBeforeItExpires() {
    FhirboxClient client = client();
    client.readResource(Patient.class, "1");
    clock.advance(Duration.ofSeconds(3500));
    client.readResource(Patient.class, "1");
    assertThat(issued).hasValue(1);

    clock.advance(Duration.ofSeconds(45)); // 3545 s: inside the last 60 s
    client.readResource(Patient.class, "1");
    assertThat(issued).hasValue(2);
  }

  @Test
  void rejectedTokenIsReplacedOnceAndTheRequestRetried() {
    FhirboxClient client = client();
    client.readResource(Patient.class, "1");
    valid.set("revoked-elsewhere");

    assertThat(client.readResource(Patient.class, "1").getIdElement().getIdPart()).isEqualTo("1");
    assertThat(issued).hasValue(2);
  }

  @Test
  void variantsFromNewBuilderShareTheToken() {
    FhirboxClient client = client();
    client.readResource(Patient.class, "1");
    FhirboxClient variant = client.newBuilder().requestTimeout(Duration.ofSeconds(5)).build();
    variant.readResource(Patient.class, "1");
    assertThat(issued).hasValue(1);
  }

  @Test
  void aTokenEndpointErrorSaysWhatTheServerSaid() {
    peer.on("/oauth2/token", ex -> PeerServer.send(ex, 401, "application/json",
        "{\"error\":\"invalid_client\",\"error_description\":\"the client is disabled\"}"));
    FhirboxClient client = FhirboxClient.builder().baseUrl(peer.root()).clientCredentials("app", "s3cret").build();

    assertThatThrownBy(() -> client.readResource(Patient.class, "1"))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(401))
        .hasMessageContaining("invalid_client")
        .hasMessageContaining("the client is disabled")
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void aTokenAnswerThatStallsMidBodyFailsAfterTheRequestTimeoutAndDoesNotBlockOtherCallers() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    peer.on("/oauth2/token", ex -> {
      // the headers and part of the token, then nothing: the connection stays open
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(200, 100);
      OutputStream out = ex.getResponseBody();
      out.write("{\"access_token\":\"t\"".getBytes(StandardCharsets.UTF_8));
      out.flush();
      try {
        never.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    FhirboxClient client = FhirboxClient.builder().baseUrl(peer.root()).clientCredentials("app", "s3cret")
        .requestTimeout(Duration.ofSeconds(1)).build();
    Callable<Throwable> read = () -> catchThrowable(() -> client.readResource(Patient.class, "1"));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      // the second caller waits for the token the first is fetching, then fetches its own
      List<Future<Throwable>> both = pool.invokeAll(List.of(read, read), 10, TimeUnit.SECONDS);

      for (Future<Throwable> f : both) {
        assertThat(f.isCancelled()).as("still blocked after 10 s").isFalse();
        assertThat(f.get()).isInstanceOf(FhirboxException.class).hasMessageContaining("no bytes came for 1000 ms");
      }
    } finally {
      never.countDown();
      pool.shutdownNow();
    }
  }

  /** A caller waiting for the token another is fetching answers an interrupt at once, as every other wait does. */
  @Test
  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aCallerWaitingForAnotherCallersTokenFetchEndsWhenInterrupted() throws Exception {
    CountDownLatch fetching = new CountDownLatch(1);
    CountDownLatch answer = new CountDownLatch(1);
    peer.on("/oauth2/token", ex -> {
      fetching.countDown();
      try {
        answer.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      PeerServer.send(ex, 200, "application/json", "{\"access_token\":\"t\",\"expires_in\":3600}");
    });
    FhirboxClient client = FhirboxClient.builder().baseUrl(peer.root()).clientCredentials("app", "s3cret").build();
    Thread first = new Thread(() -> catchThrowable(() -> client.readResource(Patient.class, "1")));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
    Thread waiting = new Thread(() -> {
      failure.set(catchThrowable(() -> client.readResource(Patient.class, "1")));
      stillInterrupted.set(Thread.currentThread().isInterrupted());
    });
    try {
      first.start();
      assertThat(fetching.await(10, TimeUnit.SECONDS)).isTrue();
      waiting.start();
      while (waiting.getState() != Thread.State.WAITING && waiting.isAlive()) {
        Thread.sleep(5);
      }
      waiting.interrupt();
      waiting.join(2000);

      assertThat(waiting.isAlive()).as("still waiting for the other caller's token").isFalse();
      assertThat(failure.get()).isInstanceOf(FhirboxException.class).hasMessageContaining("interrupted");
      assertThat(stillInterrupted.get()).as("the interrupt is kept for the caller").isTrue();
    } finally {
      answer.countDown();
      first.join(10_000);
      waiting.join(10_000);
    }
  }

  @Test
  void aTokenRejectedForAStreamUploadIsNotUsedAgain() {
    FhirboxClient client = client();
    peer.on("/fhir/R4/Binary", ex -> {
      if (!("Bearer " + valid.get()).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        PeerServer.send(ex, 401, "application/fhir+json", "{\"resourceType\":\"OperationOutcome\",\"issue\":"
            + "[{\"severity\":\"error\",\"code\":\"login\",\"diagnostics\":\"invalid token\"}]}");
        return;
      }
      PeerServer.send(ex, 201, "application/fhir+json", "{\"resourceType\":\"Binary\",\"id\":\"b\"}");
    });
    client.readResource(Patient.class, "1");
    valid.set("revoked-elsewhere");

    // a stream cannot be sent twice, so this upload fails; the token it was refused with is gone
    assertThatThrownBy(() -> client.createBinary(new java.io.ByteArrayInputStream(new byte[] {1, 2}), 2, "a.bin",
        "application/octet-stream")).isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(401));
    Binary second = client.createBinary(new java.io.ByteArrayInputStream(new byte[] {1, 2}), 2, "a.bin",
        "application/octet-stream");

    assertThat(second.getIdElement().getIdPart()).isEqualTo("b");
    assertThat(issued).hasValue(2);
  }
}
