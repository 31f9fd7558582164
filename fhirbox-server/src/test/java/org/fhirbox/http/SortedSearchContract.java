package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLDecoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.junit.jupiter.api.Test;

/**
 * {@code _sort} on search parameters (R4 search.html#sort): by each kind's value, several keys,
 * {@code -} for descending, resources without a value last, ties in a stable order, and paging
 * through a sorted result. Each test tags what it writes with a code of its own and searches only
 * that. Subclasses supply the database.
 */
abstract class SortedSearchContract extends ServerPerClassContract {

  /** A resource of {@code type} tagged {@code tag}, with {@code fields} (JSON members, or empty). */
  private String create(String type, String tag, String fields) {
    return http.create("{\"resourceType\":\"" + type + "\",\"meta\":{\"tag\":[{\"system\":\"urn:sort\",\"code\":\""
        + tag + "\"}]}" + (fields.isEmpty() ? "" : "," + fields) + "}");
  }

  private String patient(String tag, String fields) {
    return create("Patient", tag, fields);
  }

  private String observation(String tag, String fields) {
    return create("Observation", tag, "\"status\":\"final\",\"code\":{\"text\":\"x\"}" + (fields.isEmpty() ? ""
        : "," + fields));
  }

  private List<String> sorted(String type, String tag, String sort) {
    return http.foundIds(type + "?_tag=urn:sort%7C" + tag + "&_count=100&_sort=" + sort);
  }

  @Test
  void aStringSortsByItsNormalFormAndResourcesWithoutOneComeLast() {
    String zed = patient("string", "\"name\":[{\"family\":\"Zed\"}]");
    String none = patient("string", "");
    String muller = patient("string", "\"name\":[{\"family\":\"Müller\"}]");
    String adams = patient("string", "\"name\":[{\"family\":\"adams\"}]");

    assertThat(sorted("Patient", "string", "family")).containsExactly(adams, muller, zed, none);
    assertThat(sorted("Patient", "string", "-family")).containsExactly(zed, muller, adams, none);
  }

  @Test
  void aMultiValuedElementSortsBySmallestAscendingAndLargestDescending() {
    String wide = patient("multi", "\"name\":[{\"given\":[\"Yan\",\"Bea\"]}]");
    String middle = patient("multi", "\"name\":[{\"given\":[\"Mia\"]}]");

    assertThat(sorted("Patient", "multi", "given")).containsExactly(wide, middle);
    assertThat(sorted("Patient", "multi", "-given")).containsExactly(wide, middle);
  }

  /**
   * A date's range: ascending by where it starts, descending by where it ends, so a Period of a
   * whole year comes before a day in its middle both ways.
   */
  @Test
  void aDateSortsByItsStartAscendingAndItsEndDescending() {
    String day = observation("date", "\"effectiveDateTime\":\"2020-06-01\"");
    String year = observation("date", "\"effectivePeriod\":{\"start\":\"2020-01-01\",\"end\":\"2020-12-31\"}");
    String later = observation("date", "\"effectiveDateTime\":\"2021-03-01\"");
    String none = observation("date", "");

    assertThat(sorted("Observation", "date", "date")).containsExactly(year, day, later, none);
    assertThat(sorted("Observation", "date", "-date")).containsExactly(later, year, day, none);
  }

  @Test
  void aQuantitySortsAsANumberNotAsText() {
    String ten = observation("quantity", "\"valueQuantity\":{\"value\":10,\"unit\":\"mg\"}");
    String two = observation("quantity", "\"valueQuantity\":{\"value\":2,\"unit\":\"mg\"}");
    String five = observation("quantity", "\"valueQuantity\":{\"value\":5.5,\"unit\":\"mg\"}");

    assertThat(sorted("Observation", "quantity", "value-quantity")).containsExactly(two, five, ten);
    assertThat(sorted("Observation", "quantity", "-value-quantity")).containsExactly(ten, five, two);
  }

  @Test
  void aTokenSortsByItsCodeAReferenceByItsTextAndAUriAsWritten() {
    String b = observation("token", "\"identifier\":[{\"system\":\"urn:a\",\"value\":\"b\"}],"
        + "\"subject\":{\"reference\":\"Patient/c\"}");
    String a = observation("token", "\"identifier\":[{\"system\":\"urn:z\",\"value\":\"a\"}],"
        + "\"subject\":{\"reference\":\"Patient/d\"}");
    String c = observation("token", "\"identifier\":[{\"value\":\"c\"}],\"subject\":{\"reference\":\"Group/e\"}");

    assertThat(sorted("Observation", "token", "identifier")).containsExactly(a, b, c);
    assertThat(sorted("Observation", "token", "subject")).containsExactly(c, b, a);
    String second = create("ValueSet", "uri", "\"status\":\"active\",\"url\":\"http://b.example/vs\"");
    String first = create("ValueSet", "uri", "\"status\":\"active\",\"url\":\"http://a.example/vs\"");
    assertThat(sorted("ValueSet", "uri", "url")).containsExactly(first, second);
  }

  @Test
  void severalKeysSortInTurn() {
    String f1990 = patient("keys", "\"gender\":\"female\",\"birthDate\":\"1990-01-01\"");
    String m2000 = patient("keys", "\"gender\":\"male\",\"birthDate\":\"2000-01-01\"");
    String f1980 = patient("keys", "\"gender\":\"female\",\"birthDate\":\"1980-01-01\"");
    String m1970 = patient("keys", "\"gender\":\"male\",\"birthDate\":\"1970-01-01\"");

    assertThat(sorted("Patient", "keys", "gender,-birthdate")).containsExactly(f1990, f1980, m2000, m1970);
    assertThat(sorted("Patient", "keys", "-gender,birthdate")).containsExactly(m1970, m2000, f1980, f1990);
  }

