package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.fhirbox.binary.UploadPauses.Point;
import org.fhirbox.testing.ProjectClients;
import org.fhirbox.testing.TestServer;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The caps on open resumable uploads ({@code FHIRBOX_UPLOAD_MAX_OPEN} per client and user,
 * {@code FHIRBOX_UPLOAD_MAX_OPEN_PER_PROJECT} per project) hold when creations arrive at the same
 * moment: each creation that found room is held until all of them found it (or a second passed),
 * so that creations that count before any of the others stored its upload would all pass.
 */
abstract class TusOpenCapContract {
  /** At once, against one free place. */
  static final int AT_ONCE = 4;
  private final List<TestServer> servers = new ArrayList<>();

  /** A server (or another node of the same database) with {@code settings}. */
  abstract TestServer start(Map<String, String> settings) throws Exception;

  /** Called once the servers are closed. */
  void stopped() {}

  TestServer started(Map<String, String> settings) throws Exception {
    TestServer s = start(settings);
    servers.add(s);
    return s;
  }

  @AfterEach
  void stop() throws Exception {
    try {
      for (TestServer s : servers) {
        s.close();
      }
    } finally {
      servers.clear();
      stopped();
    }
  }

  /**
   * Holds each creation that found room, on every node, until {@code parties} found it or a
   * second passed: creations that count one after the other hold none but the first.
   */
  static void holdTogether(int parties, List<TestServer> nodes) {
    CountDownLatch arrived = new CountDownLatch(parties);
    UploadPauses together = (point, id) -> {
      if (point == Point.CREATING) {
        arrived.countDown();
        try {
          arrived.await(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
    for (TestServer n : nodes) {
      n.server().resumableUploads().pauseAt(together);
    }
  }

  /** The statuses of creations by {@code creators}, sent at once. */
  static List<Integer> createAtOnce(List<Tus> creators) {
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (Tus t : creators) {
      sent.add(CompletableFuture.supplyAsync(() -> t.create(3, null)));
    }
    List<Integer> statuses = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> f : sent) {
      HttpResponse<String> r = f.join();
      assertThat(r.statusCode()).as(r.body()).isIn(201, 429);
      statuses.add(r.statusCode());
    }
    return statuses;
  }

  static long created(List<Integer> statuses) {
    return statuses.stream().filter(s -> s == 201).count();
  }

  @Test
  void creationsOfOneClientAtOnceFillItsLastPlaceOnce() throws Exception {
    TestServer server = started(Map.of("FHIRBOX_UPLOAD_MAX_OPEN", "3"));
    Tus mine = new Tus(server.client());
    mine.upload(3, null);
    mine.upload(3, null);
    holdTogether(AT_ONCE, List.of(server));

    List<Integer> statuses = createAtOnce(List.of(mine, mine, mine, mine));

    assertThat(created(statuses)).as("creations that passed the cap of 3 with 2 open: " + statuses).isEqualTo(1);
    assertThat(mine.create(3, null).statusCode()).isEqualTo(429);
  }

  @Test
  void clientsOfAProjectHaveAtMostTheProjectsNumberOfOpenUploads() throws Exception {
    TestServer server = started(Map.of("FHIRBOX_UPLOAD_MAX_OPEN", "2", "FHIRBOX_UPLOAD_MAX_OPEN_PER_PROJECT", "3"));
    ProjectClients clients = new ProjectClients(server);
    Tus a = new Tus(clients.client("tus-cap", "system/Binary.cruds"));
    Tus b = new Tus(clients.client("tus-cap", "system/Binary.cruds"));
    String first = a.upload(3, null);
    a.upload(3, null);
    b.upload(3, null);

    HttpResponse<String> refused = b.create(3, null);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
    assertThat(refused.headers().firstValue("Retry-After")).contains("60");
    assertThat(refused.body()).contains("OperationOutcome").contains("this project")
        .contains("already has 3 unfinished resumable uploads").contains("(3)").contains("DELETE");
    Tus elsewhere = new Tus(clients.client("tus-cap-other", "system/Binary.cruds"));
    assertThat(elsewhere.create(3, null).statusCode()).as("another project's count").isEqualTo(201);

    assertThat(a.delete(first).statusCode()).isEqualTo(204);
    assertThat(b.create(3, null).statusCode()).isEqualTo(201);
    assertThat(a.create(3, null).statusCode()).isEqualTo(429);
  }

  @Test
  void creationsOfAProjectsClientsAtOnceFillItsLastPlaceOnce() throws Exception {
    TestServer server = started(Map.of("FHIRBOX_UPLOAD_MAX_OPEN_PER_PROJECT", "3"));
    ProjectClients clients = new ProjectClients(server);
    Tus first = new Tus(clients.client("tus-race", "system/Binary.cruds"));
    first.upload(3, null);
    first.upload(3, null);
    List<Tus> others = new ArrayList<>();
    for (int i = 0; i < AT_ONCE; i++) {
      others.add(new Tus(clients.client("tus-race", "system/Binary.cruds")));
    }
    holdTogether(AT_ONCE, List.of(server));

    List<Integer> statuses = createAtOnce(others);

    assertThat(created(statuses)).as("creations that passed the project's cap of 3 with 2 open: " + statuses)
        .isEqualTo(1);
  }
}
