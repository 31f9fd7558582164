package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.TimeZone;
import java.util.stream.Stream;
import org.fhirbox.db.SearchValue;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the indexer stores for each kind of search parameter (FHIR R4 search.html): one table row
 * per kind, with the resource as a client would write it and the index rows of one parameter.
 */
class SearchIndexerTest {
  private static final FhirContext FHIR = FhirContext.forR4Cached();
  private static final SearchIndexer INDEXER = new SearchIndexer(FHIR);

  private static long day(String date) {
    return LocalDate.parse(date).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
  }

  private static long utc(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  private static BigDecimal indexed(String n) {
    return new BigDecimal(n);
  }

  static Stream<Arguments> values() {
    return Stream.of(
        // string: every part of a HumanName, normalised (lower case, no accents); :exact keeps the text
        Arguments.of("Patient", "{\"name\":[{\"family\":\"Müller\",\"given\":[\"Eve\",\"Anna\"],\"prefix\":[\"Dr\"]}]}",
            "given", List.of(SearchValue.string("given", "Eve"), SearchValue.string("given", "Anna"))),
        Arguments.of("Patient", "{\"name\":[{\"family\":\"Müller\"}]}", "family",
            List.of(new SearchValue("family", "Müller", "muller", null, null, null))),
        Arguments.of("Patient", "{\"name\":[{\"family\":\"Müller\",\"prefix\":[\"Dr\"],\"text\":\"Dr Eve Müller\"}]}",
            "name", List.of(SearchValue.string("name", "Dr"), SearchValue.string("name", "Dr Eve Müller"))),
        Arguments.of("Patient", "{\"address\":[{\"line\":[\"1 Main St\"],\"city\":\"Zürich\",\"postalCode\":\"8000\"}]}",
            "address", List.of(SearchValue.string("address", "1 Main St"), SearchValue.string("address", "Zürich"),
                SearchValue.string("address", "8000"))),
        // reference on a canonical: the url as written, its version as the system
        Arguments.of("QuestionnaireResponse", "{\"status\":\"completed\",\"questionnaire\":"
                + "\"http://acme.org/Questionnaire/phq9|3.0\"}", "questionnaire",
            List.of(SearchValue.token("questionnaire", "3.0", "http://acme.org/Questionnaire/phq9"))),
        Arguments.of("QuestionnaireResponse", "{\"status\":\"completed\",\"questionnaire\":"
                + "\"Questionnaire/phq9\"}", "questionnaire",
            List.of(SearchValue.token("questionnaire", null, "Questionnaire/phq9"))),
        // token: Identifier system|value, Coding system|code, a code with its implicit system
        Arguments.of("Patient", "{\"identifier\":[{\"system\":\"http://acme.org/patient\",\"value\":\"2345\"}]}",
            "identifier", List.of(SearchValue.token("identifier", "http://acme.org/patient", "2345"))),
        Arguments.of("Condition", "{\"subject\":{\"reference\":\"Patient/1\"},\"code\":{\"coding\":["
                + "{\"system\":\"http://acme.org/conditions/codes\",\"code\":\"ha125\"},{\"code\":\"x\"}]}}",
            "code", List.of(SearchValue.token("code", "http://acme.org/conditions/codes", "ha125"),
                SearchValue.token("code", null, "x"))),
        Arguments.of("Patient", "{\"gender\":\"female\"}", "gender",
            List.of(SearchValue.token("gender", "http://hl7.org/fhir/administrative-gender", "female"))),
        Arguments.of("Patient", "{\"active\":true}", "active", List.of(SearchValue.token("active", null, "true"))),
        // ContactPoint: its value, without a system (search.html#token); email and phone keep to their system
        Arguments.of("Patient", "{\"telecom\":[{\"system\":\"phone\",\"value\":\"555-1234\",\"use\":\"home\"},"
                + "{\"system\":\"email\",\"value\":\"eve@example.org\"},{\"system\":\"phone\"}]}",
            "telecom", List.of(SearchValue.token("telecom", null, "555-1234"),
                SearchValue.token("telecom", null, "eve@example.org"))),
        Arguments.of("Practitioner", "{\"telecom\":[{\"system\":\"phone\",\"value\":\"555-1234\"},"
                + "{\"system\":\"email\",\"value\":\"eve@example.org\"}]}",
            "email", List.of(SearchValue.token("email", null, "eve@example.org"))),
        Arguments.of("RelatedPerson", "{\"patient\":{\"reference\":\"Patient/1\"},\"telecom\":["
                + "{\"system\":\"phone\",\"value\":\"555-1234\"},{\"system\":\"email\",\"value\":\"e@x.org\"}]}",
            "phone", List.of(SearchValue.token("phone", null, "555-1234"))),
        // reference: Type/id, without base URL or version
        Arguments.of("Observation", "{\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/23/_history/2\"}}",
            "subject", List.of(SearchValue.token("subject", null, "Patient/23"))),
        Arguments.of("Observation", "{\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/23\"}}",
            "patient", List.of(SearchValue.token("patient", null, "Patient/23"))),
        Arguments.of("Observation", "{\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Group/9\"}}",
            "patient", List.of()),
        // uri: the URI as written
        Arguments.of("ValueSet", "{\"status\":\"active\",\"url\":\"http://acme.org/fhir/ValueSet/123\"}", "url",
            List.of(SearchValue.token("url", null, "http://acme.org/fhir/ValueSet/123"))),
        // date: a value covers its precision; a Period from start to end, open where one is missing
        Arguments.of("Patient", "{\"birthDate\":\"1987-02-20\"}", "birthdate",
            List.of(SearchValue.date("birthdate", day("1987-02-20"), day("1987-02-21") - 1))),
        Arguments.of("Observation", "{\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"effectiveDateTime\":\"2013-01-14T10:00:00Z\"}",
            "date", List.of(SearchValue.date("date", utc("2013-01-14T10:00:00Z"), utc("2013-01-14T10:00:01Z") - 1))),
        Arguments.of("Encounter", "{\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},"
                + "\"period\":{\"start\":\"2013-01-14T10:00:00Z\"}}",
            "date", List.of(SearchValue.date("date", utc("2013-01-14T10:00:00Z"), Long.MAX_VALUE))),
        // number and quantity: the value whole, as the column holds it (migration V32); a quantity's unit
        Arguments.of("RiskAssessment", "{\"status\":\"final\",\"subject\":{\"reference\":\"Patient/1\"},"
                + "\"prediction\":[{\"probabilityDecimal\":0.8}]}",
            "probability", List.of(new SearchValue("probability", null, null, null, null, indexed("0.8")))),
        Arguments.of("Observation", "{\"status\":\"final\",\"code\":{\"text\":\"x\"},\"valueQuantity\":"
                + "{\"value\":5.4,\"unit\":\"mg\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"mg\"}}",
            "value-quantity", List.of(new SearchValue("value-quantity", "http://unitsofmeasure.org", "mg", null, null,
                indexed("5.4")))),
        Arguments.of("Observation", "{\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"valueQuantity\":{\"value\":5.4,\"unit\":\"mg\"}}",
            "value-quantity", List.of(new SearchValue("value-quantity", null, "mg", null, null, indexed("5.4")))),
        // a coded quantity whose unit is written otherwise: the code with its system, and the unit as written
        Arguments.of("Observation", "{\"status\":\"final\",\"code\":{\"text\":\"x\"},\"valueQuantity\":"
                + "{\"value\":5.4,\"unit\":\"milligram\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"mg\"}}",
            "value-quantity", List.of(new SearchValue("value-quantity", "http://unitsofmeasure.org", "mg", null, null,
                indexed("5.4")), new SearchValue("value-quantity", null, "milligram", null, null, indexed("5.4")))),
        Arguments.of("Observation", "{\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"valueQuantity\":{\"value\":1e25,\"unit\":\"mg\"}}",
            "value-quantity", List.of(new SearchValue("value-quantity", null, "mg", null, null, indexed("10000000000000000000000000")))),
        // a choice element: only the type the parameter names ((Observation.value as CodeableConcept))
        Arguments.of("Observation", "{\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"urn:s\",\"code\":\"pos\"}]}}",
            "value-concept", List.of(SearchValue.token("value-concept", "urn:s", "pos"))),
        Arguments.of("Observation", "{\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"urn:s\",\"code\":\"pos\"}]}}",
            "value-quantity", List.of()),
        // the Binaries Attachments name, versionless and once each, contained resources included
        Arguments.of("DocumentReference", "{\"status\":\"current\",\"contained\":[{\"resourceType\":\"Media\","
                + "\"id\":\"m\",\"status\":\"completed\",\"content\":{\"url\":\"Binary/c\"}}],\"content\":["
                + "{\"attachment\":{\"url\":\"Binary/a\"}},{\"attachment\":{\"url\":\"Binary/a/_history/2\"}},"
                + "{\"attachment\":{\"url\":\"Binary/b\"}},{\"attachment\":{\"url\":\"https://elsewhere.example/x\"}}]}",
            SearchIndexer.ATTACHED_BINARY, List.of(SearchValue.token(SearchIndexer.ATTACHED_BINARY, null, "Binary/a"),
                SearchValue.token(SearchIndexer.ATTACHED_BINARY, null, "Binary/b"),
                SearchValue.token(SearchIndexer.ATTACHED_BINARY, null, "Binary/c"))));
  }

  @ParameterizedTest(name = "{0}.{2} from {1}")
  @MethodSource("values")
  void eachKindOfParameterIsIndexedAsTheSearchPageDescribes(String type, String json, String param,
      List<SearchValue> expected) {
    Resource resource = (Resource) FHIR.newJsonParser()
        .parseResource("{\"resourceType\":\"" + type + "\"," + json.substring(1));
    List<SearchValue> rows = INDEXER.extract(resource).stream().filter(v -> v.param().equals(param)).toList();
    assertThat(rows).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void aDateWithoutTimeZoneIsIndexedInUtcWhateverTheJvmZone() {
    TimeZone before = TimeZone.getDefault();
    try {
      TimeZone.setDefault(TimeZone.getTimeZone("Europe/Berlin"));
      Resource patient = (Resource) FHIR.newJsonParser()
          .parseResource("{\"resourceType\":\"Patient\",\"birthDate\":\"1987-07-20\"}");
      assertThat(INDEXER.extract(patient).stream().filter(v -> v.param().equals("birthdate")).toList())
          .containsExactly(SearchValue.date("birthdate", day("1987-07-20"), day("1987-07-21") - 1));
    } finally {
      TimeZone.setDefault(before);
    }
  }

  static Stream<Arguments> kinds() {
    return Stream.of(
        Arguments.of("Patient", "name", RestSearchParameterTypeEnum.STRING),
        Arguments.of("Patient", "identifier", RestSearchParameterTypeEnum.TOKEN),
        Arguments.of("Patient", "telecom", RestSearchParameterTypeEnum.TOKEN),
        Arguments.of("Patient", "email", RestSearchParameterTypeEnum.TOKEN),
        Arguments.of("PractitionerRole", "phone", RestSearchParameterTypeEnum.TOKEN),
        Arguments.of("Observation", "subject", RestSearchParameterTypeEnum.REFERENCE),
        Arguments.of("Observation", "date", RestSearchParameterTypeEnum.DATE),
        Arguments.of("ValueSet", "url", RestSearchParameterTypeEnum.URI),
        Arguments.of("RiskAssessment", "probability", RestSearchParameterTypeEnum.NUMBER),
        Arguments.of("Observation", "value-quantity", RestSearchParameterTypeEnum.QUANTITY));
  }

  @ParameterizedTest(name = "{0}.{1} is {2}")
  @MethodSource("kinds")
  void theStandardParametersAreIndexedWithTheirKind(String type, String param, RestSearchParameterTypeEnum kind) {
    assertThat(INDEXER.params(type).get(param).kind()).isEqualTo(kind);
  }

  @Test
  void parametersThatAreNotAStringMatchOrNeedAnExpressionAreNotIndexed() {
    assertThat(INDEXER.params("Patient")).doesNotContainKey("phonetic") // a sound-alike match
        .doesNotContainKey("_id"); // searched on the resource row, not the index
    assertThat(INDEXER.params("Observation")).doesNotContainKey("code-value-quantity"); // composite
  }

  @Test
  void theBinariesAttachmentsNameAreIndexedButAreNoSearchParameter() {
    assertThat(INDEXER.params("DocumentReference")).doesNotContainKey(SearchIndexer.ATTACHED_BINARY);
  }

  @Test
  void referenceParametersKnowWhetherTheyHoldCanonicals() {
    assertThat(INDEXER.params("QuestionnaireResponse").get("questionnaire").canonical()).isTrue();
    assertThat(INDEXER.params("QuestionnaireResponse").get("questionnaire").literal()).isFalse();
    assertThat(INDEXER.params("PlanDefinition").get("definition").canonical()).isTrue(); // canonical or uri
    assertThat(INDEXER.params("Observation").get("subject").canonical()).isFalse();
    assertThat(INDEXER.params("Observation").get("subject").literal()).isTrue();
    assertThat(INDEXER.params("Observation").get("code").canonical()).isFalse();
  }

  @Test
  void aNameSearchReadsTheFamilyAndGivenRowsTooWhichAreStoredOnce() {
    assertThat(INDEXER.params("Patient").get("name").searchedAs()).containsExactly("name", "family", "given");
  }
}
