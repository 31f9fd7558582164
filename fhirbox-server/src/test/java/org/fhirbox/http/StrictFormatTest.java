package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bodies that break the FHIR R4 JSON or XML format, or carry numbers beyond the documented
 * limits or unsafe narrative, are refused with a 400 naming the problem on create, on update and
 * inside a transaction Bundle, and nothing is stored. An Accept that names no FHIR format is 406.
 */
class StrictFormatTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  static String diagnostics(HttpResponse<String> r) {
    OperationOutcome oo = http().parse(r, OperationOutcome.class);
    return String.join(" | ", oo.getIssue().stream().map(OperationOutcome.OperationOutcomeIssueComponent::getDiagnostics)
        .toList());
  }

  static int total(String type) {
    return http().parse(http().get("fhir/R4/" + type + "?_summary=count"), Bundle.class).getTotal();
  }

  static final String DIV = "<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">";

  /** A resource (JSON, beginning {"resourceType":"T") and what the 400 must say. */
  static Stream<Arguments> badJson() {
    return Stream.of(
        Arguments.of("decimal with 1,001 digits of exponent",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"valueQuantity\":{\"value\":1e1001}}", "out of range"),
        Arguments.of("decimal 1e999999",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"valueQuantity\":{\"value\":1e999999}}", "out of range"),
        Arguments.of("decimal with 101 significant digits",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"valueQuantity\":{\"value\":1." + "3".repeat(100) + "}}", "101 significant digits"),
        Arguments.of("extension valueDecimal 1e1001",
            "{\"resourceType\":\"Patient\",\"extension\":[{\"url\":\"http://example.org/x\",\"valueDecimal\":1e1001}]}",
            "out of range"),
        Arguments.of("empty array of a known element", "{\"resourceType\":\"Patient\",\"name\":[]}", "empty array"),
        Arguments.of("empty array of an unknown element", "{\"resourceType\":\"Patient\",\"nmae\":[]}", "empty array"),
        Arguments.of("array of an empty object", "{\"resourceType\":\"Patient\",\"name\":[{}]}", "empty object"),
        Arguments.of("null value", "{\"resourceType\":\"Patient\",\"active\":null}", "null"),
        Arguments.of("empty string", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\"}]}",
            "name[0].family: an empty string"),
        Arguments.of("empty string in a repeating primitive",
            "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"Ada\",\"\"]}]}", "an empty string"),
        Arguments.of("null in an array without extensions",
            "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a\",null]}]}", "null in an array"),
        Arguments.of("string for a boolean", "{\"resourceType\":\"Patient\",\"active\":\"true\"}",
            "a boolean must be JSON true or false"),
        Arguments.of("string for a number",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"valueQuantity\":{\"value\":\"5\"}}", "a decimal must be a JSON number"),
        Arguments.of("number for a string", "{\"resourceType\":\"Patient\",\"gender\":1}",
            "a code must be a JSON string"),
        Arguments.of("array in an extension array", "{\"resourceType\":\"Patient\",\"extension\":[[\"x\"]]}",
            "extension[0]: an array inside an array"),
        Arguments.of("null in an extension array", "{\"resourceType\":\"Patient\",\"extension\":[null]}",
            "extension"),
        Arguments.of("string in an extension array", "{\"resourceType\":\"Patient\",\"extension\":[\"x\"]}",
            "extension[0]: an Extension must be a JSON object, not the string \"x\""),
        Arguments.of("number in a modifierExtension array",
            "{\"resourceType\":\"Patient\",\"modifierExtension\":[1]}",
            "modifierExtension[0]: an Extension must be a JSON object, not the number 1"),
        Arguments.of("array in an element's extension array",
            "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"a\",\"extension\":[[\"x\"]]}]}",
            "name[0].extension[0]: an array inside an array"),
        Arguments.of("string in a contained resource's extension array",
            "{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":\"Practitioner\",\"id\":\"p1\","
                + "\"extension\":[\"x\"]}],\"generalPractitioner\":[{\"reference\":\"#p1\"}]}",
            "contained[0].extension[0]: an Extension must be a JSON object"),
        Arguments.of("string in a primitive's extension array",
            "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a\"],\"_given\":[{\"extension\":[\"x\"]}]}]}",
            "name[0]._given[0].extension[0]: an Extension must be a JSON object"),
        Arguments.of("array in a primitive's extras array",
            "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a\"],\"_given\":[[\"x\"]]}]}",
            "name[0]._given[0]: an array inside an array"),
        Arguments.of("array for an element that does not repeat", "{\"resourceType\":\"Patient\",\"gender\":[\"male\"]}",
            "gender: an array, but the element does not repeat"),
        Arguments.of("extension with two values",
            "{\"resourceType\":\"Patient\",\"extension\":[{\"url\":\"http://x\",\"valueString\":\"a\","
                + "\"valueBoolean\":true}]}",
            "extension[0].valueBoolean: value[x] is given twice, as valueString and valueBoolean"),
        Arguments.of("positiveInt 0", "{\"resourceType\":\"Patient\",\"contact\":[{\"name\":{\"family\":\"a\"},"
                + "\"extension\":[{\"url\":\"http://x\",\"valuePositiveInt\":0}]}]}",
            "0 is not an R4 positiveInt (1..2147483647)"),
        Arguments.of("integer beyond 32 bits", "{\"resourceType\":\"Patient\",\"multipleBirthInteger\":99999999999999999999}",
            "multipleBirthInteger: 99999999999999999999 is not an R4 integer (-2147483648..2147483647)"),
        Arguments.of("string for a boolean in an extension",
            "{\"resourceType\":\"Patient\",\"extension\":[{\"url\":\"http://example.org/x\",\"valueBoolean\":\"true\"}]}",
            "a boolean must be JSON true or false"),
        Arguments.of("string for an integer in a primitive's extension",
            "{\"resourceType\":\"Patient\",\"active\":true,\"_active\":{\"extension\":[{\"url\":\"http://example.org/x\","
                + "\"valueInteger\":\"3\"}]}}", "an integer must be a JSON number"),
        Arguments.of("string for a boolean in a contained resource",
            "{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":\"Practitioner\",\"id\":\"p1\","
                + "\"active\":\"false\"}],\"generalPractitioner\":[{\"reference\":\"#p1\"}]}",
            "contained[0].active: a boolean must be JSON true or false"),
        Arguments.of("fraction for an integer",
            "{\"resourceType\":\"Patient\",\"multipleBirthInteger\":2.5}", "whole number"),
        Arguments.of("duplicate key", "{\"resourceType\":\"Patient\",\"active\":true,\"active\":false}",
            "Duplicate field 'active'"),
        Arguments.of("escaped NUL", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"a\\u0000b\"}]}", "U+0000"),
        Arguments.of("lone surrogate", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"a\\ud800b\"}]}",
            "unpaired surrogate"),
        Arguments.of("narrative script",
            "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":\"" + DIV
                + "<script>alert(1)</script></div>\"}}", "<script>"),
        Arguments.of("narrative event handler",
            "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":\"" + DIV
                + "<img src=\\\"x.png\\\" onerror=\\\"alert(1)\\\"/></div>\"}}", "onerror"),
        Arguments.of("narrative javascript URL",
            "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\",\"div\":\"" + DIV
                + "<a href=\\\" java\\tscript:alert(1)\\\">x</a></div>\"}}", "javascript:"),
        Arguments.of("narrative script in a contained resource",
            "{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":\"Practitioner\",\"id\":\"p1\","
                + "\"text\":{\"status\":\"generated\",\"div\":\"" + DIV + "<script>x()</script></div>\"}}],"
                + "\"generalPractitioner\":[{\"reference\":\"#p1\"}]}", "<script>"),
        Arguments.of("instant without a time",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"issued\":\"2020-01-01\"}", "issued: '2020-01-01' is not an R4 instant"),
        Arguments.of("instant without a time zone",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"issued\":\"2020-01-01T10:00:00\"}", "issued: '2020-01-01T10:00:00' is not an R4 instant"),
        Arguments.of("dateTime with a time but no time zone",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"effectiveDateTime\":\"2020-01-01T10:00:00\"}",
            "effectiveDateTime: '2020-01-01T10:00:00' is not an R4 dateTime: a time needs a time zone"),
        Arguments.of("dateTime without seconds",
            "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"effectiveDateTime\":\"2020-01-01T10:00Z\"}", "is not an R4 dateTime"),
        Arguments.of("extension valueDateTime without a time zone",
            "{\"resourceType\":\"Patient\",\"extension\":[{\"url\":\"http://example.org/x\","
                + "\"valueDateTime\":\"2020-01-01T10:00:00.5\"}]}", "valueDateTime: '2020-01-01T10:00:00.5' is not"),
        Arguments.of("narrative script in a nested Composition section",
            "{\"resourceType\":\"Composition\",\"status\":\"final\",\"type\":{\"text\":\"note\"},"
                + "\"date\":\"2026-12-04\",\"author\":[{\"display\":\"A\"}],\"title\":\"t\",\"section\":[{"
                + "\"title\":\"outer\",\"section\":[{\"title\":\"inner\",\"text\":{\"status\":\"generated\","
                + "\"div\":\"" + DIV + "<iframe src=\\\"https://example.org/\\\"></iframe></div>\"}}]}]}",
            "Composition.section.section.text.div"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badJson")
  void badJsonIsRefusedOnCreateUpdateAndInTransactions(String name, String resource, String expected) {
    String type = resource.substring("{\"resourceType\":\"".length(), resource.indexOf('"', 17));
    int before = total(type);

    HttpResponse<String> created = http().postJson("fhir/R4/" + type, resource);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(400);
    assertThat(diagnostics(created)).contains(expected).doesNotContain("java.", "Exception", "HAPI-");

    String withId = resource.replaceFirst("\\{\"resourceType\":\"" + type + "\"",
        "{\"resourceType\":\"" + type + "\",\"id\":\"strict1\"");
    HttpResponse<String> updated = http().putJson("fhir/R4/" + type + "/strict1", withId);
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(400);
    assertThat(diagnostics(updated)).contains(expected);

    String tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":" + resource
        + ",\"request\":{\"method\":\"POST\",\"url\":\"" + type + "\"}}]}";
    HttpResponse<String> inBundle = http().postJson("fhir/R4", tx);
    assertThat(inBundle.statusCode()).as(inBundle.body()).isEqualTo(400);
    // in a Bundle, a path names the entry the resource is in
    assertThat(diagnostics(inBundle)).contains(expected.startsWith(type + ".")
        ? "Bundle.entry[0].resource" + expected.substring(type.length()) : expected);

    assertThat(total(type)).isEqualTo(before);
    assertThat(http().get("fhir/R4/" + type + "/strict1").statusCode()).isEqualTo(404);
  }

  static final String OBS_XML = "<status value=\"final\"/><code><text value=\"x\"/></code>";

  /** An XML resource and what the 400 must say. */
  static Stream<Arguments> badXml() {
    return Stream.of(
        Arguments.of("no namespace", "<Patient><active value=\"true\"/></Patient>", "namespace '(none)'"),
        Arguments.of("wrong namespace", "<Patient xmlns=\"http://hl7.org/fhir/x\"><active value=\"true\"/></Patient>",
            "namespace 'http://hl7.org/fhir/x'"),
        Arguments.of("child in no namespace",
            "<Patient xmlns=\"http://hl7.org/fhir\"><active xmlns=\"\" value=\"true\"/></Patient>",
            "namespace '(none)'"),
        Arguments.of("encoding declaration that contradicts the bytes",
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Patient xmlns=\"http://hl7.org/fhir\">"
                + "<name><family value=\"M\u00fcller\"/></name></Patient>", "ISO-8859-1"),
        Arguments.of("decimal 1e1001", "<Observation xmlns=\"http://hl7.org/fhir\">" + OBS_XML
            + "<valueQuantity><value value=\"1e1001\"/></valueQuantity></Observation>", "out of range"),
        Arguments.of("extension valueDecimal 1e999999", "<Patient xmlns=\"http://hl7.org/fhir\">"
            + "<extension url=\"http://example.org/x\"><valueDecimal value=\"1e999999\"/></extension></Patient>",
            "out of range"),
        Arguments.of("empty element", "<Patient xmlns=\"http://hl7.org/fhir\"><name/></Patient>", "empty element"),
        Arguments.of("text inside a primitive", "<Patient xmlns=\"http://hl7.org/fhir\"><active value=\"true\">hello</active>"
            + "</Patient>", "Patient.active: text content"),
        Arguments.of("CDATA inside a resource", "<Patient xmlns=\"http://hl7.org/fhir\"><![CDATA[hello]]>"
            + "<active value=\"true\"/></Patient>", "Patient: text content"),
        Arguments.of("extension with two values", "<Patient xmlns=\"http://hl7.org/fhir\"><extension url=\"http://x\">"
            + "<valueString value=\"a\"/><valueBoolean value=\"true\"/></extension></Patient>",
            "extension.valueBoolean: value[x] is given twice, as valueString and valueBoolean"),
        Arguments.of("integer beyond 32 bits",
            "<Patient xmlns=\"http://hl7.org/fhir\"><multipleBirthInteger value=\"99999999999999999999\"/></Patient>",
            "multipleBirthInteger: 99999999999999999999 is not an R4 integer (-2147483648..2147483647)"),
        Arguments.of("empty value attribute",
            "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"\"/></name></Patient>",
            "name.family: an empty value attribute"),
        Arguments.of("narrative script", "<Patient xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/>"
            + "<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div></text></Patient>",
            "<script>"),
        Arguments.of("narrative div outside XHTML", "<Patient xmlns=\"http://hl7.org/fhir\"><text>"
            + "<status value=\"generated\"/><div><p>x</p></div></text></Patient>", "http://www.w3.org/1999/xhtml"),
        Arguments.of("instant without a time zone", "<Observation xmlns=\"http://hl7.org/fhir\">" + OBS_XML
            + "<issued value=\"2020-01-01T10:00:00\"/></Observation>",
            "Observation.issued: '2020-01-01T10:00:00' is not an R4 instant"),
        Arguments.of("dateTime without a time zone", "<Observation xmlns=\"http://hl7.org/fhir\"><status value=\"final\"/>"
            + "<code><text value=\"x\"/></code><effectiveDateTime value=\"2020-01-01T10:00:00\"/></Observation>",
            "Observation.effectiveDateTime: '2020-01-01T10:00:00' is not an R4 dateTime"),
        Arguments.of("NUL character reference",
            "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"a&#0;b\"/></name></Patient>",
            "cannot parse the XML body"),
        Arguments.of("surrogate character reference",
            "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"a&#xD800;b\"/></name></Patient>",
            "cannot parse the XML body"));
  }

  static HttpResponse<String> sendXml(String method, String path, String xml) {
    return http().send(http().request(path).header("Content-Type", "application/fhir+xml")
        .header("Accept", "application/fhir+json")
        .method(method, HttpRequest.BodyPublishers.ofString(xml)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badXml")
  void badXmlIsRefusedOnCreateUpdateAndInTransactions(String name, String resource, String expected) {
    String type = resource.substring(resource.indexOf("<", resource.startsWith("<?") ? 2 : 0) + 1).split("[ >]")[0];
    int before = total(type);
    String body = resource;

    HttpResponse<String> created = sendXml("POST", "fhir/R4/" + type, body);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(400);
    assertThat(diagnostics(created)).contains(expected).doesNotContain("java.", "Exception", "HAPI-");

    String withId = body.replaceFirst("(<" + type + "[^>]*>)", "$1<id value=\"strict2\"/>");
    HttpResponse<String> updated = sendXml("PUT", "fhir/R4/" + type + "/strict2", withId);
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(400);
    assertThat(diagnostics(updated)).contains(expected);

    String declaration = body.startsWith("<?") ? body.substring(0, body.indexOf("?>") + 2) : "";
    String inner = body.substring(declaration.length());
    // a resource without a namespace declaration would inherit the Bundle's: keep it without one
    String tag = inner.substring(0, inner.indexOf('>'));
    String entry = tag.contains("xmlns=") ? inner : "<" + type + " xmlns=\"\"" + inner.substring(type.length() + 1);
    String tx = declaration + "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"transaction\"/><entry><resource>"
        + entry + "</resource><request><method value=\"POST\"/><url value=\"" + type
        + "\"/></request></entry></Bundle>";
    HttpResponse<String> inBundle = sendXml("POST", "fhir/R4", tx);
    assertThat(inBundle.statusCode()).as(inBundle.body()).isEqualTo(400);
    assertThat(diagnostics(inBundle)).contains(expected);

    assertThat(total(type)).isEqualTo(before);
  }

  /** Bytes that are not UTF-8, wrapped in a Patient: each is refused on create, update and in a Bundle. */
  static Stream<Arguments> badBytes() {
    return Stream.of(
        Arguments.of("invalid start byte", new byte[] {(byte) 0xff}),
        Arguments.of("truncated sequence", new byte[] {(byte) 0xc3}),
        Arguments.of("overlong form", new byte[] {(byte) 0xc0, (byte) 0xaf}),
        Arguments.of("encoded surrogate", new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}));
  }

  static byte[] patientWith(byte[] family, boolean withId) {
    byte[] head = ("{\"resourceType\":\"Patient\"," + (withId ? "\"id\":\"strict3\"," : "")
        + "\"name\":[{\"family\":\"a").getBytes(StandardCharsets.UTF_8);
    byte[] tail = "\"}]}".getBytes(StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(head, head.length + family.length + tail.length);
    System.arraycopy(family, 0, out, head.length, family.length);
    System.arraycopy(tail, 0, out, head.length + family.length, tail.length);
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badBytes")
  void invalidUtf8IsRefused(String name, byte[] bad) {
    int before = total("Patient");
    for (HttpResponse<String> r : List.of(
        http().postBytes("fhir/R4/Patient", "application/fhir+json", patientWith(bad, false)),
        http().send(http().request("fhir/R4/Patient/strict3").header("Content-Type", "application/fhir+json")
            .PUT(HttpRequest.BodyPublishers.ofByteArray(patientWith(bad, true)))),
        http().postBytes("fhir/R4", "application/fhir+json", bundleOf(patientWith(bad, false))))) {
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(diagnostics(r)).contains("not valid UTF-8");
    }
    assertThat(total("Patient")).isEqualTo(before);
  }

  static byte[] bundleOf(byte[] resource) {
    byte[] head = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        .getBytes(StandardCharsets.UTF_8);
    byte[] tail = ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}".getBytes(StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(head, head.length + resource.length + tail.length);
    System.arraycopy(resource, 0, out, head.length, resource.length);
    System.arraycopy(tail, 0, out, head.length + resource.length, tail.length);
    return out;
  }

  /**
   * R4's dateTime and instant forms are taken as they are; inside a Bundle a refusal names the
   * entry. meta.lastUpdated, which the server replaces on every write, is not judged.
   */
  @Test
  void datesAndTimesInR4FormsAreStoredAndOthersNamedInBundles() {
    for (String effective : List.of("2020", "2020-01", "2020-01-01", "2020-01-01T10:00:00Z",
        "2020-01-01T10:00:00.123-05:00", "2020-01-01T23:59:60+14:00")) {
      HttpResponse<String> r = http().postJson("fhir/R4/Observation", "{\"resourceType\":\"Observation\","
          + "\"meta\":{\"lastUpdated\":\"2000-01-01\"},\"status\":\"final\",\"code\":{\"text\":\"x\"},"
          + "\"effectiveDateTime\":\"" + effective + "\",\"issued\":\"2020-01-01T10:00:00.1234+01:00\"}");
      assertThat(r.statusCode()).as(effective + ": " + r.body()).isEqualTo(201);
      assertThat(http().parse(r, Observation.class).getMeta().getLastUpdatedElement().getValueAsString())
          .startsWith("20").contains("T");
    }
    String tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        + "{\"resourceType\":\"Patient\",\"active\":true},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
        + "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"issued\":\"2020-01-01\"},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}";
    HttpResponse<String> r = http().postJson("fhir/R4", tx);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(diagnostics(r)).contains("Bundle.entry[1].resource.issued: '2020-01-01' is not an R4 instant");
  }

  @Test
  void hugeExponentIsRefusedQuickly() {
    String body = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"valueQuantity\":{\"value\":1e999999}}";
    http().postJson("fhir/R4/Observation", body); // warm the route
    long start = System.nanoTime();
    HttpResponse<String> r = http().postJson("fhir/R4/Observation", body);
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertThat(r.statusCode()).isEqualTo(400);
    // it took 43 s of CPU when the number was converted before being checked
    assertThat(millis).isLessThan(1000);
  }

  @Test
  void numbersAtTheLimitsAreStoredAndReadBack() {
    String hundredDigits = "9." + "9".repeat(99);
    for (String value : List.of("1e308", "-9.5e308", "1e-308", hundredDigits, "0.000100")) {
      HttpResponse<String> r = http().postJson("fhir/R4/Observation",
          "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"limit\"},"
              + "\"valueQuantity\":{\"value\":" + value + "}}");
      String id = TestClient.createdId(r);
      Observation o = http().parse(http().get("fhir/R4/Observation/" + id), Observation.class);
      assertThat(o.getValueQuantity().getValue()).isEqualByComparingTo(new java.math.BigDecimal(value));
    }
    HttpResponse<String> search = http().get("fhir/R4/Observation?_count=100");
    assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
    assertThat(http().get("fhir/R4/Observation/_history").statusCode()).isEqualTo(200);
  }

  @Test
  void searchNumbersBeyondTheLimitsAre400() {
    for (String q : List.of("gt1e-999999", "lt1e1001", "1" + "0".repeat(500))) {
      HttpResponse<String> r = http().get("fhir/R4/Observation?value-quantity=" + q);
      assertThat(r.statusCode()).as(q + ": " + r.body()).isEqualTo(400);
      assertThat(diagnostics(r)).contains("value-quantity");
    }
    assertThat(http().get("fhir/R4/Observation?value-quantity=gt1e-300").statusCode()).isEqualTo(200);
    assertThat(http().get("fhir/R4/Observation?value-quantity=lt9e308").statusCode()).isEqualTo(200);
  }

  @Test
  void anXmlRootThatIsNoResourceTypeIsNamed() {
    String human = "<HumanName xmlns=\"http://hl7.org/fhir\"><family value=\"x\"/></HumanName>";
    HttpResponse<String> alone = sendXml("POST", "fhir/R4/Patient", human);
    assertThat(alone.statusCode()).as(alone.body()).isEqualTo(400);
    assertThat(diagnostics(alone)).contains("the XML root element HumanName is no resource type")
        .doesNotContain("Exception");
    HttpResponse<String> inBundle = sendXml("POST", "fhir/R4", "<Bundle xmlns=\"http://hl7.org/fhir\">"
        + "<type value=\"batch\"/><entry><resource>" + human + "</resource><request><method value=\"POST\"/>"
        + "<url value=\"Patient\"/></request></entry></Bundle>");
    assertThat(inBundle.statusCode()).as(inBundle.body()).isEqualTo(400);
    assertThat(diagnostics(inBundle)).contains("HumanName is no resource type").doesNotContain("Exception");
  }

  @Test
  void aBundleEntryMethodOutsideHttpVerbIsNamed() {
    for (String type : List.of("batch", "transaction")) {
      HttpResponse<String> r = http().postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"" + type
          + "\",\"entry\":[{\"resource\":{\"resourceType\":\"Patient\",\"active\":true},"
          + "\"request\":{\"method\":\"FOO\",\"url\":\"Patient\"}}]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(diagnostics(r)).contains("entry[0].request.method: FOO is not one of GET, HEAD, POST, PUT, DELETE, PATCH")
          .doesNotContain("java.", "Exception", "RequestTypeEnum");
      HttpResponse<String> xml = sendXml("POST", "fhir/R4", "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\""
          + type + "\"/><entry><resource><Patient><active value=\"true\"/></Patient></resource><request>"
          + "<method value=\"FOO\"/><url value=\"Patient\"/></request></entry></Bundle>");
      assertThat(xml.statusCode()).as(xml.body()).isEqualTo(400);
      assertThat(diagnostics(xml)).contains("request.method: FOO is not one of GET, HEAD, POST, PUT, DELETE, PATCH")
          .doesNotContain("java.", "Exception", "RequestTypeEnum");
    }
  }

  @Test
  void nullsThatAlignPrimitiveExtensionsAreAccepted() {
    HttpResponse<String> r = http().postJson("fhir/R4/Patient", "{\"resourceType\":\"Patient\",\"name\":[{"
        + "\"given\":[\"Ann\",null],\"_given\":[null,{\"extension\":[{\"url\":\"http://example.org/x\","
        + "\"valueBoolean\":true}]}]}],\"text\":{\"status\":\"generated\",\"div\":\"" + DIV
        + "<p style=\\\"color:red\\\">Ann <a href=\\\"https://example.org/\\\">x</a></p></div>\"}}");
    TestClient.createdId(r);
  }

  @Test
  void anAcceptNamingNoFhirFormatIs406WhileBrowsersAndRawBinaryReadsStillWork() {
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient", FhirRestTest.patientJson("Accept406")));
    HttpResponse<String> turtle = http().send(http().request("fhir/R4/Patient/" + id).header("Accept", "text/turtle"));
    assertThat(turtle.statusCode()).as(turtle.body()).isEqualTo(406);
    assertThat(http().parse(turtle, OperationOutcome.class).getIssueFirstRep().getDiagnostics()).contains("text/turtle");
    HttpResponse<String> browser = http().send(http().request("fhir/R4/Patient/" + id).header("Accept",
        "text/html,application/xhtml+xml,image/avif,*/*;q=0.8"));
    assertThat(browser.statusCode()).isEqualTo(200);
    String binary = TestClient.createdId(http().postBytes("fhir/R4/Binary", "text/turtle", "<a> <b> <c> .".getBytes()));
    HttpResponse<String> raw = http().send(http().request("fhir/R4/Binary/" + binary).header("Accept", "text/turtle"));
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(raw.body()).isEqualTo("<a> <b> <c> .");
  }

  /**
   * {@code _format=application/fhir+json} with its {@code +} unescaped, as a browser or curl sends
   * it: form-decoded, the {@code +} is a space, which is read as the {@code +} it stood for.
   */
  @Test
  void aFormatWithAnUnescapedPlusIsTheFhirTypeItNames() {
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient", FhirRestTest.patientJson("PlusFormat")));
    for (String format : List.of("application/fhir+json", "application/json+fhir")) {
      HttpResponse<String> r = http().get("fhir/R4/Patient/" + id + "?_format=" + format);
      assertThat(r.statusCode()).as(format + ": " + r.body()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+json");
    }
    for (String format : List.of("application/fhir+xml", "application/xml+fhir")) {
      HttpResponse<String> r = http().send(http().request("fhir/R4/Patient/" + id + "?_format=" + format));
      assertThat(r.statusCode()).as(format + ": " + r.body()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+xml");
      assertThat(r.body()).contains("<family value=\"PlusFormat\"");
    }
    HttpResponse<String> search = http().send(http().request("fhir/R4/Patient?family=PlusFormat"
        + "&_format=application/fhir+xml"));
    assertThat(search.body()).startsWith("<Bundle xmlns=\"http://hl7.org/fhir\">");
    assertThat(http().get("fhir/R4/Patient/" + id + "?_format=application/fhir+yaml").statusCode()).isEqualTo(406);
  }

  @Test
  void aWriteWhoseAcceptNamesNoFhirFormatIs406AndStoresNothing() {
    HttpResponse<String> created = http().send(http().request("fhir/R4/Patient").header("Accept", "text/turtle")
        .header("Content-Type", "application/fhir+json")
        .POST(HttpRequest.BodyPublishers.ofString(FhirRestTest.patientJson("NotStored406"))));

    assertThat(created.statusCode()).as(created.body()).isEqualTo(406);
    assertThat(http().parse(http().get("fhir/R4/Patient?family=NotStored406"), Bundle.class).getEntry()).isEmpty();
  }

  @Test
  void aFhirVersionOtherThanR4Is415AsABodyAnd406AsAnAnswerAndStoresNothing() {
    HttpResponse<String> stu3 = http().send(http().request("fhir/R4/Patient")
        .header("Content-Type", "application/fhir+json; fhirVersion=3.0")
        .POST(HttpRequest.BodyPublishers.ofString(FhirRestTest.patientJson("Stu3Body"))));
    assertThat(stu3.statusCode()).as(stu3.body()).isEqualTo(415);
    assertThat(diagnostics(stu3)).contains("FHIR version 3.0").contains("fhirVersion=4.0");
    assertThat(http().parse(http().get("fhir/R4/Patient?family=Stu3Body"), Bundle.class).getEntry()).isEmpty();
    // nor is such a body a Binary's raw bytes of that type
    HttpResponse<String> binary = http().send(http().request("fhir/R4/Binary")
        .header("Content-Type", "application/fhir+json;fhirVersion=\"5.0\"")
        .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\"}")));
    assertThat(binary.statusCode()).as(binary.body()).isEqualTo(415);

    // R4's, with or without its patch number, is read as always
    for (String version : List.of("4.0", "4.0.1")) {
      TestClient.createdId(http().send(http().request("fhir/R4/Patient")
          .header("Content-Type", "application/fhir+json; fhirVersion=" + version)
          .POST(HttpRequest.BodyPublishers.ofString(FhirRestTest.patientJson("R4Body")))));
    }
    String id = TestClient.createdId(http().postJson("fhir/R4/Patient", FhirRestTest.patientJson("VersionedAccept")));
    HttpResponse<String> asStu3 = http().send(http().request("fhir/R4/Patient/" + id)
        .header("Accept", "application/fhir+json; fhirVersion=3.0"));
    assertThat(asStu3.statusCode()).as(asStu3.body()).isEqualTo(406);
    assertThat(diagnostics(asStu3)).contains("FHIR version 3.0");
    assertThat(http().send(http().request("fhir/R4/Patient/" + id)
        .header("Accept", "application/fhir+json; fhirVersion=4.0")).statusCode()).isEqualTo(200);
    // another version preferred, R4 taken too: the answer is R4's, in the format that asked for it
    HttpResponse<String> either = http().send(http().request("fhir/R4/Patient/" + id)
        .header("Accept", "application/fhir+json; fhirVersion=5.0, application/fhir+xml; fhirVersion=4.0; q=0.5"));
    assertThat(either.statusCode()).isEqualTo(200);
    assertThat(either.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
        .startsWith("application/fhir+xml"));
  }

  /**
   * A Binary read whose Accept takes only FHIR types of another version is 406 too, not the raw
   * content, which that client would parse as the resource it asked for (a JSON file looks like one);
   * with a wildcard or another type beside them, it gets the content.
   */
  @Test
  void aBinaryReadAcceptingOnlyAnotherFhirVersionIs406() {
    String id = TestClient.createdId(http().postBytes("fhir/R4/Binary", "application/json",
        "{\"resourceType\":\"Patient\"}".getBytes(StandardCharsets.UTF_8)));
    for (String path : List.of("fhir/R4/Binary/" + id, "fhir/R4/Binary/" + id + "/_history/1")) {
      HttpResponse<String> asStu3 = http().send(http().request(path)
          .header("Accept", "application/fhir+json; fhirVersion=3.0, application/fhir+xml; fhirVersion=3.0"));
      assertThat(asStu3.statusCode()).as(asStu3.body()).isEqualTo(406);
      assertThat(diagnostics(asStu3)).contains("FHIR version 3.0");
      HttpResponse<String> orAnything = http().send(http().request(path)
          .header("Accept", "application/fhir+json; fhirVersion=3.0, */*; q=0.1"));
      assertThat(orAnything.statusCode()).isEqualTo(200);
      assertThat(orAnything.body()).isEqualTo("{\"resourceType\":\"Patient\"}");
    }
  }

  /**
   * A write whose body is FHIR XML, with no {@code _format} and an Accept that prefers no FHIR
   * format (none, or a wildcard), is answered in XML, its errors too; {@code _format} or Accept
   * still choose. A Binary's raw XML content is no FHIR body: its answer stays JSON.
   */
  @Test
  void anXmlWriteThatStatesNoPreferenceIsAnsweredInXml() {
    String xml = "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"XmlAnswer\"/></name></Patient>";
    HttpResponse<String> created = http().send(http().request("fhir/R4/Patient")
        .header("Content-Type", "application/fhir+xml").POST(HttpRequest.BodyPublishers.ofString(xml)));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(created.body()).startsWith("<Patient xmlns=\"http://hl7.org/fhir\">");
    String id = created.headers().firstValue("Location").orElseThrow().split("/Patient/")[1].split("/")[0];
    String patch = "<Parameters xmlns=\"http://hl7.org/fhir\"><parameter><name value=\"operation\"/><part><name"
        + " value=\"type\"/><valueCode value=\"add\"/></part><part><name value=\"path\"/><valueString"
        + " value=\"Patient\"/></part><part><name value=\"name\"/><valueString value=\"active\"/></part><part>"
        + "<name value=\"value\"/><valueBoolean value=\"true\"/></part></parameter></Parameters>";
    String updated = xml.replace("<name>", "<id value=\"" + id + "\"/><name>");
    for (var r : List.of(sendWithoutAccept("PATCH", "fhir/R4/Patient/" + id, "application/fhir+xml", patch),
        sendWithoutAccept("PUT", "fhir/R4/Patient/" + id + "?_pretty=true", "application/fhir+xml", updated),
        sendWithoutAccept("POST", "fhir/R4/Patient", "application/fhir+xml; charset=utf-8", "<Patient>"),
        http().send(http().request("fhir/R4/Patient").header("Content-Type", "application/fhir+xml")
            .header("Accept", "*/*").POST(HttpRequest.BodyPublishers.ofString(xml))))) {
      assertThat(r.headers().firstValue("Content-Type").orElseThrow()).as(r.body()).startsWith("application/fhir+xml");
    }
    assertThat(sendWithoutAccept("POST", "fhir/R4/Patient?_format=json", "application/fhir+xml", xml).body())
        .startsWith("{\"resourceType\":\"Patient\"");
    assertThat(sendXml("POST", "fhir/R4/Patient", "<Patient>").headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/fhir+json");
    HttpResponse<String> raw = sendWithoutAccept("POST", "fhir/R4/Binary", "text/xml", "<note>raw</note>");
    assertThat(raw.statusCode()).as(raw.body()).isEqualTo(201);
    assertThat(raw.body()).startsWith("{\"resourceType\":\"Binary\"");
  }

  static HttpResponse<String> sendWithoutAccept(String method, String path, String contentType, String body) {
    return http().send(http().request(path).header("Content-Type", contentType)
        .method(method, HttpRequest.BodyPublishers.ofString(body)));
  }

  /** An OperationOutcome follows {@code _pretty} and {@code _format} as any answer does (R4 http.html#parameters). */
  @Test
  void anErrorFollowsPrettyAndFormat() {
    String missing = "fhir/R4/Patient/no-such-patient";
    assertThat(http().get(missing + "?_pretty=true").body()).startsWith("{\n").contains("\"resourceType\": \"OperationOutcome\"");
    assertThat(http().get(missing + "?_pretty=false").body()).startsWith("{\"resourceType\":\"OperationOutcome\"");
    assertThat(http().send(http().request(missing + "?_format=xml&_pretty=true")).body())
        .startsWith("<OperationOutcome xmlns=\"http://hl7.org/fhir\">\n");
    assertThat(http().send(http().request(missing + "?_pretty=true").header("Accept", "application/fhir+xml")).body())
        .startsWith("<OperationOutcome xmlns=\"http://hl7.org/fhir\">\n");
  }

  @Test
  void versionsNamesR4AsTheVersionAndTheDefaultWithoutCredentials() {
    TestClient anonymous = new TestClient(fhirbox.server().baseUrl());
    HttpResponse<String> r = anonymous.get("fhir/R4/$versions");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Parameters p = anonymous.parse(r, Parameters.class);
    assertThat(p.getParameter()).extracting(x -> x.getName() + "=" + x.getValue().primitiveValue())
        .containsExactly("version=4.0", "default=4.0");
    assertThat(anonymous.get("fhir/R4/metadata").body()).contains("CapabilityStatement-versions");
  }
}
