package org.fhirbox.fhir;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.util.ArrayList;
import java.util.List;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.SearchClause;
import org.fhirbox.db.SearchValue;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;

/**
 * The modifiers of token parameters that read index rows of their own (R4 search.html#token),
 * stored under the parameter's name and the modifier ({@code identifier:of-type}) beside the
 * parameter's own rows: {@code :of-type}, an Identifier's type and value.
 */
final class TokenModifiers {
  /**
   * The suffix of the rows {@code identifier:of-type=system|code|value} searches: one per Coding of
   * an Identifier's type that has a system and a code, the Coding's system as the row's system and
   * its code, with {@code \} and {@code |} escaped, then {@code |} and the Identifier's value as the
   * row's code, so that no other code and value give the same row.
   */
  static final String OF_TYPE = ":of-type";

  private TokenModifiers() {
  }

  /** Whether {@code p} takes {@code :of-type}: a token parameter with Identifier elements. */
  static boolean takesOfType(SearchIndexer.Param p) {
    return p.kind() == RestSearchParameterTypeEnum.TOKEN && p.valueTypes().contains("Identifier");
  }

  /** Adds to {@code out} the rows of the value {@code v} of the token parameter {@code param} its modifiers read. */
  static void addRows(List<SearchValue> out, String param, IBase v) {
    if (v instanceof Identifier id && id.hasValue()) {
      for (Coding c : id.getType().getCoding()) {
        if (c.hasSystem() && c.hasCode()) {
          out.add(SearchValue.token(param + OF_TYPE, c.getSystem(), ofTypeCode(c.getCode(), id.getValue())));
        }
      }
    }
  }

  /**
   * {@code identifier:of-type=system|code|value} (R4 search.html#token): an Identifier whose type
   * has a Coding of that system and code and whose value is the value. All three parts are
   * required; a {@code |} within a part is written {@code \|} (R4 search.html#escaping). Commas
   * are OR.
   */
  static SearchClause ofType(SearchIndexer.Param p, String value) {
    List<SearchClause.TokenValue> values = new ArrayList<>();
    for (String escaped : SearchEscapes.alternatives(p.name() + OF_TYPE, value)) {
      List<String> parts = SearchEscapes.split(escaped, '|');
      if (parts.size() != 3 || parts.contains("")) {
        throw FhirException.badRequest("'" + p.name() + OF_TYPE + "' takes the type's system, the type's code and"
            + " the identifier's value, all three, as system|code|value (a '|' within a part is written \\|; R4"
            + " search.html#token), not '" + DecimalLimits.abbreviate(escaped) + "'");
      }
      values.add(new SearchClause.TokenValue(SearchEscapes.unescape(parts.get(0)),
          ofTypeCode(SearchEscapes.unescape(parts.get(1)), SearchEscapes.unescape(parts.get(2)))));
    }
    return new SearchClause.Token(p.name() + OF_TYPE, values);
  }

  /** The modifiers a token parameter takes, for its documentation in the CapabilityStatement. */
  static String documentation(SearchIndexer.Param p) {
    return "[system|]code; modifiers :not" + (takesOfType(p) ? ", :of-type (system|code|value: the Identifier's"
        + " type as a Coding, and its value)" : "") + ", :missing";
  }

  private static String ofTypeCode(String typeCode, String value) {
    return typeCode.replace("\\", "\\\\").replace("|", "\\|") + "|" + value;
  }
}
