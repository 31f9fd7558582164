package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Searches and histories as batch entries (FHIR R4 http.html#transaction: an entry's request may
 * be any interaction), as the Medplum client's automatic batching sends them: each answers its
 * searchset or history Bundle as its resource, or its own error.
 */
class BatchSearchTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  /** The diagnostics of the outcome of {@code out}'s entry {@code i}. */
  private static String diagnostics(Bundle out, int i) {
    return ((OperationOutcome) out.getEntry().get(i).getResponse().getOutcome()).getIssueFirstRep().getDiagnostics();
  }

  private static String patient(String value) {
    return TestClient.createdId(http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"identifier\":"
        + "[{\"system\":\"urn:batch-search\",\"value\":\"" + value + "\"}]}"));
  }

  @Test
  void aBatchSearchEntryAnswersItsSearchsetAndAFailedOneItsOwnError() {
    String one = patient("one");
    patient("two");
    patient("two");
    Bundle out = http().postBundle("""
        {"resourceType":"Bundle","type":"batch","entry":[
          {"request":{"method":"GET","url":"Patient?identifier=urn:batch-search|one"}},
          {"request":{"method":"GET","url":"%s/Patient?identifier=urn:batch-search%%7Ctwo&_count=1"}},
          {"request":{"method":"GET","url":"Patient?birthdate=not-a-date"}},
          {"request":{"method":"GET","url":"Patient/%s"}},
          {"request":{"method":"GET","url":"Patient?identifier=urn:batch-search|none&_summary=count"}}
        ]}""".formatted(fhirbox.server().fhirBase(), one));

    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("200", "200", "400", "200", "200");
    Bundle first = (Bundle) out.getEntry().get(0).getResource();
    assertThat(first.getType()).isEqualTo(Bundle.BundleType.SEARCHSET);
    assertThat(first.getTotal()).isEqualTo(1);
    assertThat(first.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly(one);
    assertThat(first.getEntryFirstRep().getFullUrl()).isEqualTo(fhirbox.server().fhirBase() + "/Patient/" + one);

    Bundle second = (Bundle) out.getEntry().get(1).getResource();
    assertThat(second.getEntry()).hasSize(1);
    String next = second.getLink("next").getUrl();
    assertThat(next).startsWith(fhirbox.server().fhirBase() + "/Patient?");
    Bundle page2 = http().parse(http().get(next), Bundle.class);
    assertThat(page2.getEntry()).hasSize(1);
    assertThat(page2.getEntryFirstRep().getResource().getIdElement().getIdPart())
        .isNotEqualTo(second.getEntryFirstRep().getResource().getIdElement().getIdPart());

    assertThat(diagnostics(out, 2)).contains("not-a-date");
    assertThat(((Patient) out.getEntry().get(3).getResource()).getIdElement().getIdPart()).isEqualTo(one);
    assertThat(((Bundle) out.getEntry().get(4).getResource()).getTotal()).isZero();
  }

  @Test
  void aBatchSearchOfAnUnknownTypeIs404AndOneForASubset400ForItsEntry() {
    Bundle out = http().postBundle("""
        {"resourceType":"Bundle","type":"batch","entry":[
          {"request":{"method":"GET","url":"Nonsense?name=x"}},
          {"request":{"method":"GET","url":"Patient?_elements=name"}},
          {"request":{"method":"GET","url":"Patient"}}
        ]}""");
    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("404", "400", "200");
    assertThat(diagnostics(out, 1)).contains("_elements");
    assertThat(out.getEntry().get(2).getResource()).isInstanceOf(Bundle.class);
  }

  @Test
  void aBatchReadEntryIgnoresTheFormatItsBundleFollowsAndRefusesASubsetForItselfAlone() {
    String one = patient("read-params");
    Bundle out = http().postBundle("""
        {"resourceType":"Bundle","type":"batch","entry":[
          {"request":{"method":"GET","url":"Patient/%1$s?_format=xml"}},
          {"request":{"method":"GET","url":"Patient/%1$s/_history/1?_pretty=true&_format=application/fhir%%2Bjson"}},
          {"request":{"method":"GET","url":"Patient/%1$s?_elements=identifier"}},
          {"request":{"method":"GET","url":"Patient/%1$s?identifier=urn:batch-search|read-params"}}
        ]}""".formatted(one));
    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("200", "200", "400", "400");
    assertThat(((Patient) out.getEntry().get(0).getResource()).getIdElement().getIdPart()).isEqualTo(one);
    assertThat(((Patient) out.getEntry().get(1).getResource()).getIdentifierFirstRep().getValue())
        .isEqualTo("read-params");
    assertThat(diagnostics(out, 2)).contains("_elements").contains("send a GET of its URL");
    assertThat(diagnostics(out, 3)).contains("search criteria");
  }

  @Test
  void aBatchHistoryEntryAnswersItsHistoryBundle() {
    String id = patient("history");
    http().putJson("fhir/R4/Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"active\":true}");
    Bundle out = http().postBundle("""
        {"resourceType":"Bundle","type":"batch","entry":[
          {"request":{"method":"GET","url":"Patient/%s/_history"}},
          {"request":{"method":"GET","url":"Patient/%s/_history?_count=1"}},
          {"request":{"method":"GET","url":"Patient/_history?_count=1"}},
          {"request":{"method":"GET","url":"_history?_count=1"}},
          {"request":{"method":"GET","url":"Patient/nobody-here/_history"}},
          {"request":{"method":"GET","url":"Patient/%s/_history?_since=not-an-instant"}}
        ]}""".formatted(id, id, id));

    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("200", "200", "200", "200", "404", "400");
    Bundle all = (Bundle) out.getEntry().get(0).getResource();
    assertThat(all.getType()).isEqualTo(Bundle.BundleType.HISTORY);
    assertThat(all.getEntry()).extracting(e -> e.getResponse().getEtag()).containsExactly("W/\"2\"", "W/\"1\"");
    Bundle first = (Bundle) out.getEntry().get(1).getResource();
    assertThat(first.getEntry()).hasSize(1);
    Bundle rest = http().parse(http().get(first.getLink("next").getUrl()), Bundle.class);
    assertThat(rest.getEntry()).extracting(e -> e.getResponse().getEtag()).containsExactly("W/\"1\"");
    assertThat(((Bundle) out.getEntry().get(2).getResource()).getEntry()).hasSize(1);
    assertThat(((Bundle) out.getEntry().get(3).getResource()).getEntry()).hasSize(1);
  }

  @Test
  void anUnknownTypeIs404InEveryEntryAsOnItsOwnRouteAndMetadataAndALeadingSlashAreRead() {
    String id = patient("slash");
    Bundle out = http().postBundle("""
        {"resourceType":"Bundle","type":"batch","entry":[
          {"request":{"method":"GET","url":"Foo/1"}},
          {"request":{"method":"DELETE","url":"Foo/1"}},
          {"request":{"method":"POST","url":"Foo"},"resource":{"resourceType":"Patient"}},
          {"request":{"method":"GET","url":"metadata"}},
          {"request":{"method":"GET","url":"/Patient/%s"}},
          {"request":{"method":"GET","url":"/Patient?identifier=urn:batch-search|slash"}},
          {"request":{"method":"PUT","url":"Patient"},"resource":{"resourceType":"Patient"}}
        ]}""".formatted(id));
    assertThat(out.getEntry()).extracting(e -> e.getResponse().getStatus().substring(0, 3))
        .containsExactly("404", "404", "404", "200", "200", "200", "400");
    assertThat(diagnostics(out, 0)).startsWith("Bundle.entry[0]: ").contains("unknown resource type 'Foo'");
    assertThat(out.getEntry().get(3).getResource()).isInstanceOf(CapabilityStatement.class);
    assertThat(((Patient) out.getEntry().get(4).getResource()).getIdElement().getIdPart()).isEqualTo(id);
    assertThat(((Bundle) out.getEntry().get(5).getResource()).getTotal()).isEqualTo(1);
    assertThat(diagnostics(out, 6)).startsWith("Bundle.entry[6]: PUT needs");

    HttpResponse<String> tx = http().postJson("fhir/R4", """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient"}},
          {"request":{"method":"GET","url":"Foo/1"}}]}""");
    assertThat(tx.statusCode()).as(tx.body()).isEqualTo(404);
    assertThat(http().parse(tx, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .startsWith("Bundle.entry[1]: ");
  }
}
