package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The patch interaction with a FHIRPath Patch (FHIR R4 fhirpatch.html: a Parameters resource sent
 * as application/fhir+json or application/fhir+xml) over HTTP, single, conditional and as a Bundle
 * entry: each operation, the errors that name the operation, the limits, and the checks every
 * update makes (If-Match, Attachment normalisation).
 */
class FhirPathPatchTest {
  /** Small enough that a 413 for the patched resource's size costs little to provoke. */
  static final int MAX_JSON = 256 * 1024;

  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass(Map.of("FHIRBOX_MAX_JSON_BYTES", Integer.toString(MAX_JSON)));

  static TestClient http() {
    return fhirbox.http();
  }

  private static String patient(String family) {
    return TestClient.createdId(http().postJson("fhir/R4/Patient", """
        {"resourceType":"Patient","name":[{"family":"%s","given":["Ann"]}],"active":true,
         "identifier":[{"system":"urn:a","value":"a"},{"system":"urn:b","value":"b"}]}""".formatted(family)));
  }

  /** One FHIRPath Patch operation: its parts, as JSON, after the type. */
  static String op(String type, String parts) {
    return "{\"name\":\"operation\",\"part\":[{\"name\":\"type\",\"valueCode\":\"" + type + "\"}," + parts + "]}";
  }

  static String path(String path) {
    return "{\"name\":\"path\",\"valueString\":\"" + path + "\"}";
  }

  static String parameters(String... ops) {
    return "{\"resourceType\":\"Parameters\",\"parameter\":[" + String.join(",", ops) + "]}";
  }

  private static HttpResponse<String> patch(String url, String contentType, String body, String ifMatch) {
    HttpRequest.Builder b = http().request(url).header("Content-Type", contentType)
        .method("PATCH", HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    if (ifMatch != null) {
      b.header("If-Match", ifMatch);
    }
    return http().send(b);
  }

  private static HttpResponse<String> fhirPathPatch(String id, String... ops) {
    return patch("fhir/R4/Patient/" + id, "application/fhir+json", parameters(ops), null);
  }

  private static Patient current(String id) {
    return http().parse(http().get("fhir/R4/Patient/" + id), Patient.class);
  }

  private static String diagnostics(HttpResponse<String> r) {
    return http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics();
  }

  @Test
  void eachOperationAppliesAndMakesANewVersion() {
    String id = patient("Before");
    HttpResponse<String> r = fhirPathPatch(id,
        op("replace", path("Patient.name[0].family") + ",{\"name\":\"value\",\"valueString\":\"After\"}"),
        op("add", path("Patient") + ",{\"name\":\"name\",\"valueString\":\"birthDate\"},"
            + "{\"name\":\"value\",\"valueDate\":\"1980-04-02\"}"),
        // a primitive takes extensions too: they are its only child elements
        op("add", path("Patient.birthDate") + ",{\"name\":\"name\",\"valueString\":\"extension\"},{\"name\":\"value\","
            + "\"part\":[{\"name\":\"url\",\"valueUri\":\"http://example.org/approx\"},{\"name\":\"value\",\"valueBoolean\":true}]}"),
        op("delete", path("Patient.active")),
        op("delete", path("Patient.telecom")), // selects nothing: not an error (fhirpatch.html)
        op("insert", path("Patient.identifier") + ",{\"name\":\"index\",\"valueInteger\":0},"
            + "{\"name\":\"value\",\"valueIdentifier\":{\"system\":\"urn:first\",\"value\":\"first\"}}"),
        op("move", path("Patient.identifier") + ",{\"name\":\"source\",\"valueInteger\":2},"
            + "{\"name\":\"destination\",\"valueInteger\":0}"),
        // an anonymous type (Patient.contact) and an extension are given as parts (fhirpatch.html "values")
        op("add", path("Patient") + ",{\"name\":\"name\",\"valueString\":\"contact\"},{\"name\":\"value\",\"part\":["
            + "{\"name\":\"name\",\"valueHumanName\":{\"family\":\"Kin\"}},{\"name\":\"gender\",\"valueCode\":\"female\"}]}"),
        op("add", path("Patient") + ",{\"name\":\"name\",\"valueString\":\"extension\"},{\"name\":\"value\",\"part\":["
            + "{\"name\":\"url\",\"valueUri\":\"http://example.org/nick\"},{\"name\":\"value\",\"valueString\":\"Annie\"}]}"),
        op("replace", path("Patient.identifier.where(system='urn:a').value")
            + ",{\"name\":\"value\",\"valueString\":\"a2\"}"),
        op("replace", path("Patient.descendants().where(system='urn:first')")
            + ",{\"name\":\"value\",\"valueIdentifier\":{\"system\":\"urn:first\",\"value\":\"first2\"}}"));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"2\"");
    Patient p = current(id);
    assertThat(p.getNameFirstRep().getFamily()).isEqualTo("After");
    assertThat(p.getNameFirstRep().getGivenAsSingleString()).isEqualTo("Ann");
    assertThat(p.getBirthDateElement().getValueAsString()).isEqualTo("1980-04-02");
    assertThat(p.getBirthDateElement().getExtensionByUrl("http://example.org/approx").getValue().primitiveValue())
        .isEqualTo("true");
    assertThat(p.hasActive()).isFalse();
    assertThat(p.getIdentifier()).extracting(i -> i.getValue()).containsExactly("b", "first2", "a2");
    assertThat(p.getContactFirstRep().getName().getFamily()).isEqualTo("Kin");
    assertThat(p.getContactFirstRep().getGender().toCode()).isEqualTo("female");
    assertThat(p.getExtensionString("http://example.org/nick")).isEqualTo("Annie");
  }

