package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.junit.jupiter.api.Test;

/**
 * The search parameters common to all resources (R4 search.html#all): {@code _tag} and
 * {@code _security} (tokens on {@code meta.tag} and {@code meta.security}), {@code _profile} (a
 * canonical on {@code meta.profile}) and {@code _source} (a uri on {@code meta.source}), on any
 * type, in chains and in {@code _has}. Subclasses supply the database.
 */
abstract class MetaSearchContract extends ServerPerClassContract {

  private static String patient(String meta) {
    return "{\"resourceType\":\"Patient\",\"meta\":" + meta + "}";
  }

  private int status(String query) {
    HttpResponse<String> r = http.get("fhir/R4/" + query);
    if (r.statusCode() >= 400) {
      assertThat(r.body()).as(query).contains("OperationOutcome");
    }
    return r.statusCode();
  }

  @Test
  void tagAndSecurityAreTokensInEveryForm() {
    String vip = http.create(patient("{\"tag\":[{\"system\":\"urn:tags\",\"code\":\"vip\"}],"
        + "\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-Confidentiality\",\"code\":\"R\"}]}"));
    String bare = http.create(patient("{\"tag\":[{\"code\":\"vip\"}]}"));
    String other = http.create(patient("{\"tag\":[{\"system\":\"urn:tags\",\"code\":\"plain\"}]}"));
    http.create("{\"resourceType\":\"Patient\"}");

    assertThat(http.foundIds("Patient?_tag=vip")).containsExactlyInAnyOrder(vip, bare);
    assertThat(http.foundIds("Patient?_tag=urn:tags%7Cvip")).containsExactly(vip);
    assertThat(http.foundIds("Patient?_tag=%7Cvip")).containsExactly(bare);
    assertThat(http.foundIds("Patient?_tag=urn:tags%7C")).containsExactlyInAnyOrder(vip, other);
    assertThat(http.foundIds("Patient?_tag=plain,urn:none%7Cvip")).containsExactly(other);
    assertThat(http.foundIds("Patient?_tag=nothing")).isEmpty();
    assertThat(http.foundIds("Patient?_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality%7CR"))
        .containsExactly(vip);
    assertThat(http.foundIds("Patient?_security=R&_tag=vip")).containsExactly(vip);
    assertThat(http.foundIds("Patient?_security=vip")).isEmpty();
  }

