package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.sun.net.httpserver.HttpHandler;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ResourceInteractionsTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  private static Patient patient(String family) {
    return new Patient().addName(new HumanName().setFamily(family).addGiven("Ada"));
  }

  /** Answers with {@code status}, its headers and half of {@code body}, then nothing until released. */
  private static HttpHandler stallingHalfway(int status, String body, CountDownLatch release) {
    return ex -> {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "application/fhir+json");
      ex.sendResponseHeaders(status, bytes.length);
      OutputStream out = ex.getResponseBody();
      out.write(bytes, 0, bytes.length / 2);
      out.flush();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
  }

  @Test
  void aResourceAnswerThatStallsMidBodyFailsAfterTheRequestTimeout() {
    CountDownLatch release = new CountDownLatch(1);
    try (PeerServer peer = PeerServer.started()) {
      peer.on("/fhir/R4/Patient/1", stallingHalfway(200, "{\"resourceType\":\"Patient\",\"id\":\"1\"}", release));
      peer.on("/fhir/R4/Patient/2", stallingHalfway(404, "{\"resourceType\":\"OperationOutcome\",\"issue\":"
          + "[{\"severity\":\"error\",\"code\":\"not-found\",\"diagnostics\":\"Patient/2 is not known\"}]}", release));
      FhirboxClient silent = FhirboxClient.builder().baseUrl(peer.root()).requestTimeout(Duration.ofSeconds(1)).build();

      assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
        assertThatThrownBy(() -> silent.readResource(Patient.class, "1"))
            .isInstanceOf(FhirboxException.class)
            .hasMessageContaining("no bytes came for 1000 ms");
        // an error answer's body is read too (for its OperationOutcome): the status still comes through
        assertThatThrownBy(() -> silent.readResource(Patient.class, "2"))
            .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(404));
      });
    } finally {
      release.countDown();
    }
  }

  @Test
  void createReadUpdateDeleteRoundTrip() {
    Patient created = fhirbox.client().createResource(patient("Lovelace"));
    String id = created.getIdElement().getIdPart();
    assertThat(id).isNotBlank();
    assertThat(created.getMeta().getVersionId()).isEqualTo("1");

    Patient read = fhirbox.client().readResource(Patient.class, id);
    assertThat(read.getNameFirstRep().getFamily()).isEqualTo("Lovelace");

    read.setActive(true);
    Patient updated = fhirbox.client().updateResource(read);
    assertThat(updated.getMeta().getVersionId()).isEqualTo("2");
    assertThat(fhirbox.client().readResource(Patient.class, id).getActive()).isTrue();
    assertThat(fhirbox.client().readVersion(Patient.class, id, "1").hasActive()).isFalse();

    fhirbox.client().deleteResource(Patient.class, id);
    assertThatThrownBy(() -> fhirbox.client().readResource(Patient.class, id))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(410));
  }

  @Test
  void staleVersionFailsWithPreconditionFailed() {
    Patient created = fhirbox.client().createResource(patient("Stale"));
    Patient first = fhirbox.client().readResource(Patient.class, created.getIdElement().getIdPart());
    Patient second = first.copy();
    fhirbox.client().updateResource(first.setActive(true));

    assertThatThrownBy(() -> fhirbox.client().updateResource(second.setActive(false)))
        .isInstanceOfSatisfying(FhirboxException.class, e -> {
          assertThat(e.status()).isEqualTo(412);
          assertThat(e.operationOutcome()).isNotNull();
        });
    Patient forced = fhirbox.client().updateResource(second.setActive(false), false);
    assertThat(forced.getMeta().getVersionId()).isEqualTo("3");
  }

  @Test
  void conditionalCreateUpsertAndPatchAsMedplumsClientHasThem() {
    Patient once = patient("Once").addIdentifier(new org.hl7.fhir.r4.model.Identifier().setSystem("urn:sdk").setValue("1"));
    Patient first = fhirbox.client().createResourceIfNoneExist(once, "identifier=urn:sdk|1");
    Patient again = fhirbox.client().createResourceIfNoneExist(once.copy(), "identifier=urn:sdk|1");
    assertThat(again.getIdElement().getIdPart()).isEqualTo(first.getIdElement().getIdPart());
    assertThat(again.getMeta().getVersionId()).isEqualTo("1");

    Patient upserted = fhirbox.client().upsertResource(patient("Upserted").addIdentifier(
        new org.hl7.fhir.r4.model.Identifier().setSystem("urn:sdk").setValue("1")), "identifier=urn:sdk|1");
    assertThat(upserted.getIdElement().getIdPart()).isEqualTo(first.getIdElement().getIdPart());
    assertThat(upserted.getMeta().getVersionId()).isEqualTo("2");
    assertThat(upserted.getNameFirstRep().getFamily()).isEqualTo("Upserted");

    String id = first.getIdElement().getIdPart();
    Patient patched = fhirbox.client().patchResource(Patient.class, id,
        "[{\"op\":\"test\",\"path\":\"/meta/versionId\",\"value\":\"2\"},"
            + "{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"Patched\"}]");
    assertThat(patched.getMeta().getVersionId()).isEqualTo("3");
    assertThat(patched.getNameFirstRep().getFamily()).isEqualTo("Patched");
    assertThatThrownBy(() -> fhirbox.client().patchResource(Patient.class, id,
        "[{\"op\":\"test\",\"path\":\"/meta/versionId\",\"value\":\"2\"}]"))
        .isInstanceOfSatisfying(FhirboxException.class, e -> assertThat(e.status()).isEqualTo(412));
  }

  @Test
  void missingResourceCarriesTheOutcomeDiagnostics() {
    assertThatThrownBy(() -> fhirbox.client().readResource(Patient.class, "does-not-exist"))
        .isInstanceOfSatisfying(FhirboxException.class, e -> {
          assertThat(e.status()).isEqualTo(404);
          OperationOutcome oo = e.operationOutcome();
          assertThat(oo).isNotNull();
          String diagnostics = oo.getIssueFirstRep().getDiagnostics();
          assertThat(diagnostics).isNotBlank();
          assertThat(e.getMessage()).contains("404").contains(diagnostics).contains("/fhir/R4/Patient/does-not-exist");
        });
  }

  @Test
  void aFormEncodedQueryReadsPlusAsASpace() {
    String family = "van der Berg " + UUID.randomUUID().toString().substring(0, 8);
    Patient created = fhirbox.client().createResource(patient(family));

    Bundle byPlus = fhirbox.client().searchBundle(Patient.class, "family:exact=" + family.replace(' ', '+'));
    Bundle byEncoder = fhirbox.client().searchBundle(Patient.class,
        "family:exact=" + java.net.URLEncoder.encode(family, java.nio.charset.StandardCharsets.UTF_8));

    assertThat(byPlus.getEntry()).singleElement()
        .satisfies(e -> assertThat(e.getResource().getIdElement().getIdPart()).isEqualTo(created.getIdElement().getIdPart()));
    assertThat(byEncoder.getEntry()).hasSize(1);
  }

  @Test
  void searchFollowsNextLinksLazilyAcrossPages() {
    String family = "Paged";
    String tag = UUID.randomUUID().toString();
    IntStream.range(0, 5).forEach(i -> fhirbox.client().createResource(patient(family).addIdentifier(
        new Identifier().setSystem("urn:fhirbox:test").setValue(tag))));
    String query = "identifier=urn:fhirbox:test|" + tag + "&_count=2";

    Bundle first = fhirbox.client().searchBundle(Patient.class, query);
    assertThat(first.getEntry()).hasSize(2);
    assertThat(first.getLink(Bundle.LINK_NEXT)).isNotNull();

    List<Patient> all = fhirbox.client().search(Patient.class, query).toList();
    assertThat(all).hasSize(5).allSatisfy(p -> assertThat(p.getNameFirstRep().getFamily()).isEqualTo(family));
    assertThat(all.stream().map(p -> p.getIdElement().getIdPart()).distinct()).hasSize(5);

    // Taking 2 of a 2-per-page search reads only the first page; observed via a counting peek.
    AtomicInteger seen = new AtomicInteger();
    List<Patient> two = fhirbox.client().search(Patient.class, query)
        .peek(p -> seen.incrementAndGet()).limit(2).toList();
    assertThat(two).hasSize(2);
    assertThat(seen).hasValue(2);
  }

  @Test
  void historyListsEveryVersion() {
    Patient p = fhirbox.client().createResource(patient("History"));
    String id = p.getIdElement().getIdPart();
    fhirbox.client().updateResource(p.setActive(true));

    Bundle history = fhirbox.client().readHistory(Patient.class, id);
    assertThat(history.getType()).isEqualTo(Bundle.BundleType.HISTORY);
    assertThat(history.getEntry()).extracting(e -> e.getResource().getMeta().getVersionId())
        .containsExactlyInAnyOrder("1", "2");
  }

  @Test
  void batchCreatesEveryEntry() {
    Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
    for (String family : List.of("BatchA", "BatchB")) {
      batch.addEntry().setResource(patient(family)).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
    }
    Bundle response = fhirbox.client().executeBatch(batch);
    assertThat(response.getType()).isEqualTo(Bundle.BundleType.BATCHRESPONSE);
    assertThat(response.getEntry()).hasSize(2)
        .allSatisfy(e -> assertThat(e.getResponse().getStatus()).startsWith("201"));
    String location = response.getEntryFirstRep().getResponse().getLocation();
    String id = location.replaceAll(".*Patient/([^/]+).*", "$1");
    assertThat(fhirbox.client().readResource(Patient.class, id).getNameFirstRep().getFamily()).isEqualTo("BatchA");
  }
}
