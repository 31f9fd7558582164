package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Test;

/**
 * Numbers and quantities of every size a resource may hold (1e-308 to 9.99e308, see
 * {@code DecimalLimits}) are found by number search (R4 search.html#number, #quantity) and sorted
 * by their value, not only those of 20 digits before the point and 10 after: a value of 1e29 is
 * greater than 1e25, 1e-12 is found by its own value, and neither is {@code :missing}. Each test
 * searches only the Observations of a code of its own. Subclasses supply the database.
 */
abstract class NumberRangeSearchContract extends ServerPerClassContract {

  private String observation(String code, String value) {
    return http.create("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
        + "\"urn:range\",\"code\":\"" + code + "\"}]},\"valueQuantity\":{\"value\":" + value
        + ",\"system\":\"http://unitsofmeasure.org\",\"code\":\"mg\"}}");
  }

  private List<String> found(String code, String criteria) {
    return http.foundIds("Observation?code=urn:range%7C" + code + "&_count=100&" + criteria);
  }

  @Test
  void valuesBeyondTwentyIntegerDigitsAreFoundByTheirValue() {
    String huge = observation("big", "123456789012345678901234567890");
    String hugeNegative = observation("big", "-1e20");
    String largest = observation("big", "9.99e308");
    String small = observation("big", "5");

    assertThat(found("big", "value-quantity=gt1e25")).containsExactlyInAnyOrder(huge, largest);
    assertThat(found("big", "value-quantity=lt-1e19")).containsExactly(hugeNegative);
    assertThat(found("big", "value-quantity=123456789012345678901234567890")).containsExactly(huge);
    assertThat(found("big", "value-quantity=9.99e308%7Chttp://unitsofmeasure.org%7Cmg")).containsExactly(largest);
    assertThat(found("big", "value-quantity:missing=true")).isEmpty();
    assertThat(found("big", "value-quantity:missing=false")).containsExactlyInAnyOrder(huge, hugeNegative,
        largest, small);
    assertThat(found("big", "value-quantity=ne5")).containsExactlyInAnyOrder(huge, hugeNegative, largest);
    assertThat(found("big", "_sort=value-quantity")).containsExactly(hugeNegative, small, huge, largest);
    assertThat(found("big", "_sort=-value-quantity")).containsExactly(largest, huge, small, hugeNegative);
  }

  @Test
  void valuesBeyondTenDecimalPlacesAreFoundByTheirValue() {
    String tiny = observation("tiny", "0.000000000001");
    String tinier = observation("tiny", "1e-300");
    String precise = observation("tiny", "1.23456789012345");
    String zero = observation("tiny", "0");

    assertThat(found("tiny", "value-quantity=1e-12")).containsExactly(tiny);
    assertThat(found("tiny", "value-quantity=1e-300")).containsExactly(tinier);
    assertThat(found("tiny", "value-quantity=1.23456789012345")).containsExactly(precise);
    assertThat(found("tiny", "value-quantity=gt0&value-quantity=lt1e-11")).containsExactlyInAnyOrder(tiny, tinier);
    assertThat(found("tiny", "value-quantity=gt0&value-quantity=lt1e-299")).containsExactly(tinier);
    assertThat(found("tiny", "_sort=value-quantity")).containsExactly(zero, tinier, tiny, precise);
  }

  /** The next links carry each page's last value whole, so paging by such values repeats and skips nothing. */
  @Test
  void pagingSortedByValuesOfEverySizeRepeatsAndSkipsNothing() {
    List<String> expected = new ArrayList<>();
    for (String v : List.of("-9.99e308", "-1e20", "-1e-300", "0", "1e-300", "1.5e-12", "2.5", "1e29", "9.99e308")) {
      expected.add(observation("paging", v));
    }
    List<String> listed = new ArrayList<>();
    String url = "fhir/R4/Observation?code=urn:range%7Cpaging&_sort=value-quantity&_count=2";
    while (url != null) {
      var response = http.get(url);
      assertThat(response.statusCode()).as(url + ": " + response.body()).isEqualTo(200);
      Bundle page = http.parse(response, Bundle.class);
      page.getEntry().forEach(e -> listed.add(e.getResource().getIdElement().getIdPart()));
      url = page.getLink("next") == null ? null : page.getLink("next").getUrl();
    }
    assertThat(listed).containsExactlyElementsOf(expected);
  }
}