  @Test
  void profileMatchesTheCanonicalExactlyAndAVersionOnlyWhenAsked() {
    String sd = "http://example.org/fhir/StructureDefinition/bp";
    String unversioned = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"bp\"},"
        + "\"meta\":{\"profile\":[\"" + sd + "\"]}}");
    String v1 = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"bp\"},"
        + "\"meta\":{\"profile\":[\"" + sd + "|1.0\"]}}");
    String longer = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"bp\"},"
        + "\"meta\":{\"profile\":[\"" + sd + "-child\"]}}");

    assertThat(http.foundIds("Observation?_profile=" + sd)).containsExactlyInAnyOrder(unversioned, v1);
    assertThat(http.foundIds("Observation?_profile=" + sd + "%7C1.0")).containsExactly(v1);
    assertThat(http.foundIds("Observation?_profile=" + sd + "%7C2.0")).isEmpty();
    assertThat(http.foundIds("Observation?_profile=" + sd + "-child")).containsExactly(longer);
    assertThat(http.foundIds("Observation?_profile=http://example.org/fhir/StructureDefinition/BP")).isEmpty();
  }

  @Test
  void sourceIsAUriMatchedAsWritten() {
    String a = http.create(patient("{\"source\":\"http://ehr.example/fhir#abc\"}"));
    http.create(patient("{\"source\":\"http://ehr.example/fhir#abcd\"}"));

    assertThat(http.foundIds("Patient?_source=http://ehr.example/fhir%23abc")).containsExactly(a);
    assertThat(http.foundIds("Patient?_source=http://ehr.example/")).isEmpty();
  }

  @Test
  void everyTypeHasThemAndChainsAndHasReachThem() {
    String tagged = http.create(patient("{\"tag\":[{\"system\":\"urn:tags\",\"code\":\"study\"}]}"));
    String untagged = http.create("{\"resourceType\":\"Patient\"}");
    String onTagged = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/" + tagged + "\"},\"meta\":{\"security\":[{\"code\":\"HTEST\"}]}}");
    http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/" + untagged + "\"}}");
    String basic = http.create("{\"resourceType\":\"Basic\",\"code\":{\"text\":\"b\"},"
        + "\"meta\":{\"tag\":[{\"code\":\"study\"}],\"source\":\"urn:uuid:5e6b0f6c-1d0c-4f5a-9c3e-7a1d2f0b9c11\"}}");

    assertThat(http.foundIds("Observation?subject:Patient._tag=urn:tags%7Cstudy")).containsExactly(onTagged);
    assertThat(http.foundIds("Observation?patient._tag=study")).containsExactly(onTagged);
    assertThat(http.foundIds("Patient?_has:Observation:subject:_security=HTEST")).containsExactly(tagged);
    assertThat(http.foundIds("Basic?_tag=study")).containsExactly(basic);
    assertThat(http.foundIds("Basic?_source=urn:uuid:5e6b0f6c-1d0c-4f5a-9c3e-7a1d2f0b9c11")).containsExactly(basic);
  }

  @Test
  void theyFilterWithoutStrictHandlingAndUnsupportedModifiersAre400() {
    http.create(patient("{\"tag\":[{\"code\":\"kept\"}]}"));
    http.create("{\"resourceType\":\"Patient\"}");

    assertThat(http.foundIds("Patient?_tag=absent")).isEmpty();
    assertThat(http.foundIds("Patient?_profile=http://absent.example/sd")).isEmpty();
    assertThat(http.foundIds("Patient?_security=absent")).isEmpty();
    assertThat(http.foundIds("Patient?_source=urn:absent")).isEmpty();
    for (String q : List.of("Patient?_tag:not=%7C", "Patient?_security:missing=maybe",
        "Patient?_tag:of-type=a%7Cb%7Ckept", "Patient?_tag=%7C", "Patient?_profile:contains=http://absent.example/sd")) {
      assertThat(status(q)).as(q).isEqualTo(400);
    }
  }

  /**
   * {@code :missing} (R4 search.html#modifiers) on the common parameters as on the others: the
   * resources with no value (true) or with one (false), current versions only.
   */
  @Test
  void missingFindsTheResourcesWithoutOrWithAValue() {
    String key = http.create("{\"resourceType\":\"Patient\"}");
    String id = "identifier=urn:missing%7C" + key + "&";
    String patient = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:missing\",\"value\":\""
        + key + "\"}]";
    String tagged = http.create(patient + ",\"meta\":{\"tag\":[{\"code\":\"t\"}],\"profile\":[\"http://x/sd\"]},"
        + "\"name\":[{\"given\":[\"Eve\"]}],\"birthDate\":\"1970\"}");
    String plain = http.create(patient + "}");

    for (String param : List.of("_tag", "_profile", "name", "birthdate")) {
      assertThat(http.foundIds("Patient?" + id + param + ":missing=true")).as(param).containsExactly(plain);
      assertThat(http.foundIds("Patient?" + id + param + ":missing=false")).as(param).containsExactly(tagged);
    }
    assertThat(http.foundIds("Patient?" + id + "_security:missing=false")).isEmpty();
    assertThat(http.foundIds("Patient?" + id + "_tag:missing=false&_tag=t&_total=accurate&_count=1"))
        .containsExactly(tagged);
    // a value only an older version had does not count
    String updated = patient.replace("{\"resourceType\":\"Patient\"", "{\"resourceType\":\"Patient\",\"id\":\""
        + tagged + "\"") + "}";
    assertThat(http.putJson("fhir/R4/Patient/" + tagged, updated).statusCode()).isEqualTo(200);
    assertThat(http.foundIds("Patient?" + id + "_tag:missing=true")).containsExactlyInAnyOrder(tagged, plain);
    assertThat(http.foundIds("Patient?" + id + "_tag:missing=false")).isEmpty();
  }

  /**
   * {@code :not} on a token (R4 search.html#token): the resources with no value that matches, those
   * with no value at all among them; commas are values none of which may match.
   */
  @Test
  void notFindsTheResourcesWithoutAMatchingToken() {
    String key = http.create("{\"resourceType\":\"Patient\"}");
    String id = "identifier=urn:not%7C" + key + "&";
    String patient = "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:not\",\"value\":\""
        + key + "\"}]";
    String vip = http.create(patient + ",\"gender\":\"female\",\"meta\":{\"tag\":[{\"system\":\"urn:tags\","
        + "\"code\":\"vip\"},{\"code\":\"new\"}]}}");
    String plain = http.create(patient + ",\"gender\":\"male\",\"meta\":{\"tag\":[{\"code\":\"new\"}]}}");
    String bare = http.create(patient + "}");

    assertThat(http.foundIds("Patient?" + id + "_tag:not=vip")).containsExactlyInAnyOrder(plain, bare);
    assertThat(http.foundIds("Patient?" + id + "_tag:not=urn:tags%7Cvip")).containsExactlyInAnyOrder(plain, bare);
    assertThat(http.foundIds("Patient?" + id + "_tag:not=urn:other%7Cvip")).containsExactlyInAnyOrder(vip, plain, bare);
    assertThat(http.foundIds("Patient?" + id + "_tag:not=vip,new")).containsExactly(bare);
    assertThat(http.foundIds("Patient?" + id + "_tag:not=new&_tag=vip")).isEmpty();
    assertThat(http.foundIds("Patient?" + id + "gender:not=male")).containsExactlyInAnyOrder(vip, bare);
    assertThat(http.foundIds("Patient?" + id + "gender:not=male&_sort=gender")).containsExactly(vip, bare);
    assertThat(http.foundIds("Patient?" + id + "_security:not=R")).containsExactlyInAnyOrder(vip, plain, bare);
    String obs = http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/" + plain + "\"}}");
    assertThat(http.foundIds("Observation?_id=" + obs + "&subject:Patient.gender:not=female")).containsExactly(obs);
    assertThat(http.foundIds("Observation?_id=" + obs + "&subject:Patient.gender:not=male")).isEmpty();
    assertThat(http.foundIds("Patient?" + id + "_has:Observation:subject:status:not=amended")).containsExactly(plain);
    assertThat(http.foundIds("Patient?" + id + "_has:Observation:subject:status:not=final")).isEmpty();
    assertThat(status("Observation?subject:not=Patient/" + plain)).isEqualTo(400);
    assertThat(status("Patient?_id:not=" + plain)).isEqualTo(400);
  }

  @Test
  void theCapabilityStatementListsThemForEveryType() {
    CapabilityStatement cs = http.parse(http.get("fhir/R4/metadata"), CapabilityStatement.class);
    for (CapabilityStatement.CapabilityStatementRestResourceComponent r : cs.getRestFirstRep().getResource()) {
      Map<String, String> kinds = new HashMap<>();
      r.getSearchParam().forEach(p -> kinds.put(p.getName(), p.getType().toCode()));
      assertThat(kinds).as(r.getType()).containsEntry("_tag", "token").containsEntry("_security", "token")
          .containsEntry("_profile", "uri").containsEntry("_source", "uri");
    }
  }
}
