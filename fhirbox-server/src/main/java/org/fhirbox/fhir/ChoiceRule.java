package org.fhirbox.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;

/**
 * A choice element ({@code value[x]}) takes one of its types once (FHIR R4 formats.html#choice);
 * HAPI's parser keeps the last one given and drops the others without a word, so a body naming
 * two is refused rather than stored with less than was sent.
 */
final class ChoiceRule {
  private ChoiceRule() {}

  /** The problem of a body that gives choice {@code choice} as {@code first} and again as {@code second}. */
  static String twice(BaseRuntimeChildDefinition choice, String first, String second) {
    return choice.getElementName().replace("[x]", "") + "[x] is given twice, as " + first + " and " + second
        + "; a choice element takes one value (FHIR R4 formats.html#choice)";
  }
}
