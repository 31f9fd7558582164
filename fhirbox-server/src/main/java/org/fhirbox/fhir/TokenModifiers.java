package org.fhirbox.fhir;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.SearchClause;
import org.fhirbox.db.SearchValue;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;

/**
 * The modifiers of token parameters that read index rows of their own (R4 search.html#token),
 * stored under the parameter's name and the modifier ({@code identifier:of-type}) beside the
 * parameter's own rows: {@code :of-type}, an Identifier's type and value, and {@code :text}, the
 * text that goes with a code.
 */
final class TokenModifiers {
  /**
   * The suffix of the rows {@code identifier:of-type=system|code|value} searches: one per Coding of
   * an Identifier's type that has a system and a code, the Coding's system as the row's system and
   * its code, with {@code \} and {@code |} escaped, then {@code |} and the Identifier's value as the
   * row's code, so that no other code and value give the same row.
   */
  static final String OF_TYPE = ":of-type";
  /**
   * The suffix of the rows {@code code:text=...} searches: {@code CodeableConcept.text}, each
   * {@code Coding.display} and {@code Identifier.type.text}, stored as a string parameter's values.
   */
  static final String TEXT = ":text";
  /** The element types that have a text {@code :text} matches (R4 search.html#token). */
  private static final Set<String> WITH_TEXT = Set.of("CodeableConcept", "Coding", "Identifier");

  private TokenModifiers() {
  }

  /** Whether {@code p} takes {@code :of-type}: a token parameter with Identifier elements. */
  static boolean takesOfType(SearchIndexer.Param p) {
    return p.kind() == RestSearchParameterTypeEnum.TOKEN && p.valueTypes().contains("Identifier");
  }

  /** Whether {@code p} takes {@code :text}: a token parameter with CodeableConcept, Coding or Identifier elements. */
  static boolean takesText(SearchIndexer.Param p) {
    return p.kind() == RestSearchParameterTypeEnum.TOKEN && p.valueTypes().stream().anyMatch(WITH_TEXT::contains);
  }

  /** Adds to {@code out} the rows of the value {@code v} of the token parameter {@code param} its modifiers read. */
  static void addRows(List<SearchValue> out, String param, IBase v) {
    Set<String> texts = new LinkedHashSet<>();
    if (v instanceof Identifier id && id.hasType()) { // hasType first: getType() would add an empty type
      for (Coding c : id.getType().getCoding()) {
        if (id.hasValue() && c.hasSystem() && c.hasCode()) {
          out.add(SearchValue.token(param + OF_TYPE, c.getSystem(), ofTypeCode(c.getCode(), id.getValue())));
        }
      }
      texts.add(id.getType().getText());
    } else if (v instanceof CodeableConcept cc) {
      texts.add(cc.getText());
      cc.getCoding().forEach(c -> texts.add(c.getDisplay()));
    } else if (v instanceof Coding c) {
      texts.add(c.getDisplay());
    }
    for (String text : texts) {
      if (text != null && !text.isBlank()) {
        out.add(SearchValue.string(param + TEXT, text));
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

  /**
   * The parameter {@code code:text=...} searches (R4 search.html#token: "the search parameter is
   * processed as a string search against the text associated with the code/value"): a string
   * parameter over the rows {@link #TEXT} names, so it matches as a string parameter does, the
   * start of the text, ignoring case and accents.
   */
  static SearchIndexer.Param textOf(SearchIndexer.Param p) {
    return new SearchIndexer.Param(p.name() + TEXT, RestSearchParameterTypeEnum.STRING, p.paths(), p.valueTypes());
  }

  /** The modifiers a token parameter takes, for its documentation in the CapabilityStatement. */
  static String documentation(SearchIndexer.Param p) {
    return "[system|]code; modifiers :not" + (takesOfType(p) ? ", :of-type (system|code|value: the Identifier's"
        + " type as a Coding, and its value)" : "") + (takesText(p) ? ", :text (the start of CodeableConcept.text,"
        + " a Coding.display or Identifier.type.text, as a string parameter matches)" : "") + ", :missing";
  }

  private static String ofTypeCode(String typeCode, String value) {
    return typeCode.replace("\\", "\\\\").replace("|", "\\|") + "|" + value;
  }
}
