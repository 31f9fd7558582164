package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLDecoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
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
   * Paging through a sorted result of three pages and a bit: the next links keep the sort and
   * carry the position of the page's last entry, and the pages together are the whole result once
   * each, in order.
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
        assertThat(URLDecoder.decode(url, StandardCharsets.UTF_8)).contains("_sort=-family").contains("_after=");
      }
    }
    assertThat(pages).isEqualTo(4);
    assertThat(paged).containsExactlyElementsOf(whole);
    assertThat(new HashSet<>(paged)).hasSize(families.length);
  }

  /**
   * Every kind of key, both directions, several keys of mixed directions, ties, multi-valued
   * elements and resources without a value: following the next links of pages of two gives the
   * same order as one page of all, each entry once.
   */
  @Test
  void nextLinksOfEveryKindOfSortPageThroughInOrder() {
    String[] fields = {
        "\"gender\":\"female\",\"birthDate\":\"1990-01-01\",\"name\":[{\"family\":\"b\",\"given\":[\"y\",\"c\"]}]",
        "\"gender\":\"male\",\"birthDate\":\"1990-01-01\",\"name\":[{\"family\":\"a\",\"given\":[\"m\"]}]",
        "\"gender\":\"female\",\"name\":[{\"family\":\"b\"}]",
        "\"birthDate\":\"1980-05\",\"name\":[{\"given\":[\"a\",\"z\"]}]",
        "\"gender\":\"male\",\"birthDate\":\"1980-05-10\"",
        "",
        "\"gender\":\"female\",\"birthDate\":\"2000-01-01\",\"name\":[{\"family\":\"a\"}]",
        ""};
    for (String f : fields) {
      patient("kinds", f);
    }
    for (String sort : List.of("family", "-family", "given", "-given", "birthdate", "-birthdate", "gender",
        "-gender,birthdate", "gender,-family,-birthdate", "-birthdate,family,_id", "_id", "-_id",
        "family,-_lastUpdated", "-given,_lastUpdated")) {
      List<String> whole = sorted("Patient", "kinds", sort);
      assertThat(whole).as(sort).hasSize(fields.length);
      assertThat(pageThrough("Patient?_tag=urn:sort%7Ckinds&_count=2&_sort=" + sort)).as(sort)
          .containsExactlyElementsOf(whole);
    }
    String[] values = {"5", "10", "5", "", "0.5", "-2", "10", ""};
    String[] dates = {"\"effectiveDateTime\":\"2020-06-01\"",
        "\"effectivePeriod\":{\"start\":\"2020-01-01\",\"end\":\"2020-12-31\"}", "",
        "\"effectiveDateTime\":\"2020-06-01\"", "\"effectiveDateTime\":\"2021\"", "",
        "\"effectivePeriod\":{\"start\":\"2020-03-01\"}", "\"effectiveDateTime\":\"2020-12-31T10:00:00Z\""};
    for (int i = 0; i < values.length; i++) {
      String quantity = values[i].isEmpty() ? "" : "\"valueQuantity\":{\"value\":" + values[i] + ",\"unit\":\"mg\"}";
      observation("numbers", String.join(",", List.of(quantity, dates[i]).stream().filter(x -> !x.isEmpty()).toList()));
    }
    for (String sort : List.of("value-quantity", "-value-quantity", "date", "-date", "-value-quantity,date",
        "date,-value-quantity")) {
      List<String> whole = sorted("Observation", "numbers", sort);
      assertThat(whole).as(sort).hasSize(values.length);
      assertThat(pageThrough("Observation?_tag=urn:sort%7Cnumbers&_count=3&_sort=" + sort)).as(sort)
          .containsExactlyElementsOf(whole);
    }
  }

  /**
   * A next link reads from the position it carries, not by skipping entries: its {@code _offset}
   * only counts what came before, so one beyond the 10,000 an {@code _offset} alone may skip still
   * reads the page after that position. No previous link goes back there.
   */
  @Test
  void aNextLinkDeeperThanTenThousandEntriesReadsFromItsPosition() {
    for (String family : List.of("a", "b", "c", "d", "e")) {
      patient("deep", "\"name\":[{\"family\":\"" + family + "\"}]");
    }
    List<String> whole = sorted("Patient", "deep", "family");
    Bundle first = http.parse(http.get("fhir/R4/Patient?_tag=urn:sort%7Cdeep&_sort=family&_count=2"), Bundle.class);
    String next = first.getLink("next").getUrl();
    assertThat(next).contains("_offset=2&");

    HttpResponse<String> r = http.get(next.replace("_offset=2&", "_offset=50000&"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Bundle deep = http.parse(r, Bundle.class);
    assertThat(deep.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart())
        .containsExactlyElementsOf(whole.subList(2, 4));
    assertThat(deep.getLink("next").getUrl()).contains("_offset=50002&");
    assertThat(deep.getLink("previous")).isNull();
  }

  /**
   * A resource created between two pages that sorts before them, and one deleted from the pages
   * already read, move no entry that was there all along: the next links neither repeat nor skip
   * one, as an offset would.
   */
  @Test
  void aWriteBetweenPagesNeitherRepeatsNorSkipsAnUnchangedEntry() {
    List<String> ids = new ArrayList<>();
    for (String family : List.of("m", "c", "k", "e", "g", "i", "d")) {
      ids.add(patient("moving", "\"name\":[{\"family\":\"" + family + "\"}]"));
    }
    List<String> whole = sorted("Patient", "moving", "family");
    Bundle first = http.parse(http.get("fhir/R4/Patient?_tag=urn:sort%7Cmoving&_sort=family&_count=3"),
        Bundle.class);
    List<String> paged = new ArrayList<>();
    first.getEntry().forEach(e -> paged.add(e.getResource().getIdElement().getIdPart()));
    String early = patient("moving", "\"name\":[{\"family\":\"a\"}]");
    patient("moving", "\"name\":[{\"family\":\"b\"}]");
    assertThat(http.delete("fhir/R4/Patient/" + paged.get(0)).statusCode()).isIn(200, 204);

    paged.addAll(pageThrough(first.getLink("next").getUrl()));
    assertThat(paged).doesNotContain(early).containsExactlyElementsOf(whole);
    assertThat(ids).containsExactlyInAnyOrderElementsOf(paged);
  }

  /**
   * A position that no next link of the search gave is 400 with an OperationOutcome: cut, of
   * another order, a value of the wrong kind or out of range, text that is not UTF-8, a NUL.
   */
  @Test
  void aTamperedOrMalformedPositionIs400() {
    for (String family : List.of("a", "b", "c")) {
      patient("tampered", "\"name\":[{\"family\":\"" + family + "\"}]");
    }
    String search = "fhir/R4/Patient?_tag=urn:sort%7Ctampered&_sort=family&_count=1";
    String next = http.parse(http.get(search), Bundle.class).getLink("next").getUrl();
    String after = URLDecoder.decode(next.replaceAll(".*_after=([^&]*).*", "$1"), StandardCharsets.UTF_8);
    assertThat(after).matches("[0-9]+~Patient~[^~]+~[0-9]+~s[A-Za-z0-9_-]+");
    String base = after.substring(0, after.lastIndexOf('~'));
    assertThat(http.get(search + "&_after=" + after).statusCode()).isEqualTo(200);

    for (String bad : List.of(base, base + "~l5", base + "~n5", base + "~s%27%3B--", base + "~sAA", base + "~s_w",
        base + "~_~_", base + "~x", after + "~", after.replace("~Patient~", "~Patient"),
        base + "~s" + "QUFB".repeat(200))) {
      HttpResponse<String> r = http.get(search + "&_after=" + bad);
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      assertThat(r.body()).as(bad).contains("OperationOutcome").contains("_after");
    }
    // a string of a position is a value compared with, never SQL: one after every family lists nothing
    String quoted = Base64.getUrlEncoder().withoutPadding().encodeToString("c' OR '1'='1".getBytes(
        StandardCharsets.UTF_8));
    HttpResponse<String> pastAll = http.get(search + "&_after=" + base + "~s" + quoted);
    assertThat(pastAll.statusCode()).as(pastAll.body()).isEqualTo(200);
    assertThat(http.parse(pastAll, Bundle.class).getEntry()).isEmpty();
    // a position of the sorted order is none of the default one, nor of a sort by a number
    assertThat(http.get("fhir/R4/Patient?_after=" + after).statusCode()).isEqualTo(400);
    // a number beyond any a resource may hold (9.99e308, 309 digits before the point) is none either
    for (String bad : List.of(base + "~n1e9", base + "~n" + "9".repeat(310), base + "~n0." + "1".repeat(408),
        base + "~s" + after.substring(
        after.lastIndexOf('~') + 2))) {
      HttpResponse<String> r = http.get("fhir/R4/Observation?_sort=value-quantity&_after=" + bad);
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      assertThat(r.body()).as(bad).contains("OperationOutcome");
    }
  }

  /** The ids of every page from {@code query} on, following the next links, each of which carries a position. */
  private List<String> pageThrough(String query) {
    List<String> ids = new ArrayList<>();
    String url = query.startsWith("http") ? query : "fhir/R4/" + query;
    int pages = 0;
    while (url != null) {
      HttpResponse<String> r = http.get(url);
      assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(200);
      Bundle page = http.parse(r, Bundle.class);
      page.getEntry().forEach(e -> ids.add(e.getResource().getIdElement().getIdPart()));
      url = page.getLink("next") == null ? null : page.getLink("next").getUrl();
      assertThat(url == null || url.contains("_after=")).as(url).isTrue();
      assertThat(++pages).isLessThan(50);
    }
    return ids;
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
    assertThat(deep.body()).contains("_after");
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

  /**
   * {@code _summary=count} answers the search's total, which FHIR R4 defines across all pages
   * (Bundle.total, search.html#summary): asked of a next link, it counts the whole search, not
   * what is left after the link's position, and its self link names no page.
   */
  @Test
  void aCountOfANextLinkCountsTheWholeSearch() {
    for (String family : List.of("a", "b", "c")) {
      patient("countpage", "\"name\":[{\"family\":\"" + family + "\"}]");
    }
    Bundle first = http.parse(http.get("fhir/R4/Patient?_tag=urn:sort%7Ccountpage&_sort=family&_count=2"),
        Bundle.class);
    String next = first.getLink("next").getUrl();
    assertThat(next).contains("_after=");

    Bundle count = http.parse(http.get(next + "&_summary=count"), Bundle.class);
    assertThat(count.getTotal()).isEqualTo(3);
    assertThat(count.getEntry()).isEmpty();
    assertThat(selfParameters(count)).noneMatch(p -> p.startsWith("_after") || p.startsWith("_offset"));
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
