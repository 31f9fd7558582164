package org.fhirbox.fhir;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import ca.uhn.fhir.rest.param.DateParam;
import ca.uhn.fhir.rest.param.ParamPrefixEnum;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.SearchClause;

/**
 * The criteria of date, number and quantity search parameters and of {@code _lastUpdated}: a value
 * with an optional prefix, at its precision, as the ranges a stored value must meet (R4
 * search.html#prefix, #date, #number, #quantity).
 */
final class SearchRanges {
  private SearchRanges() {
  }

  /**
   * {@code _lastUpdated}: an instant, so "within" and "overlaps" are the same test; one value,
   * read from {@code resource_current}, which holds one range per criterion ({@code ne} and
   * commas would need two).
   */
  static SearchClause lastUpdated(String value, long now) {
    List<SearchClause.DateRange> ranges = value.contains(",") ? List.of() : date("_lastUpdated", null, value, now);
    if (ranges.size() != 1) {
      throw FhirException.badRequest("_lastUpdated takes one value with an optional eq, gt, ge, lt, le, sa, eb or ap"
          + " prefix, not '" + DecimalLimits.abbreviate(value) + "': repeat it to AND");
    }
    SearchClause.DateRange d = ranges.get(0);
    return new SearchClause.LastUpdated(d.lowInclusive(), d.highInclusive());
  }

  /**
   * A date parameter's values, separated by commas: any of them (R4 search.html#combining);
   * {@code now} (epoch millis) is what {@code ap} measures its gap from.
   */
  static SearchClause dates(String param, String modifier, String value, long now) {
    List<SearchClause> ranges = new ArrayList<>();
    for (String one : SearchEscapes.alternatives(param, value)) {
      ranges.addAll(date(param, modifier, one, now));
    }
    return ranges.size() == 1 ? ranges.get(0) : new SearchClause.AnyOf(ranges);
  }



  /**
   * A number ({@code probability=gt0.8}) or quantity
   * ({@code value-quantity=le5.4|http://unitsofmeasure.org|mg}, {@code value-quantity=5.4||mg},
   * {@code value-quantity=5.4}) with an optional prefix (R4
   * search.html#number and #quantity). Without a prefix or with {@code eq}, the value covers its
   * precision: {@code 100} is [99.5, 100.5), {@code 5.40} is [5.395, 5.405); {@code ne} is outside
   * that; {@code ap} is within 10% of the value. A stored value is a point, so {@code sa} and
   * {@code eb} are {@code gt} and {@code lt}. Values separated by commas are OR, repeated
   * parameters AND (R4 search.html#combining).
   */
  static SearchClause number(SearchIndexer.Param p, String modifier, String value) {
    if (modifier != null) {
      throw SearchParser.unsupportedModifier(p.name(), modifier);
    }
    List<SearchClause> ranges = new ArrayList<>();
    for (String one : SearchEscapes.alternatives(p.name(), value)) {
      ranges.add(oneNumber(p, one));
    }
    return ranges.size() == 1 ? ranges.get(0) : new SearchClause.AnyOf(ranges);
  }

  private static SearchClause oneNumber(SearchIndexer.Param p, String value) {
    boolean quantity = p.kind() == RestSearchParameterTypeEnum.QUANTITY;
    String[] parts = value.split("\\|", -1);
    if (!(parts.length == 1 || (quantity && parts.length == 3))) {
      throw FhirException.badRequest(p.name() + " takes values [prefix]number"
          + (quantity ? "[|system|code]" : "") + ", separated by commas, not '" + value + "'");
    }
    String number = parts[0];
    ParamPrefixEnum prefix = number.length() > 2 ? ParamPrefixEnum.forValue(number.substring(0, 2)) : null;
    if (prefix != null) {
      number = number.substring(2);
    }
    String tooBig = DecimalLimits.problem(number).orElse(null);
    if (tooBig != null) {
      throw FhirException.badRequest(p.name() + ": " + tooBig);
    }
    BigDecimal v;
    try {
      v = new BigDecimal(number);
    } catch (NumberFormatException e) {
      throw FhirException.badRequest(p.name() + ": '" + number + "' is not a number");
    }
    BigDecimal half = BigDecimal.ONE.scaleByPowerOfTen(-v.scale()).divide(BigDecimal.valueOf(2));
    BigDecimal low = null;
    BigDecimal high = null;
    boolean lowInclusive = false;
    boolean highInclusive = false;
    ParamPrefixEnum op = prefix == null ? ParamPrefixEnum.EQUAL : prefix;
    switch (op) {
      case EQUAL, NOT_EQUAL -> {
        low = v.subtract(half);
        high = v.add(half);
        lowInclusive = true;
      }
      case GREATERTHAN, STARTS_AFTER -> low = v;
      case GREATERTHAN_OR_EQUALS -> {
        low = v;
        lowInclusive = true;
      }
      case LESSTHAN, ENDS_BEFORE -> high = v;
      case LESSTHAN_OR_EQUALS -> {
        high = v;
        highInclusive = true;
      }
      case APPROXIMATE -> {
        BigDecimal margin = v.abs().divide(BigDecimal.TEN).max(half);
        low = v.subtract(margin);
        high = v.add(margin);
        lowInclusive = true;
        highInclusive = true;
      }
    }
    String system = parts.length == 3 && !parts[1].isEmpty() ? parts[1] : null;
    String code = parts.length == 3 && !parts[2].isEmpty() ? parts[2] : null;
    return new SearchClause.NumberRange(p.name(), low, lowInclusive, high, highInclusive,
        op == ParamPrefixEnum.NOT_EQUAL, system, code);
  }