  @Test
  void replacingAPrimitiveKeepsItsIdAndExtensionsUnlessTheNewValueHasItsOwn() {
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient", """
        {"resourceType":"Patient","birthDate":"1980-04-02",
         "_birthDate":{"id":"bd","extension":[{"url":"http://example.org/approx","valueBoolean":true}]},
         "name":[{"given":["Ann","Bo"],"_given":[null,{"extension":[{"url":"http://example.org/kept","valueString":"k"}]}]}]}"""));
    HttpResponse<String> r = fhirPathPatch(id,
        op("replace", path("Patient.birthDate") + ",{\"name\":\"value\",\"valueDate\":\"1981-05-03\"}"),
        op("replace", path("Patient.name.given[1]") + ",{\"name\":\"value\",\"valueString\":\"Bea\"}"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Patient p = current(id);
    assertThat(p.getBirthDateElement().getValueAsString()).isEqualTo("1981-05-03");
    assertThat(p.getBirthDateElement().getId()).isEqualTo("bd");
    assertThat(p.getBirthDateElement().getExtensionByUrl("http://example.org/approx").getValue().primitiveValue())
        .isEqualTo("true");
    assertThat(p.getNameFirstRep().getGiven()).extracting(g -> g.getValue()).containsExactly("Ann", "Bea");
    assertThat(p.getNameFirstRep().getGiven().get(1).getExtensionString("http://example.org/kept")).isEqualTo("k");

    // a value with extensions of its own replaces the old one whole, its extensions with it
    HttpResponse<String> own = fhirPathPatch(id, op("replace", path("Patient.birthDate")
        + ",{\"name\":\"value\",\"valueDate\":\"1982-06-04\","
        + "\"_valueDate\":{\"extension\":[{\"url\":\"http://example.org/exact\",\"valueBoolean\":true}]}}"));
    assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
    Patient after = current(id);
    assertThat(after.getBirthDateElement().getValueAsString()).isEqualTo("1982-06-04");
    assertThat(after.getBirthDateElement().hasId()).isFalse();
    assertThat(after.getBirthDateElement().getExtension()).extracting(e -> e.getUrl())
        .containsExactly("http://example.org/exact");
  }

  @Test
  void anXmlFhirPathPatchApplies() {
    String id = patient("XmlBefore");
    String xml = """
        <Parameters xmlns="http://hl7.org/fhir"><parameter><name value="operation"/>
          <part><name value="type"/><valueCode value="replace"/></part>
          <part><name value="path"/><valueString value="Patient.name.family"/></part>
          <part><name value="value"/><valueString value="XmlAfter"/></part>
        </parameter></Parameters>""";
    HttpResponse<String> r = patch("fhir/R4/Patient/" + id, "application/fhir+xml", xml, null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(current(id).getNameFirstRep().getFamily()).isEqualTo("XmlAfter");
  }

  @Test
  void aPatchThatSelectsTheWrongElementsOrValuesIs400NamingTheOperationAndChangesNothing() {
    String id = patient("Kept");
    String fine = op("replace", path("Patient.name.family") + ",{\"name\":\"value\",\"valueString\":\"Changed\"}");
    Map<String, HttpResponse<String>> refused = Map.of(
        "2 elements", fhirPathPatch(id, fine, op("replace", path("Patient.identifier")
            + ",{\"name\":\"value\",\"valueIdentifier\":{\"value\":\"x\"}}")),
        "no element", fhirPathPatch(id, fine, op("replace", path("Patient.birthDate")
            + ",{\"name\":\"value\",\"valueDate\":\"2000-01-01\"}")),
        "delete removes one", fhirPathPatch(id, fine, op("delete", path("Patient.identifier"))),
        "boolean", fhirPathPatch(id, fine, op("add", path("Patient") + ",{\"name\":\"name\",\"valueString\":\"birthDate\"},"
            + "{\"name\":\"value\",\"valueBoolean\":true}")),
        "not a date", fhirPathPatch(id, fine, op("add", path("Patient") + ",{\"name\":\"name\",\"valueString\":\"birthDate\"},"
            + "{\"name\":\"value\",\"valueString\":\"not a date\"}")),
        "index 5", fhirPathPatch(id, fine, op("insert", path("Patient.identifier") + ",{\"name\":\"index\",\"valueInteger\":5},"
            + "{\"name\":\"value\",\"valueIdentifier\":{\"value\":\"x\"}}")),
        "already has", fhirPathPatch(id, fine, op("add", path("Patient") + ",{\"name\":\"name\",\"valueString\":\"active\"},"
            + "{\"name\":\"value\",\"valueBoolean\":false}")),
        "frobnicate", fhirPathPatch(id, fine, op("frobnicate", path("Patient.active"))),
        // no type definitions: the same answer wherever the server runs (see FhirPathPatch)
        "type definitions", fhirPathPatch(id, fine, op("delete", path("Patient.name.ofType(HumanName)"))),
        "no element 'nickname'", fhirPathPatch(id, fine, op("add", path("Patient")
            + ",{\"name\":\"name\",\"valueString\":\"nickname\"},{\"name\":\"value\",\"valueString\":\"x\"}")));
    refused.forEach((expected, r) -> {
      assertThat(r.statusCode()).as(expected + ": " + r.body()).isEqualTo(400);
      assertThat(diagnostics(r)).as(expected).contains("Parameters.parameter[1]").contains(expected)
          .doesNotContain("makes the resource invalid");
    });
    // a path visits the whole resource at most once: twice would cost the square of its size
    HttpResponse<String> twice = fhirPathPatch(id, fine, op("delete",
        path("Patient.descendants().where(descendants().exists().not()).first()")));
    assertThat(twice.statusCode()).as(twice.body()).isEqualTo(400);
    assertThat(diagnostics(twice)).contains("Parameters.parameter[1]").contains("descendants() once");

    // a result that does not parse names the operation that broke it, found among several
    HttpResponse<String> invalid = fhirPathPatch(id, fine, op("add", path("Patient")
        + ",{\"name\":\"name\",\"valueString\":\"extension\"},{\"name\":\"value\",\"part\":["
        + "{\"name\":\"url\",\"valueUri\":\"http://example.org/both\"},{\"name\":\"value\",\"valueString\":\"v\"},"
        + "{\"name\":\"extension\",\"part\":[{\"name\":\"url\",\"valueUri\":\"inner\"},"
        + "{\"name\":\"value\",\"valueString\":\"w\"}]}]}"), fine);
    assertThat(invalid.statusCode()).as(invalid.body()).isEqualTo(400);
    assertThat(diagnostics(invalid)).contains("Parameters.parameter[1]").contains("makes the resource invalid")
        .contains("both a value and nested extensions");

    // the operations are applied again to find that one: an element one operation added and a later one
    // changed is added as the patch gives it, not as it was changed
    HttpResponse<String> again = fhirPathPatch(id,
        op("add", path("Patient") + ",{\"name\":\"name\",\"valueString\":\"identifier\"},"
            + "{\"name\":\"value\",\"valueIdentifier\":{\"system\":\"urn:c\",\"value\":\"v1\"}}"),
        op("replace", path("Patient.identifier.where(value='v1').value") + ",{\"name\":\"value\",\"valueString\":\"v2\"}"),
        op("add", path("Patient") + ",{\"name\":\"name\",\"valueString\":\"extension\"},{\"name\":\"value\",\"part\":["
            + "{\"name\":\"url\",\"valueUri\":\"http://example.org/both\"},{\"name\":\"value\",\"valueString\":\"v\"},"
            + "{\"name\":\"extension\",\"part\":[{\"name\":\"url\",\"valueUri\":\"inner\"}]}]}"));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(400);
    assertThat(diagnostics(again)).startsWith("Parameters.parameter[2]").contains("makes the resource invalid");

    // what the engine cannot evaluate, and regular expressions (which can take exponential time), are 400
    for (String unevaluated : List.of("Patient.name[-1]", "Patient.name.where(family.matches('(a+)+$'))")) {
      HttpResponse<String> r = fhirPathPatch(id, op("delete", path(unevaluated)));
      assertThat(r.statusCode()).as(unevaluated + ": " + r.body()).isEqualTo(400);
      assertThat(diagnostics(r)).as(unevaluated).startsWith("Parameters.parameter[0]");
    }

    HttpResponse<String> newId = fhirPathPatch(id, op("replace", path("Patient.id")
        + ",{\"name\":\"value\",\"valueId\":\"someone-else\"}"));
    assertThat(newId.statusCode()).as(newId.body()).isEqualTo(400);
    assertThat(diagnostics(newId)).contains("type or id");
    HttpResponse<String> notParameters = patch("fhir/R4/Patient/" + id, "application/fhir+json",
        "{\"resourceType\":\"Patient\"}", null);
    assertThat(notParameters.statusCode()).as(notParameters.body()).isEqualTo(400);
    assertThat(diagnostics(notParameters)).contains("Parameters");
    HttpResponse<String> otherParameter = patch("fhir/R4/Patient/" + id, "application/fhir+json",
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"op\",\"valueString\":\"x\"}]}", null);
    assertThat(otherParameter.statusCode()).as(otherParameter.body()).isEqualTo(400);
    assertThat(diagnostics(otherParameter)).contains("Parameters.parameter[0]");
    HttpResponse<String> xmlPatch = patch("fhir/R4/Patient/" + id, "application/xml-patch+xml", "<diff/>", null);
    assertThat(xmlPatch.statusCode()).as(xmlPatch.body()).isEqualTo(415);
    HttpResponse<String> binary = patch("fhir/R4/Binary/" + id, "application/fhir+json", parameters(fine), null);
    assertThat(binary.statusCode()).as(binary.body()).isEqualTo(400);

    Patient after = current(id);
    assertThat(after.getMeta().getVersionId()).isEqualTo("1");
    assertThat(after.getNameFirstRep().getFamily()).isEqualTo("Kept");
  }

  @Test
  void aPathWhoseCostCouldOutgrowTheResourceIs400AndAListOfLiteralsIsKept() {
    String id = patient("Costly");
    String selectsOnly = "could make it cost more than the resource's size";
    Map<String, String> refused = Map.ofEntries(
        // each step multiplies a text's length: a path of a few hundred characters fills the heap
        Map.entry("Patient.name.family.replace('n', 'nnnnnnnnnn').replace('n', 'nnnnnnnnnn')", selectsOnly),
        Map.entry("Patient.name.family.select($this & $this).select($this & $this)", selectsOnly),
        // never ends: each round makes a new text
        Map.entry("Patient.name.family.repeat(toString() & 'a').first()", selectsOnly),
        // a decimal of twenty million digits
        Map.entry("Patient.where((1.5).round(20000000) > 0).name.first()", selectsOnly),
        // keeps every item it sees for the whole patch
        Map.entry("Patient.descendants().trace('x').first()", selectsOnly),
        // each compares every element with every other: the square of a resource's size
        Map.entry("Patient.identifier.distinct().first()", selectsOnly),
        Map.entry("Patient.where(identifier ~ identifier).name.first()", "'~'"),
        Map.entry("(Patient.identifier | Patient.identifier).first()", "literals on its right and left"),
        Map.entry("Patient.where((identifier | 'x').count() > 0).name.first()", "literals on its right and left"),
        Map.entry("Patient.identifier.where(value in Patient.identifier.value).first()", "literals on its right"),
        // a text doubled at each step
        Map.entry("Patient.where((name.family & name.family & name.family).length() > 0).name.first()",
            "literals on its right"),
        Map.entry("Patient.identifier.where(%resource.active).first()", "no variables (%resource)"),
        Map.entry("Patient.name.where($this is HumanName).first()", "type definitions"),
        Map.entry("Patient.name" + ".first()".repeat(300), "at most 2000 characters"));
    refused.forEach((path, expected) -> {
      HttpResponse<String> r = fhirPathPatch(id, op("delete", path(path)));
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(400);
      assertThat(diagnostics(r)).as(path).startsWith("Parameters.parameter[0]").contains(expected);
    });
    HttpResponse<String> listed = fhirPathPatch(id, op("replace",
        path("Patient.identifier.where(system in ('urn:b' | 'urn:x')).value") + ",{\"name\":\"value\",\"valueString\":\"b2\"}"));
    assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
    assertThat(current(id).getIdentifier()).extracting(i -> i.getValue()).containsExactly("a", "b2");
  }

  @Test
  void aPathNeedingTypeDefinitionsOrTerminologyOrWithABadEscapeIs400() {
    String id = patient("Typed");
    Map<String, String> refused = Map.of(
        "Patient.name.where($this is HumanName)", "type definitions",
        "Patient.name.where(is(HumanName))", "type definitions",
        "Patient.name.where(($this as HumanName).exists())", "type definitions",
        "Patient.name.where(as(HumanName).exists())", "type definitions",
        "Patient.identifier.where(system.memberOf('http://example.org/vs'))", "terminology",
        "Patient.name.where(conformsTo('http://hl7.org/fhir/StructureDefinition/HumanName'))", "type definitions",
        "Patient.name.where(family = '\\\\u00')", "not a FHIRPath expression",
        "Patient.name.where(family = '\\\\u')", "not a FHIRPath expression",
        "Patient.name.where(family = '\\\\uZZZZ')", "not a FHIRPath expression");
    refused.forEach((path, expected) -> {
      HttpResponse<String> r = fhirPathPatch(id, op("delete", path(path)));
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(400);
      assertThat(diagnostics(r)).as(path).contains(expected);
    });
    assertThat(current(id).getMeta().getVersionId()).isEqualTo("1");
  }

  @Test
  void moreThanAThousandOperationsOrAResultOverTheJsonLimitIs413() {
    String id = patient("Many");
    String nothing = op("delete", path("Patient.telecom"));
    HttpResponse<String> tooMany = fhirPathPatch(id, Collections.nCopies(1001, nothing).toArray(String[]::new));
    assertThat(tooMany.statusCode()).as(tooMany.body()).isEqualTo(413);
    assertThat(diagnostics(tooMany)).contains("1001").contains("at most 1000");
    List<String> thousand = new ArrayList<>(Collections.nCopies(999, nothing));
    thousand.add(op("replace", path("Patient.name.family") + ",{\"name\":\"value\",\"valueString\":\"Fine\"}"));
    HttpResponse<String> ok = fhirPathPatch(id, thousand.toArray(String[]::new));
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);

    String big = "x".repeat(MAX_JSON / 2);
    String addText = op("add", path("Patient") + ",{\"name\":\"name\",\"valueString\":\"extension\"},{\"name\":\"value\","
        + "\"part\":[{\"name\":\"url\",\"valueUri\":\"http://example.org/big\"},{\"name\":\"value\",\"valueString\":\""
        + big + "\"}]}");
    assertThat(fhirPathPatch(id, addText).statusCode()).isEqualTo(200);
    HttpResponse<String> tooBig = fhirPathPatch(id, addText);
    assertThat(tooBig.statusCode()).as(tooBig.body()).isEqualTo(413);
    assertThat(diagnostics(tooBig)).contains("FHIRBOX_MAX_JSON_BYTES");
    assertThat(current(id).getMeta().getVersionId()).isEqualTo("3");
  }

  @Test
  void ifMatchAndAConditionalFhirPathPatchWorkAsForAJsonPatch() {
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient", """
        {"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"fp-cond-1"}],"name":[{"family":"C"}]}"""));
    String body = parameters(op("replace", path("Patient.name.family") + ",{\"name\":\"value\",\"valueString\":\"D\"}"));
    HttpResponse<String> stale = patch("fhir/R4/Patient/" + id, "application/fhir+json", body, "W/\"7\"");
    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    HttpResponse<String> conditional = patch("fhir/R4/Patient?identifier=urn:mrn%7Cfp-cond-1", "application/fhir+json",
        body, "W/\"1\"");
    assertThat(conditional.statusCode()).as(conditional.body()).isEqualTo(200);
    assertThat(conditional.headers().firstValue("Location").orElseThrow()).endsWith("/Patient/" + id + "/_history/2");
    assertThat(current(id).getNameFirstRep().getFamily()).isEqualTo("D");
    HttpResponse<String> none = patch("fhir/R4/Patient?identifier=urn:mrn%7Cnobody", "application/fhir+json", body, null);
    assertThat(none.statusCode()).as(none.body()).isEqualTo(404);
  }

  @Test
  void aTransactionEntryWhoseResourceIsParametersIsAFhirPathPatch() {
    String id = patient("TxBefore");
    String entry = """
        {"resource":%s,"request":{"method":"PATCH","url":"Patient/%s","ifMatch":"W/\\"1\\""}}""".formatted(
        parameters(op("replace", path("Patient.name.family") + ",{\"name\":\"value\",\"valueString\":\"TxAfter\"}")), id);
    HttpResponse<String> r = http().postJson("fhir/R4",
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entry + "]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Bundle.BundleEntryResponseComponent response = http().parse(r, Bundle.class).getEntryFirstRep().getResponse();
    assertThat(response.getStatus()).startsWith("200");
    assertThat(response.getEtag()).isEqualTo("W/\"2\"");
    assertThat(current(id).getNameFirstRep().getFamily()).isEqualTo("TxAfter");

    String bad = """
        {"resource":%s,"request":{"method":"PATCH","url":"Patient/%s"}}""".formatted(
        parameters(op("delete", path("Patient.identifier"))), id);
    HttpResponse<String> failed = http().postJson("fhir/R4",
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + bad + "]}");
    assertThat(failed.statusCode()).as(failed.body()).isEqualTo(400);
    assertThat(diagnostics(failed)).startsWith("Bundle.entry[0]").contains("Parameters.parameter[0]");
    assertThat(current(id).getMeta().getVersionId()).isEqualTo("2");

    // a reference to another entry's fullUrl is resolved, as in any entry's resource (R4 http.html#trules)
    String uuid = "urn:uuid:5f1a7c52-0d6e-4c1e-9b0e-2a3c4d5e6f70";
    String org = """
        {"fullUrl":"%s","resource":{"resourceType":"Organization","name":"Clinic"},
         "request":{"method":"POST","url":"Organization"}}""".formatted(uuid);
    String link = """
        {"resource":%s,"request":{"method":"PATCH","url":"Patient/%s"}}""".formatted(parameters(op("add",
        path("Patient") + ",{\"name\":\"name\",\"valueString\":\"managingOrganization\"},"
            + "{\"name\":\"value\",\"valueReference\":{\"reference\":\"" + uuid + "\"}}")), id);
    HttpResponse<String> linked = http().postJson("fhir/R4",
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + org + "," + link + "]}");
    assertThat(linked.statusCode()).as(linked.body()).isEqualTo(200);
    String orgLocation = http().parse(linked, Bundle.class).getEntryFirstRep().getResponse().getLocation();
    assertThat(orgLocation).startsWith("Organization/");
    assertThat(orgLocation).startsWith(current(id).getManagingOrganization().getReference() + "/_history/");
  }

  @Test
  void anAttachmentUrlThePatchWritesIsNormalisedAndSignedAsOnUpdate() {
    HttpResponse<String> up = http().postBytes("fhir/R4/Binary", "text/plain", "photo!".getBytes(StandardCharsets.UTF_8));
    String binaryId = http().parse(up, Binary.class).getIdElement().getIdPart();
    String id = patient("WithPhoto");
    HttpResponse<String> r = fhirPathPatch(id, op("add", path("Patient")
        + ",{\"name\":\"name\",\"valueString\":\"photo\"},{\"name\":\"value\",\"valueAttachment\":{\"url\":\""
        + fhirbox.server().fhirBase() + "/Binary/" + binaryId + "\"}}"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    var photo = current(id).getPhotoFirstRep();
    assertThat(photo.getUrl()).startsWith(fhirbox.server().baseUrl() + "storage/" + binaryId + "/1?Expires=");
    assertThat(photo.getSize()).isEqualTo(6);
    assertThat(photo.getContentType()).isEqualTo("text/plain");
  }

  @Test
  void theCapabilityStatementListsFhirPathPatchFormats() {
    CapabilityStatement cs = http().parse(http().get("fhir/R4/metadata"), CapabilityStatement.class);
    assertThat(cs.getPatchFormat()).extracting(c -> c.getValue())
        .containsExactly("application/json-patch+json", "application/fhir+json", "application/fhir+xml");
  }
}