  @Test
  void idAndLastUpdatedSortToo() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(patient("id", ""));
    }
    List<String> byId = ids.stream().sorted().toList();
    assertThat(sorted("Patient", "id", "_id")).containsExactlyElementsOf(byId);
    List<String> reversed = new ArrayList<>(byId);
    Collections.reverse(reversed);
    assertThat(sorted("Patient", "id", "-_id")).containsExactlyElementsOf(reversed);
    assertThat(sorted("Patient", "id", "-_lastUpdated,_id")).containsExactlyElementsOf(sorted("Patient", "id",
        "-_lastUpdated"));
  }

  /** Resources that tie on every key are in the default order: newest first, then by id. */
  @Test
  void tiesFallBackToTheDefaultOrder() {
    for (int i = 0; i < 4; i++) {
      patient("ties", "\"name\":[{\"family\":\"Same\"}]");
    }
    assertThat(sorted("Patient", "ties", "family")).containsExactlyElementsOf(
        http.foundIds("Patient?_tag=urn:sort%7Cties&_count=100"));
  }

  /**
   * Paging through a sorted result of three pages and a bit: the next links keep the sort and page
   * by {@code _offset}, and the pages together are the whole result once each, in order.
   */
  @Test
  void pagingThroughASortedResultRepeatsAndSkipsNothing() {
    String[] families = {"d", "b", "a", "c", "b", "e", "a", "f", "b", "c"};
    for (String family : families) {
      patient("paging", "\"name\":[{\"family\":\"" + family + "\"}]");
    }
    List<String> whole = sorted("Patient", "paging", "-family");
    assertThat(whole).hasSize(families.length).doesNotHaveDuplicates();

    List<String> paged = new ArrayList<>();
    String url = "fhir/R4/Patient?_tag=urn:sort%7Cpaging&_sort=-family&_count=3";
    int pages = 0;
    while (url != null) {
      Bundle page = http.parse(http.get(url), Bundle.class);
      pages++;
      assertThat(selfParameters(page)).contains("_sort=-family");
      page.getEntry().forEach(e -> paged.add(e.getResource().getIdElement().getIdPart()));
      url = page.getLink("next") == null ? null : page.getLink("next").getUrl();
      if (url != null) {
        assertThat(URLDecoder.decode(url, StandardCharsets.UTF_8)).contains("_sort=-family").doesNotContain("_after");
      }
    }
    assertThat(pages).isEqualTo(4);
    assertThat(paged).containsExactlyElementsOf(whole);
    assertThat(new HashSet<>(paged)).hasSize(families.length);
  }

  @Test
  void anUnknownOrModifiedSortParameterIs400NamingIt() {
    for (String sort : List.of("nickname", "-nickname", "family:exact", "family,,given", "subject.name", "-",
        "family,given,gender,birthdate,_id,-family,-given,-gender,-birthdate")) {
      HttpResponse<String> r = http.get("fhir/R4/Patient?_sort=" + sort);
      assertThat(r.statusCode()).as(sort).isEqualTo(400);
      assertThat(r.body()).as(sort).contains("OperationOutcome").contains("_sort");
    }
    assertThat(http.get("fhir/R4/Patient?_sort=nickname").body()).contains("nickname");
    // a position of the default order cannot say where a page of another order ends
    assertThat(http.get("fhir/R4/Patient?_sort=family&_after=1~Patient~x~1").statusCode()).isEqualTo(400);
    HttpResponse<String> deep = http.get("fhir/R4/Patient?_sort=family&_offset=10001");
    assertThat(deep.statusCode()).isEqualTo(400);
    assertThat(deep.body()).contains("narrow");
  }

  @Test
  void aCompartmentSearchSortsToo() {
    String patient = patient("compartment", "");
    String early = observation("compartment", "\"subject\":{\"reference\":\"Patient/" + patient + "\"},"
        + "\"effectiveDateTime\":\"2019-01-01\"");
    String late = observation("compartment", "\"subject\":{\"reference\":\"Patient/" + patient + "\"},"
        + "\"effectiveDateTime\":\"2022-01-01\"");

    assertThat(http.foundIds("Patient/" + patient + "/Observation?_sort=date")).containsExactly(early, late);
    assertThat(http.foundIds("Patient/" + patient + "/Observation?_sort=-date")).containsExactly(late, early);
  }

  @Test
  void aCountIgnoresTheSort() {
    patient("count", "\"name\":[{\"family\":\"Counted\"}]");
    Bundle count = http.parse(http.get("fhir/R4/Patient?_tag=urn:sort%7Ccount&_sort=-family&_summary=count"),
        Bundle.class);
    assertThat(count.getTotal()).isEqualTo(1);
    assertThat(selfParameters(count)).noneMatch(p -> p.startsWith("_sort"));
  }

  @Test
  void theCapabilityStatementDescribesSort() {
    CapabilityStatement cs = http.parse(http.get("fhir/R4/metadata"), CapabilityStatement.class);
    assertThat(cs.getRestFirstRep().getSearchParam()).anySatisfy(p -> {
      assertThat(p.getName()).isEqualTo("_sort");
      assertThat(p.getDocumentation()).contains("last");
    });
  }

  private static List<String> selfParameters(Bundle b) {
    String url = b.getLink("self").getUrl();
    return Arrays.stream(url.substring(url.indexOf('?') + 1).split("&"))
        .map(s -> URLDecoder.decode(s, StandardCharsets.UTF_8)).toList();
  }
}
