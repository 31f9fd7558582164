package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A read or vread entry of a batch or transaction with {@code request.ifNoneMatch} or
 * {@code request.ifModifiedSince} (FHIR R4 http.html#transaction, "for managing cache currency")
 * is a conditional read: its entry answers {@code 304 Not Modified}, with its {@code etag} and
 * {@code lastModified} and no resource, exactly where a single read with {@code If-None-Match} or
 * {@code If-Modified-Since} answers 304. A search or history entry is answered whole, as a single
 * search or history is.
 */
class BundleConditionalReadTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  /** A GET entry of {@code url} with the request elements {@code conditions} (JSON members, or empty). */
  private static String get(String url, String conditions) {
    return "{\"request\":{\"method\":\"GET\",\"url\":\"" + url + "\"" + (conditions.isEmpty() ? "" : "," + conditions)
        + "}}";
  }

  private static String bundle(String type, List<String> entries) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + String.join(",", entries) + "]}";
  }

  private static String status(BundleEntryComponent e) {
    return e.getResponse().getStatus();
  }

  @Test
  void aReadEntryWhoseConditionHoldsIs304WithoutTheResourceAsASingleReadIs() {
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    HttpResponse<String> updated = http().putJson("fhir/R4/Patient/" + id,
        "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"active\":true}");
    String lastUpdated = http().parse(updated, Patient.class).getMeta().getLastUpdatedElement().getValueAsString();
    String path = "Patient/" + id;
    // each: the entry's condition, and the header a single read sends for it
    List<String[]> cases = List.of(
        new String[] {path, "\"ifNoneMatch\":\"W/\\\"2\\\"\"", "If-None-Match", "W/\"2\""},
        new String[] {path, "\"ifNoneMatch\":\"W/\\\"1\\\"\"", "If-None-Match", "W/\"1\""},
        new String[] {path + "/_history/1", "\"ifNoneMatch\":\"W/\\\"1\\\"\"", "If-None-Match", "W/\"1\""},
        new String[] {path, "\"ifNoneMatch\":\"*\"", "If-None-Match", "*"},
        new String[] {path, "\"ifNoneMatch\":\"W/\\\"1\\\", W/\\\"2\\\"\"", "If-None-Match", "W/\"1\", W/\"2\""},
        new String[] {path, "\"ifNoneMatch\":\"2\"", "If-None-Match", "2"},
        new String[] {path, "\"ifModifiedSince\":\"" + lastUpdated + "\"", null, null},
        new String[] {path, "\"ifModifiedSince\":\"2000-01-01T00:00:00Z\"", "If-Modified-Since",
            "Sat, 01 Jan 2000 00:00:00 GMT"});
    Bundle out = http().postBundle(bundle("batch", cases.stream().map(c -> get(c[0], c[1])).toList()));
    assertThat(out.getEntry()).extracting(BundleConditionalReadTest::status).containsExactly(
        "304 Not Modified", "200 OK", "304 Not Modified", "304 Not Modified", "304 Not Modified", "200 OK",
        "304 Not Modified", "200 OK");
    for (int i = 0; i < cases.size(); i++) {
      BundleEntryComponent e = out.getEntry().get(i);
      boolean notModified = status(e).startsWith("304");
      assertThat(e.hasResource()).as("entry " + i).isEqualTo(!notModified);
      assertThat(e.getResponse().getEtag()).as("entry " + i).isEqualTo(i == 2 ? "W/\"1\"" : "W/\"2\"");
      assertThat(e.getResponse().hasLastModified()).as("entry " + i).isTrue();
      if (cases.get(i)[2] != null) {
        HttpResponse<String> single = http().send(http().request("fhir/R4/" + cases.get(i)[0])
            .header(cases.get(i)[2], cases.get(i)[3]));
        assertThat(single.statusCode()).as("the single read of entry " + i).isEqualTo(notModified ? 304 : 200);
      }
    }
    // the single read's If-Modified-Since is the Last-Modified it was sent, of whole seconds
    String lastModified = http().get("fhir/R4/" + path).headers().firstValue("Last-Modified").orElseThrow();
    assertThat(http().send(http().request("fhir/R4/" + path).header("If-Modified-Since", lastModified))
        .statusCode()).isEqualTo(304);

    // ifModifiedSince counts only without ifNoneMatch, as If-Modified-Since does (RFC 9110 §13.1.3)
    Bundle both = http().postBundle(bundle("transaction", List.of(
        get(path, "\"ifNoneMatch\":\"W/\\\"7\\\"\",\"ifModifiedSince\":\"" + lastUpdated + "\""),
        get(path, "\"ifNoneMatch\":\"W/\\\"2\\\"\""))));
    assertThat(both.getEntry()).extracting(BundleConditionalReadTest::status)
        .containsExactly("200 OK", "304 Not Modified");
    assertThat(both.getEntry().get(1).hasResource()).isFalse();
  }

  /**
   * A read or vread entry's {@code request.ifMatch} holds as a single read's {@code If-Match}
   * does, by the same rule: 412 unless it is {@code *} or a member of its list names the version
   * read (a vread's, not the current one), judged before {@code ifNoneMatch}. A batch entry
   * answers its own 412; a transaction fails with it as a whole, as with a PUT entry's.
   */
  @Test
  void aReadEntrysIfMatchHoldsAsASingleReadsIfMatch() {
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    http().putJson("fhir/R4/Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"active\":true}");
    String path = "Patient/" + id;
    String v1 = path + "/_history/1";
    // each: the URL, the If-Match, and the status a single read answers
    List<String[]> cases = List.of(new String[] {path, "W/\"2\"", "200"}, new String[] {path, "W/\"1\"", "412"},
        new String[] {v1, "W/\"1\"", "200"}, new String[] {v1, "W/\"2\"", "412"}, new String[] {path, "*", "200"},
        new String[] {path, "W/\"1\", W/\"2\"", "200"}, new String[] {v1, "W/\"2\", W/\"3\"", "412"},
        new String[] {path, "\"x\"", "412"}, new String[] {path, "  ", "200"});
    Bundle out = http().postBundle(bundle("batch", cases.stream()
        .map(c -> get(c[0], "\"ifMatch\":\"" + c[1].replace("\"", "\\\"") + "\"")).toList()));
    for (int i = 0; i < cases.size(); i++) {
      String[] c = cases.get(i);
      HttpResponse<String> single = http().send(http().request("fhir/R4/" + c[0]).header("If-Match", c[1]));
      assertThat(single.statusCode()).as("the single read of case " + i).isEqualTo(Integer.parseInt(c[2]));
      BundleEntryComponent e = out.getEntry().get(i);
      assertThat(status(e)).as("entry " + i).startsWith(c[2]);
      assertThat(e.hasResource()).as("entry " + i).isEqualTo(c[2].equals("200"));
    }
    assertThat(out.getEntry().get(1).getResponse().getOutcome()).isNotNull();
    // If-Match before If-None-Match (RFC 9110 §13.2.2): the 412 wins over a 304
    Bundle both = http().postBundle(bundle("batch", List.of(get(path, "\"ifMatch\":\"W/\\\"1\\\"\",\"ifNoneMatch\":\"*\""),
        get(path, "\"ifMatch\":\"W/\\\"2\\\"\",\"ifNoneMatch\":\"*\""))));
    assertThat(both.getEntry()).extracting(BundleConditionalReadTest::status)
        .containsExactly("412 Precondition Failed", "304 Not Modified");

    // a transaction fails as a whole, its writes undone
    String create = "{\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:read-if-match\","
        + "\"value\":\"1\"}]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}";
    HttpResponse<String> failed = http().postJson("fhir/R4", bundle("transaction",
        List.of(create, get(v1, "\"ifMatch\":\"W/\\\"2\\\"\""))));
    assertThat(failed.statusCode()).as(failed.body()).isEqualTo(412);
    assertThat(http().parse(failed, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .startsWith("Bundle.entry[1]");
    assertThat(http().foundIds("Patient?identifier=urn:read-if-match%7C1")).isEmpty();
    Bundle held = http().postBundle(bundle("transaction", List.of(create, get(v1, "\"ifMatch\":\"W/\\\"1\\\"\""))));
    assertThat(held.getEntry()).extracting(BundleConditionalReadTest::status)
        .containsExactly("201 Created", "200 OK");
  }

  /**
   * An {@code ifModifiedSince} of milliseconds, as {@code meta.lastUpdated} and
   * {@code response.lastModified} have it, tells a version written later in the same second: that
   * entry is read, not 304. One of whole seconds is judged at whole seconds, as a single read's.
   */
  @Test
  void anIfModifiedSinceOfMillisecondsSeesALaterVersionOfItsSecond() {
    Patient first = null;
    Patient second = null;
    // two versions in one second: each attempt writes two within milliseconds of each other
    for (int i = 0; i < 20 && (second == null || !sameSecond(first, second)); i++) {
      HttpResponse<String> created = http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}");
      first = http().parse(created, Patient.class);
      String id = TestClient.createdId(created);
      second = http().parse(http().putJson("fhir/R4/Patient/" + id,
          "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"active\":true}"), Patient.class);
    }
    assertThat(sameSecond(first, second)).isTrue();
    String path = "Patient/" + second.getIdElement().getIdPart();
    Bundle out = http().postBundle(bundle("batch", List.of(
        get(path, "\"ifModifiedSince\":\"" + first.getMeta().getLastUpdatedElement().getValueAsString() + "\""),
        get(path, "\"ifModifiedSince\":\"" + second.getMeta().getLastUpdatedElement().getValueAsString() + "\""),
        // the start of that second, written to the millisecond (.000) and without a fraction
        get(path, "\"ifModifiedSince\":\"" + startOfSecond(second) + ".000Z\""),
        get(path, "\"ifModifiedSince\":\"" + startOfSecond(second) + "Z\""))));
    assertThat(out.getEntry()).extracting(BundleConditionalReadTest::status)
        .containsExactly("200 OK", "304 Not Modified", "200 OK", "304 Not Modified");
    assertThat(out.getEntry().get(0).getResponse().getEtag()).isEqualTo("W/\"2\"");
  }

  private static String startOfSecond(Patient p) {
    return p.getMeta().getLastUpdated().toInstant().truncatedTo(ChronoUnit.SECONDS).toString().replace("Z", "");
  }

  private static boolean sameSecond(Patient a, Patient b) {
    Instant x = a.getMeta().getLastUpdated().toInstant();
    Instant y = b.getMeta().getLastUpdated().toInstant();
    return x.isBefore(y) && x.truncatedTo(ChronoUnit.SECONDS).equals(y.truncatedTo(ChronoUnit.SECONDS));
  }

  /**
   * What a single read answers whole whatever its conditions, a Binary's JSON (its signed url) and
   * a resource whose Attachment names a Binary, an entry answers whole; and a search or history
   * entry is no conditional read, as a single search or history is none.
   */
  @Test
  void entriesASingleGetAnswersWholeAreAnsweredWhole() {
    String binary = TestClient.createdId(http().postBytes("fhir/R4/Binary", "text/plain", "hello".getBytes()));
    String doc = TestClient.createdId(http().postJson("fhir/R4/DocumentReference", """
        {"resourceType":"DocumentReference","status":"current",
         "content":[{"attachment":{"contentType":"text/plain","url":"Binary/%s"}}]}""".formatted(binary)));
    String patient = TestClient.createdId(http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\"}"));
    String any = "\"ifNoneMatch\":\"*\"";
    Bundle out = http().postBundle(bundle("batch", List.of(get("Binary/" + binary, any), get("DocumentReference/" + doc, any),
        get("Patient?_id=" + patient, any), get("Patient/" + patient + "/_history", any),
        get("Patient?_id=" + patient, "\"ifModifiedSince\":\"2999-01-01T00:00:00Z\""))));
    assertThat(out.getEntry()).extracting(BundleConditionalReadTest::status).containsOnly("200 OK");
    assertThat(out.getEntry()).allMatch(BundleEntryComponent::hasResource);
    assertThat(((Bundle) out.getEntry().get(2).getResource()).getTotal()).isEqualTo(1);
    for (String path : List.of("Binary/" + binary, "DocumentReference/" + doc)) {
      assertThat(http().send(http().request("fhir/R4/" + path).header("Accept", "application/fhir+json")
          .header("If-None-Match", "*")).statusCode()).as(path).isEqualTo(200);
    }
    assertThat(http().send(http().request("fhir/R4/Patient?_id=" + patient).header("If-None-Match", "*"))
        .statusCode()).isEqualTo(200);
  }
}
