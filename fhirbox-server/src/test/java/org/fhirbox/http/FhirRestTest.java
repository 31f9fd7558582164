package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The FHIR REST interactions over real HTTP (FHIR R4 http().html). */
class FhirRestTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  static String patientJson(String family) {
    return "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}";
  }

  static Patient create(String family) {
    HttpResponse<String> r = http().postJson("fhir/R4/Patient", patientJson(family));
    assertThat(r.statusCode()).isEqualTo(201);
    return http().parse(r, Patient.class);
  }

  @Test
  void createReturns201WithLocationEtagAndLastModified() {
    HttpResponse<String> r = http().postJson("fhir/R4/Patient", patientJson("Create"));
    assertThat(r.statusCode()).isEqualTo(201);
    Patient p = http().parse(r, Patient.class);
    assertThat(p.getIdElement().getIdPart()).isNotBlank();
    assertThat(r.headers().firstValue("Location")).hasValue(
        fhirbox.server().fhirBase() + "/Patient/" + p.getIdElement().getIdPart() + "/_history/1");
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(r.headers().firstValue("Last-Modified")).isPresent();
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+json");
    assertThat(p.getMeta().getVersionId()).isEqualTo("1");
  }

  @Test
  void readVreadUpdateAndDeleteFollowTheVersionRules() {
    Patient p = create("Versions");
    String id = p.getIdElement().getIdPart();
    p.getNameFirstRep().setFamily("Versions2");
    HttpResponse<String> upd = http().putJson("fhir/R4/Patient/" + id, http().json(p));
    assertThat(upd.statusCode()).isEqualTo(200);
    assertThat(upd.headers().firstValue("ETag")).hasValue("W/\"2\"");

    Patient current = http().parse(http().get("fhir/R4/Patient/" + id), Patient.class);
    assertThat(current.getNameFirstRep().getFamily()).isEqualTo("Versions2");
    Patient v1 = http().parse(http().get("fhir/R4/Patient/" + id + "/_history/1"), Patient.class);
    assertThat(v1.getNameFirstRep().getFamily()).isEqualTo("Versions");
    assertThat(http().get("fhir/R4/Patient/" + id + "/_history/9").statusCode()).isEqualTo(404);

    HttpResponse<String> del = http().delete("fhir/R4/Patient/" + id);
    assertThat(del.statusCode()).isEqualTo(200);
    HttpResponse<String> gone = http().get("fhir/R4/Patient/" + id);
    assertThat(gone.statusCode()).isEqualTo(410);
    assertThat(http().parse(gone, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("deleted");
    assertThat(http().get("fhir/R4/Patient/" + id + "/_history/2").statusCode()).isEqualTo(200);
  }

  @Test
  void deleteOfAResourceThatNeverExistedIs200WithAnOutcome() {
    HttpResponse<String> r = http().delete("fhir/R4/Patient/never-existed-1");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("does not exist");
    assertThat(http().get("fhir/R4/Patient/never-existed-1").statusCode()).isEqualTo(404);
  }

  @Test
  void aZeroOrNegativeIfMatchVersionIs400NotAWildcard() {
    Patient p = create("NoWildcard");
    String id = p.getIdElement().getIdPart();
    p.getNameFirstRep().setFamily("Changed");
    for (String etag : List.of("W/\"-1\"", "W/\"0\"", "\"-1\"")) {
      HttpResponse<String> put = http().send(http().request("fhir/R4/Patient/" + id)
          .header("Content-Type", "application/fhir+json").header("If-Match", etag)
          .PUT(HttpRequest.BodyPublishers.ofString(http().json(p))));
      assertThat(put.statusCode()).as(etag + " " + put.body()).isEqualTo(400);
      HttpResponse<String> delete = http().send(http().request("fhir/R4/Patient/" + id).header("If-Match", etag)
          .DELETE());
      assertThat(delete.statusCode()).as(etag + " " + delete.body()).isEqualTo(400);
    }
    String entry = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"DELETE\","
        + "\"url\":\"Patient/" + id + "\",\"ifMatch\":\"W/\\\"-1\\\"\"}}]}";
    Bundle batch = http().parse(http().postJson("fhir/R4", entry), Bundle.class);
    assertThat(batch.getEntryFirstRep().getResponse().getStatus()).startsWith("400");
    assertThat(http().parse(http().get("fhir/R4/Patient/" + id), Patient.class).getMeta().getVersionId()).isEqualTo("1");
  }

  @Test
  void staleIfMatchGives412AndStoresNothing() {
    Patient p = create("Match");
    String id = p.getIdElement().getIdPart();
    p.getNameFirstRep().setFamily("Changed");
    HttpResponse<String> stale = http().send(http().request("fhir/R4/Patient/" + id)
        .header("Content-Type", "application/fhir+json").header("If-Match", "W/\"7\"")
        .PUT(HttpRequest.BodyPublishers.ofString(http().json(p))));
    assertThat(stale.statusCode()).isEqualTo(412);
    assertThat(http().parse(stale, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("W/\"7\"");
    HttpResponse<String> ok = http().send(http().request("fhir/R4/Patient/" + id)
        .header("Content-Type", "application/fhir+json").header("If-Match", "W/\"1\"")
        .PUT(HttpRequest.BodyPublishers.ofString(http().json(p))));
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(http().parse(http().get("fhir/R4/Patient/" + id), Patient.class).getMeta().getVersionId()).isEqualTo("2");
  }

  @Test
  void updateWithAnUnknownIdCreatesWithTheClientsId() {
    HttpResponse<String> r = http().putJson("fhir/R4/Patient/my-own-id-1",
        "{\"resourceType\":\"Patient\",\"id\":\"my-own-id-1\",\"active\":true}");
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(http().get("fhir/R4/Patient/my-own-id-1").statusCode()).isEqualTo(200);
  }

  @Test
  void preferReturnMinimalAndOperationOutcome() {
    HttpResponse<String> minimal = http().send(http().request("fhir/R4/Patient")
        .header("Content-Type", "application/fhir+json").header("Prefer", "return=minimal")
        .POST(HttpRequest.BodyPublishers.ofString(patientJson("Minimal"))));
    assertThat(minimal.statusCode()).isEqualTo(201);
    assertThat(minimal.body()).isEmpty();
    assertThat(minimal.headers().firstValue("Location")).isPresent();
    HttpResponse<String> oo = http().send(http().request("fhir/R4/Patient")
        .header("Content-Type", "application/fhir+json").header("Prefer", "return=OperationOutcome")
        .POST(HttpRequest.BodyPublishers.ofString(patientJson("Outcome"))));
    assertThat(http().parse(oo, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).startsWith("created");
  }

  @Test
  void xmlAndFormatAndPrettyAreHonoured() {
    Patient p = create("Xml");
    String id = p.getIdElement().getIdPart();
    HttpResponse<String> xml = http().send(http().request("fhir/R4/Patient/" + id).header("Accept", "application/fhir+xml"));
    assertThat(xml.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+xml");
    assertThat(xml.body()).startsWith("<Patient xmlns=\"http://hl7.org/fhir\">");
    HttpResponse<String> viaParam = http().send(http().request("fhir/R4/Patient/" + id + "?_format=xml"));
    assertThat(viaParam.body()).contains("<family value=\"Xml\"");
    HttpResponse<String> pretty = http().get("fhir/R4/Patient/" + id + "?_pretty=true");
    assertThat(pretty.body()).contains("\n  \"resourceType\"");
    HttpResponse<String> createXml = http().send(http().request("fhir/R4/Patient")
        .header("Content-Type", "application/fhir+xml")
        .POST(HttpRequest.BodyPublishers.ofString(
            "<Patient xmlns=\"http://hl7.org/fhir\"><active value=\"true\"/></Patient>")));
    assertThat(createXml.statusCode()).isEqualTo(201);
    assertThat(http().get("fhir/R4/Patient/" + id + "?_format=yaml").statusCode()).isEqualTo(406);
  }

  @Test
  void historyAtInstanceTypeAndSystemLevelIsPaged() {
    Patient p = create("Hist");
    String id = p.getIdElement().getIdPart();
    for (int i = 0; i < 3; i++) {
      p.setActive(i % 2 == 0);
      assertThat(http().putJson("fhir/R4/Patient/" + id, http().json(p)).statusCode()).isEqualTo(200);
    }
    Bundle instance = http().parse(http().get("fhir/R4/Patient/" + id + "/_history?_count=2"), Bundle.class);
    assertThat(instance.getType()).isEqualTo(Bundle.BundleType.HISTORY);
    assertThat(instance.getEntry()).hasSize(2);
    assertThat(instance.getEntryFirstRep().getResource().getMeta().getVersionId()).isEqualTo("4");
    String next = instance.getLink("next").getUrl();
    Bundle page2 = http().parse(http().get(next), Bundle.class);
    assertThat(page2.getEntry()).extracting(e -> e.getResource().getMeta().getVersionId()).containsExactly("2", "1");
    assertThat(page2.getLink("next")).isNull();

    Bundle type = http().parse(http().get("fhir/R4/Patient/_history?_count=500"), Bundle.class);
    assertThat(type.getEntry()).hasSizeGreaterThanOrEqualTo(4)
        .allMatch(e -> e.getResource() == null || e.getResource().fhirType().equals("Patient"));
    Bundle system = http().parse(http().get("fhir/R4/_history?_count=1"), Bundle.class);
    assertThat(system.getEntry()).hasSize(1);
    assertThat(system.getLink("next")).isNotNull();
    assertThat(http().get("fhir/R4/Patient/never-was/_history").statusCode()).isEqualTo(404);
  }

  /**
   * A create whose {@code meta.lastUpdated} (millisecond precision) no later create shares: two
   * creates within one millisecond tie on {@code _sort=_lastUpdated}, and ties are ordered by id,
   * whose random bits below the millisecond need not follow the order of creation.
   */
  private static Patient createInItsOwnMillisecond(String family) throws InterruptedException {
    Patient p = create(family);
    Instant stamped = p.getMeta().getLastUpdated().toInstant();
    while (!Instant.now().isAfter(stamped.plusMillis(1))) {
      Thread.sleep(1);
    }
    return p;
  }

  @Test
  void searchByIdLastUpdatedSortAndPaging() throws Exception {
    Instant before = Instant.now().minusSeconds(1);
    Patient a = createInItsOwnMillisecond("SearchA");
    Patient b = createInItsOwnMillisecond("SearchB");
    Patient c = createInItsOwnMillisecond("SearchC");
    String ids = a.getIdElement().getIdPart() + "," + b.getIdElement().getIdPart() + "," + c.getIdElement().getIdPart();
    Bundle byId = http().parse(http().get("fhir/R4/Patient?_id=" + ids + "&_sort=_lastUpdated&_count=2"), Bundle.class);
    // FHIR R4 search.html#total: without _total, a first page of several gives no total; the last page does
    assertThat(byId.hasTotal()).isFalse();
    assertThat(byId.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
        .containsExactly(a.getIdElement().getIdPart(), b.getIdElement().getIdPart());
    Bundle next = http().parse(http().get(byId.getLink("next").getUrl()), Bundle.class);
    assertThat(next.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
        .containsExactly(c.getIdElement().getIdPart());
    assertThat(next.getLink("self").getUrl()).contains("_id=");
    assertThat(next.getTotal()).isEqualTo(3);
    for (String mode : List.of("accurate", "estimate")) {
      Bundle counted = http().parse(http().get("fhir/R4/Patient?_id=" + ids + "&_count=2&_total=" + mode), Bundle.class);
      assertThat(counted.getTotal()).as(mode).isEqualTo(3);
      assertThat(counted.getEntry()).hasSize(2);
    }
    assertThat(http().parse(http().get("fhir/R4/Patient?_id=" + ids + "&_total=none"), Bundle.class).hasTotal()).isFalse();
    assertThat(http().get("fhir/R4/Patient?_total=exact").statusCode()).isEqualTo(400);

    Bundle desc = http().parse(http().get("fhir/R4/Patient?_id=" + ids + "&_sort=-_lastUpdated"), Bundle.class);
    assertThat(desc.getEntryFirstRep().getResource().getIdElement().getIdPart()).isEqualTo(c.getIdElement().getIdPart());

    Bundle since = http().parse(http().get("fhir/R4/Patient?_id=" + ids + "&_lastUpdated=gt" + before), Bundle.class);
    assertThat(since.getTotal()).isEqualTo(3);
    Bundle none = http().parse(http().get("fhir/R4/Patient?_id=" + ids + "&_lastUpdated=lt" + before), Bundle.class);
    assertThat(none.getTotal()).isZero();
    Bundle count = http().parse(http().get("fhir/R4/Patient?_id=" + ids + "&_summary=count"), Bundle.class);
    assertThat(count.getTotal()).isEqualTo(3);
    assertThat(count.getEntry()).isEmpty();
    assertThat(http().get("fhir/R4/Patient?_sort=nickname").statusCode()).isEqualTo(400);
    assertThat(http().get("fhir/R4/Patient?_count=abc").statusCode()).isEqualTo(400);
  }

  @Test
  void searchByIndexedTokenParameters() {
    HttpResponse<String> r = http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"identifier\":"
        + "[{\"system\":\"urn:mrn\",\"value\":\"mrn-4711\"}],\"gender\":\"female\"}");
    String id = http().parse(r, Patient.class).getIdElement().getIdPart();
    Bundle bySystem = http().parse(http().get("fhir/R4/Patient?identifier=urn:mrn%7Cmrn-4711"), Bundle.class);
    assertThat(bySystem.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly(id);
    Bundle wrongSystem = http().parse(http().get("fhir/R4/Patient?identifier=urn:other%7Cmrn-4711"), Bundle.class);
    assertThat(wrongSystem.getEntry()).isEmpty();
    HttpResponse<String> strict = http().send(http().request("fhir/R4/Patient?nonsense=1")
        .header("Prefer", "handling=strict"));
    assertThat(strict.statusCode()).isEqualTo(400);
  }

  @Test
  void searchByStringAndDateParameters() {
    String mueller = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Quästor-Müller\","
        + "\"given\":[\"Anna\"]}],\"birthDate\":\"1980-05-01\",\"address\":[{\"city\":\"Zürichsee\"}]}");
    String other = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Quästorine\"}],"
        + "\"birthDate\":\"1980-05-02\"}");

    assertThat(http().foundIds("Patient?name=quastor")).containsExactlyInAnyOrder(mueller, other);
    assertThat(http().foundIds("Patient?family=QU%C3%84STOR-M")).containsExactly(mueller);
    assertThat(http().foundIds("Patient?name:contains=muller")).containsExactly(mueller);
    assertThat(http().foundIds("Patient?name:exact=Qu%C3%A4stor-M%C3%BCller")).containsExactly(mueller);
    assertThat(http().foundIds("Patient?name:exact=qu%C3%A4stor-m%C3%BCller")).isEmpty();
    assertThat(http().foundIds("Patient?given=ann&name=quastor")).containsExactly(mueller);
    assertThat(http().foundIds("Patient?address-city=zurich")).containsExactly(mueller);
    assertThat(http().foundIds("Patient?name=quastor&birthdate=1980-05-01")).containsExactly(mueller);
    assertThat(http().foundIds("Patient?name=quastor&birthdate=1980")).containsExactlyInAnyOrder(mueller, other);
    assertThat(http().foundIds("Patient?name=quastor&birthdate=ge1980-05-02")).containsExactly(other);
    assertThat(http().foundIds("Patient?name=quastor&birthdate=gt1980-05-01")).containsExactly(other);
    assertThat(http().foundIds("Patient?name=quastor&birthdate=lt1980-05-02")).containsExactly(mueller);
    assertThat(http().foundIds("Patient?name=quastor&birthdate=le1980-05-01")).containsExactly(mueller);
    assertThat(http().foundIds("Patient?name=quastor&birthdate=ge1980-05-01&birthdate=lt1980-05-02")).containsExactly(mueller);
  }

  @Test
  void searchByReferenceTypeModifierAndPeriodDates() {
    String patient = http().create("{\"resourceType\":\"Patient\"}");
    String during = http().create("{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"period\":{\"start\":\"2024-03-10T08:00:00Z\","
        + "\"end\":\"2024-03-12T17:00:00Z\"}}");
    String open = http().create("{\"resourceType\":\"Encounter\",\"status\":\"in-progress\",\"class\":{\"code\":\"AMB\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"period\":{\"start\":\"2024-04-01T08:00:00Z\"}}");

    assertThat(http().foundIds("Encounter?subject:Patient=" + patient)).containsExactlyInAnyOrder(during, open);
    assertThat(http().foundIds("Encounter?subject=Patient/" + patient + "&date=2024-03-11")).isEmpty(); // eq: within the day
    assertThat(http().foundIds("Encounter?subject=Patient/" + patient + "&date=2024-03")).containsExactly(during);
    assertThat(http().foundIds("Encounter?subject=Patient/" + patient + "&date=ge2024-03-11")).containsExactlyInAnyOrder(
        during, open);
    assertThat(http().foundIds("Encounter?subject=Patient/" + patient + "&date=ge2025")).containsExactly(open);
    assertThat(http().foundIds("Encounter?subject=Patient/" + patient + "&date=lt2024-03-10")).isEmpty();
  }

  @Test
  void includeAndRevincludeAddReferencedAndReferencingResources() {
    String patient = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Includa\"}]}");
    String obs = http().create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"pulse\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");

    Bundle forward = http().parse(http().get("fhir/R4/Observation?_id=" + obs + "&_include=Observation:subject"),
        Bundle.class);
    assertThat(forward.getTotal()).isEqualTo(1);
    assertThat(forward.getEntry()).extracting(e -> e.getSearch().getMode().toCode() + " "
        + e.getResource().getIdElement().getResourceType() + "/" + e.getResource().getIdElement().getIdPart())
        .containsExactly("match Observation/" + obs, "include Patient/" + patient);
    assertThat(forward.getLink("self").getUrl()).contains("_include=Observation%3Asubject");

    Bundle reverse = http().parse(http().get("fhir/R4/Patient?_id=" + patient + "&_revinclude=Observation:subject"),
        Bundle.class);
    assertThat(reverse.getEntry()).extracting(e -> e.getSearch().getMode().toCode() + " "
        + e.getResource().getIdElement().getResourceType() + "/" + e.getResource().getIdElement().getIdPart())
        .containsExactly("match Patient/" + patient, "include Observation/" + obs);

    Bundle otherTarget = http().parse(http().get("fhir/R4/Observation?_id=" + obs + "&_include=Observation:subject:Group"),
        Bundle.class);
    assertThat(otherTarget.getEntry()).hasSize(1);

    for (String bad : List.of("Observation?_include=Patient:organization", "Observation?_include=Observation:code",
        "Observation?_include=*", "Observation?_include=Observation", "Observation?_include:deep=Observation:subject",
        "Patient?_revinclude=Nonsense:subject")) {
      HttpResponse<String> r = http().get("fhir/R4/" + bad);
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
    }
  }

  @Test
  void patientParametersMatchReferencesToPatientsOnly() {
    String patient = http().create("{\"resourceType\":\"Patient\"}");
    String group = http().create("{\"resourceType\":\"Group\",\"type\":\"person\",\"actual\":true}");
    String content = ",\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"title\":\"note\"}}]}";
    String forPatient = http().create("{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}" + content);
    String forGroup = http().create("{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
        + "\"subject\":{\"reference\":\"Group/" + group + "\"}" + content);
    String media = http().create("{\"resourceType\":\"Media\",\"status\":\"completed\","
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"content\":{\"contentType\":\"image/png\"}}");

    assertThat(http().foundIds("DocumentReference?patient=" + patient)).containsExactly(forPatient);
    assertThat(http().foundIds("DocumentReference?patient=Patient/" + patient)).containsExactly(forPatient);
    assertThat(http().foundIds("DocumentReference?patient=" + group)).isEmpty();
    assertThat(http().foundIds("DocumentReference?patient=Group/" + group)).as("patient names Patients only").isEmpty();
    assertThat(http().foundIds("DocumentReference?subject=" + group)).as("a bare id, any type subject may name")
        .containsExactly(forGroup);
    assertThat(http().foundIds("Media?patient=" + patient)).containsExactly(media);
    HttpResponse<String> anyType = http().get("fhir/R4/AuditEvent?entity=" + patient);
    assertThat(anyType.statusCode()).as(anyType.body()).isEqualTo(400);
    assertThat(anyType.body()).contains("entity:Type=");
  }

  @Test
  void uriParametersMatchTheWholeUriOrBelowIt() {
    String vs = http().create("{\"resourceType\":\"ValueSet\",\"status\":\"active\","
        + "\"url\":\"http://acme.example/fhir/ValueSet/Colours\"}");
    assertThat(http().foundIds("ValueSet?url=http://acme.example/fhir/ValueSet/Colours")).containsExactly(vs);
    assertThat(http().foundIds("ValueSet?url=http://acme.example/fhir/ValueSet/colours")).as("URIs are case-sensitive").isEmpty();
    assertThat(http().foundIds("ValueSet?url=http://acme.example/fhir")).isEmpty();
    assertThat(http().foundIds("ValueSet?url:below=http://acme.example/fhir/")).containsExactly(vs);
    String parent = http().create("{\"resourceType\":\"ValueSet\",\"status\":\"active\","
        + "\"url\":\"http://acme.example/fhir/\"}");
    String sibling = http().create("{\"resourceType\":\"ValueSet\",\"status\":\"active\","
        + "\"url\":\"http://acme.example/fhirbox/ValueSet\"}");
    // :above: the URLs on the path to the value (R4 search.html#uri), whole segments only
    assertThat(http().foundIds("ValueSet?url:above=http://acme.example/fhir/ValueSet/Colours/_history/1"))
        .containsExactlyInAnyOrder(vs, parent);
    assertThat(http().foundIds("ValueSet?url:above=http://acme.example/fhir/ValueSet/Colours")).contains(vs);
    assertThat(http().foundIds("ValueSet?url:above=http://acme.example/fhirbox/ValueSet/Colours"))
        .containsExactly(sibling);
    assertThat(http().foundIds("ValueSet?url:below=http://acme.example/fhir/")).containsExactlyInAnyOrder(vs, parent);
    HttpResponse<String> urn = http().get("fhir/R4/ValueSet?url:above=urn:oid:1.2.3");
    assertThat(urn.statusCode()).isEqualTo(400);
    assertThat(urn.body()).contains("'url:above' takes a URL");
    assertThat(http().get("fhir/R4/ValueSet?url:contains=acme").statusCode()).isEqualTo(400);
  }

  @Test
  void numberAndQuantityParametersCompareValuesAndUnits() {
    String pulse = http().create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"pulse\"},"
        + "\"valueQuantity\":{\"value\":72,\"unit\":\"beats/minute\",\"system\":\"http://unitsofmeasure.org\","
        + "\"code\":\"/min\"}}");
    String dose = http().create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"dose\"},"
        + "\"valueQuantity\":{\"value\":5.40,\"unit\":\"mg\"}}");
    String risk = http().create("{\"resourceType\":\"RiskAssessment\",\"status\":\"final\","
        + "\"subject\":{\"reference\":\"Patient/nobody\"},\"prediction\":[{\"probabilityDecimal\":0.85}]}");

    assertThat(http().foundIds("Observation?value-quantity=72")).containsExactly(pulse);
    assertThat(http().foundIds("Observation?value-quantity=72.4")).as("72.4 is [72.35, 72.45)").isEmpty();
    assertThat(http().foundIds("Observation?value-quantity=gt70%7Chttp://unitsofmeasure.org%7C/min")).containsExactly(pulse);
    assertThat(http().foundIds("Observation?value-quantity=gt70%7C%7Cmg")).isEmpty();
    assertThat(http().foundIds("Observation?value-quantity=5.4%7C%7Cmg")).as("the unit as written, without a code")
        .containsExactly(dose);
    assertThat(http().foundIds("Observation?value-quantity=ap80")).containsExactly(pulse);
    assertThat(http().foundIds("Observation?value-quantity=lt10&value-quantity=ge5.4")).containsExactly(dose);
    assertThat(http().foundIds("Observation?value-quantity=ne72&_id=" + pulse + "," + dose)).containsExactly(dose);
    assertThat(http().foundIds("RiskAssessment?probability=gt0.8")).containsExactly(risk);
    assertThat(http().foundIds("RiskAssessment?probability=le0.8")).isEmpty();
    assertThat(http().foundIds("Observation?value-quantity=72,5.40&_id=" + pulse + "," + dose))
        .as("commas are OR").containsExactlyInAnyOrder(pulse, dose);
    for (String bad : List.of("Observation?value-quantity=abc", "Observation?value-quantity=5,",
        "Observation?value-quantity:not=72", "RiskAssessment?probability=0.8%7C%7Cmg")) {
      assertThat(http().get("fhir/R4/" + bad).statusCode()).as(bad).isEqualTo(400);
    }
  }

  @Test
  void hasFindsResourcesThatMatchingResourcesReference() {
    String withHr = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Hasworth\"}]}");
    String withBp = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Hasworth\"}]}");
    String obs = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
        + "\"urn:has\",\"code\":\"%s\"}]},\"subject\":{\"reference\":\"Patient/%s\"}}";
    http().create(String.format(obs, "hr", withHr));
    String bp = http().create(String.format(obs, "bp", withBp));

    assertThat(http().foundIds("Patient?_has:Observation:patient:code=urn:has%7Chr")).containsExactly(withHr);
    assertThat(http().foundIds("Patient?_has:Observation:subject:code=hr")).containsExactly(withHr);
    assertThat(http().foundIds("Patient?name=hasworth&_has:Observation:patient:code=hr,bp"))
        .containsExactlyInAnyOrder(withHr, withBp);
    assertThat(http().foundIds("Patient?_has:Observation:patient:code=hr&_has:Observation:patient:code=bp")).isEmpty();
    assertThat(http().foundIds("Patient?_has:Observation:patient:subject:Patient.name=hasworth&name=hasworth"))
        .containsExactlyInAnyOrder(withHr, withBp);
    assertThat(http().delete("fhir/R4/Observation/" + bp).statusCode()).isEqualTo(200);
    assertThat(http().foundIds("Patient?_has:Observation:patient:code=bp")).as("a deleted Observation names nobody").isEmpty();

    for (String bad : List.of("Patient?_has:Observation:code:code=x", "Patient?_has:Nonsense:patient:code=x",
        "Patient?_has:Observation:patient=x", "Organization?_has:Observation:patient:code=x",
        "Patient?_has:Binary:patient:code=x", "Patient?_has:Observation:patient:nonsense=x")) {
      HttpResponse<String> r = http().get("fhir/R4/" + bad);
      assertThat(r.statusCode()).as(bad + ": " + r.body()).isEqualTo(400);
    }
  }

  @Test
  void chainedParametersFollowReferences() {
    String org = http().create("{\"resourceType\":\"Organization\",\"name\":\"Chainmakers Ltd\"}");
    String patient = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Linkley\"}],"
        + "\"identifier\":[{\"system\":\"urn:chain\",\"value\":\"c-1\"}],"
        + "\"managingOrganization\":{\"reference\":\"Organization/" + org + "\"}}");
    String other = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Linkless\"}]}");
    String obs = http().create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"hr\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
    String otherObs = http().create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"hr\"},"
        + "\"subject\":{\"reference\":\"Patient/" + other + "\"}}");

    assertThat(http().foundIds("Observation?subject:Patient.name=linkley")).containsExactly(obs);
    assertThat(http().foundIds("Observation?subject.name=link")).as("every type subject may name that has name")
        .containsExactlyInAnyOrder(obs, otherObs);
    assertThat(http().foundIds("Observation?subject:Patient.name:exact=Linkless")).containsExactly(otherObs);
    assertThat(http().foundIds("Observation?patient.identifier=urn:chain%7Cc-1")).containsExactly(obs);
    assertThat(http().foundIds("Observation?subject:Patient.organization.name=chainmakers")).containsExactly(obs);
    assertThat(http().foundIds("Observation?subject:Patient.organization.name=other")).isEmpty();
    assertThat(http().foundIds("Observation?subject:Patient.organization._id=" + org)).containsExactly(obs);

    for (String bad : List.of("Observation?code.name=x", "Observation?subject:Nonsense.name=x",
        "Observation?subject:Patient.nonsense=x", "Observation?subject:Patient.name:sounds=x",
        "Observation?subject:Patient.organization.partof.partof.name=x")) {
      HttpResponse<String> r = http().get("fhir/R4/" + bad);
      assertThat(r.statusCode()).as(bad + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("OperationOutcome");
    }
  }

  @Test
  void parametersOnChoiceElementsAreSearchable() {
    String concept = http().create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"smoker\"},"
        + "\"effectiveDateTime\":\"2031-03-01T10:00:00Z\",\"valueCodeableConcept\":{\"coding\":[{\"system\":"
        + "\"urn:choice\",\"code\":\"yes\"}]}}");
    String dated = http().create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"onset\"},"
        + "\"effectivePeriod\":{\"start\":\"2031-02-01T00:00:00Z\",\"end\":\"2031-02-03T00:00:00Z\"},"
        + "\"valueDateTime\":\"2030-12-24\"}");

    assertThat(http().foundIds("Observation?date=2031-03-01")).containsExactly(concept);
    assertThat(http().foundIds("Observation?date=ge2031-02-02&date=lt2031-03")).containsExactly(dated);
    assertThat(http().foundIds("Observation?value-concept=urn:choice%7Cyes")).containsExactly(concept);
    assertThat(http().foundIds("Observation?value-date=2030-12")).containsExactly(dated);
    assertThat(http().foundIds("Observation?value-date=2031-03-01")).as("a CodeableConcept value is no date").isEmpty();
  }

  @Test
  void unsupportedModifiersAndMalformedDatesAre400() {
    for (String query : List.of("Patient?family:not=ada", "Patient?birthdate=yesterday", "Patient?name:text=ada",
        "Observation?subject:not=Patient/1", "Patient?birthdate:exact=1980", "Patient?name=,")) {
      HttpResponse<String> r = http().get("fhir/R4/" + query);
      assertThat(r.statusCode()).as(query).isEqualTo(400);
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).as(query)
          .containsAnyOf("modifier", "prefix", "date", "value");
    }
  }

  @Test
  void searchCountIsBounded() {
    Bundle b = http().parse(http().get("fhir/R4/Patient?_count=100000"), Bundle.class);
    assertThat(b.getLink("self").getUrl()).contains("_count=1000");
  }

  private static HttpResponse<String> conditionalCreate(String json, String ifNoneExist) {
    return http().send(http().request("fhir/R4/Patient").header("Content-Type", "application/fhir+json")
        .header("If-None-Exist", ifNoneExist).POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  @Test
  void conditionalCreateThatFindsItsMatchAnswers200WithItAndCreatesNothing() {
    String json = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:cc\",\"value\":\"once\"}]}";
    HttpResponse<String> first = conditionalCreate(json, "identifier=urn:cc%7Conce");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    HttpResponse<String> second = conditionalCreate(json, "identifier=urn:cc%7Conce");
    assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
    assertThat(second.headers().firstValue("Location")).isEqualTo(first.headers().firstValue("Location"));
    assertThat(second.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(http().parse(second, Patient.class).getIdElement().getIdPart()).isEqualTo(TestClient.createdId(first));
    assertThat(http().parse(http().get("fhir/R4/Patient?identifier=urn:cc%7Conce&_summary=count"), Bundle.class)
        .getTotal()).isEqualTo(1);
  }

  @Test
  void conditionalCreateMatchingMoreThanOneIs412AndUnknownCriteriaAre400() {
    create("CondTwice");
    create("CondTwice");
    HttpResponse<String> r = conditionalCreate(patientJson("CondTwice"), "family=CondTwice");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(412);
    assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("more than one");
    assertThat(conditionalCreate(patientJson("CondTwice"), "nonsense=1").statusCode()).isEqualTo(400);
    assertThat(http().parse(http().get("fhir/R4/Patient?family=CondTwice&_summary=count"), Bundle.class).getTotal())
        .isEqualTo(2);
  }

  @Test
  void capabilityStatementDescribesWhatIsImplemented() {
    HttpResponse<String> r = http().get("fhir/R4/metadata");
    assertThat(r.statusCode()).isEqualTo(200);
    CapabilityStatement cs = http().parse(r, CapabilityStatement.class);
    assertThat(cs.getFhirVersion().toCode()).isEqualTo("4.0.1");
    CapabilityStatement.CapabilityStatementRestComponent rest = cs.getRestFirstRep();
    assertThat(rest.getInteraction()).extracting(i -> i.getCode().toCode())
        .contains("transaction", "batch", "history-system");
    CapabilityStatement.CapabilityStatementRestResourceComponent patient = rest.getResource().stream()
        .filter(x -> x.getType().equals("Patient")).findFirst().orElseThrow();
    assertThat(patient.getInteraction()).extracting(i -> i.getCode().toCode())
        .contains("read", "vread", "update", "delete", "create", "search-type", "history-instance", "history-type");
    assertThat(patient.getConditionalCreate()).isTrue();
    assertThat(patient.getSearchParam()).extracting(sp -> sp.getName() + ":" + sp.getType().toCode())
        .contains("_id:token", "_lastUpdated:date", "identifier:token", "general-practitioner:reference",
            "name:string", "address-city:string", "birthdate:date");
    assertThat(patient.getSearchInclude()).extracting(i -> i.getValue()).contains("Patient:general-practitioner")
        .doesNotContain("Patient:name");
    // _revinclude takes a reference parameter of any type; those that can name a Patient are listed
    assertThat(patient.getSearchRevInclude()).extracting(i -> i.getValue())
        .contains("Observation:subject", "Observation:patient", "Provenance:target", "Encounter:subject")
        .doesNotContain("Observation:encounter", "Patient:name");
    assertThat(cs.getPatchFormat()).extracting(c -> c.getValue()).containsExactly("application/json-patch+json",
        "application/fhir+json", "application/fhir+xml");
    CapabilityStatement.CapabilityStatementRestResourceComponent observation = rest.getResource().stream()
        .filter(x -> x.getType().equals("Observation")).findFirst().orElseThrow();
    assertThat(observation.getSearchParam()).extracting(sp -> sp.getName() + ":" + sp.getType().toCode())
        .contains("value-quantity:quantity", "patient:reference", "subject:reference", "code:token");
    CapabilityStatement.CapabilityStatementRestResourceComponent valueSet = rest.getResource().stream()
        .filter(x -> x.getType().equals("ValueSet")).findFirst().orElseThrow();
    assertThat(valueSet.getSearchParam()).extracting(sp -> sp.getName() + ":" + sp.getType().toCode())
        .contains("url:uri");
    assertThat(valueSet.getSearchParam()).filteredOn(sp -> sp.getName().equals("url")).singleElement()
        .satisfies(sp -> assertThat(sp.getDocumentation()).contains(":below", ":above"));
    assertThat(rest.getResource()).hasSizeGreaterThan(140);
    // SMART's oauth-uris extension names the authorize and token endpoints; its R4 definition has
    // no revoke or introspect (R4ValidatorTest would refuse them), smart-configuration names those.
    Extension uris = rest.getSecurity().getExtensionByUrl(
        "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
    assertThat(uris).isNotNull();
    assertThat(uris.getExtensionString("authorize")).isEqualTo(fhirbox.server().baseUrl() + "oauth2/authorize");
    assertThat(uris.getExtensionString("token")).isEqualTo(fhirbox.server().baseUrl() + "oauth2/token");
    assertThat(uris.getExtensionsByUrl("revoke")).isEmpty();
    assertThat(rest.getSecurity().getService()).extracting(c -> c.getCodingFirstRep().getCode())
        .containsExactly("SMART-on-FHIR", "Basic");
    assertThat(rest.getSecurity().getDescription()).contains("authorization code with PKCE", "client credentials",
        "system/, user/ and patient/", "OpenID Connect (ID tokens RS256)");
    CapabilityStatement.CapabilityStatementRestResourceComponent binary = rest.getResource().stream()
        .filter(x -> x.getType().equals("Binary")).findFirst().orElseThrow();
    assertThat(binary.getOperation()).extracting(o -> o.getName()).contains("presigned-url", "import");
  }

  @Test
  void unknownResourceTypeIs404NamingIt() {
    for (String path : List.of("fhir/R4/Foo/1", "fhir/R4/patient", "fhir/R4/Foo/_history")) {
      HttpResponse<String> r = http().get(path);
      assertThat(r.statusCode()).as(path).isEqualTo(404);
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("unknown resource type");
    }
  }

  @Test
  void unknownRoutesAndMethodsAnswerWithOperationOutcomes() {
    HttpResponse<String> r = http().get("fhir/R4/Patient/abc/whatever/else");
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("no route");
    HttpResponse<String> m = http().send(http().request("fhir/R4/Patient").method("PROPFIND",
        HttpRequest.BodyPublishers.noBody()));
    assertThat(m.statusCode()).isEqualTo(405);
    assertThat(List.of(http().get("nowhere").statusCode())).containsExactly(404);
  }
}