  /**
   * One date with an optional prefix, at the precision given ({@code 2020}, {@code 2020-05-01},
   * ...): the ranges any of which a stored date must meet (two for {@code ne}, one otherwise).
   */
  private static List<SearchClause.DateRange> date(String param, String modifier, String value, long now) {
    if (modifier != null) {
      throw SearchParser.unsupportedModifier(param, modifier);
    }
    DateParam date;
    try {
      String restored = DateText.plusRestored(value);
      date = DateText.offsetAllowed(restored) ? new DateParam(restored) : null;
    } catch (RuntimeException e) {
      date = null;
    }
    if (date == null || date.getValue() == null) {
      throw FhirException.badRequest(param + " value '" + value + "' is not a date with an optional"
          + " eq, ne, gt, ge, lt, le, sa, eb or ap prefix");
    }
    // The value covers its whole precision, as an indexed date does (SearchIndexer): 2020-05 is
    // all of May. eq: the indexed range lies within it; ne: it does not (it begins before or ends
    // after); gt, ge, lt, le: the range above or below the value overlaps the indexed range; sa:
    // the indexed range begins after the value, eb: it ends before it (R4 search.html#prefix).
    boolean zoned = DateBounds.zoned(date.getValueAsString());
    long low = DateBounds.low(date.getValue(), zoned);
    long high = DateBounds.high(date.getValue(), date.getPrecision(), zoned);
    ParamPrefixEnum prefix = date.getPrefix() == null ? ParamPrefixEnum.EQUAL : date.getPrefix();
    return switch (prefix) {
      case EQUAL -> List.of(new SearchClause.DateRange(param, low, high, true));
      case NOT_EQUAL -> List.of(new SearchClause.DateRange(param, null, low - 1, false),
          new SearchClause.DateRange(param, high + 1, null, false));
      case GREATERTHAN -> List.of(new SearchClause.DateRange(param, high + 1, null, false));
      case GREATERTHAN_OR_EQUALS -> List.of(new SearchClause.DateRange(param, low, null, false));
      case LESSTHAN -> List.of(new SearchClause.DateRange(param, null, low - 1, false));
      case LESSTHAN_OR_EQUALS -> List.of(new SearchClause.DateRange(param, null, high, false));
      // "within" with one bound: the indexed range's start is after the value, or its end before it
      case STARTS_AFTER -> List.of(new SearchClause.DateRange(param, high + 1, null, true));
      case ENDS_BEFORE -> List.of(new SearchClause.DateRange(param, null, low - 1, true));
      case APPROXIMATE -> List.of(approximately(param, low, high, now));
    };
  }

  /**
   * {@code ap}: the value's range [low, high] widened on each side by a tenth of the gap between
   * now and that range (none when now is within it), which the stored range must overlap (R4
   * search.html#prefix: "10% of the gap between now and the date"). The gap is measured to the
   * nearer end, {@code high + 1} being where a past value ends: {@code ap2026-01-01} 100 days
   * after that day matches 2025-12-22 to the end of 2026-01-11.
   */
  private static SearchClause.DateRange approximately(String param, long low, long high, long now) {
    long end = high + 1;
    long gap = now >= end ? now - end : now < low ? low - now : 0;
    long margin = gap / 10;
    return new SearchClause.DateRange(param, low - margin, end + margin - 1, false);
  }
}
