package org.fhirbox.fhir;

import ca.uhn.fhir.parser.IParserErrorHandler;
import ca.uhn.fhir.parser.json.BaseJsonLikeValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * Collects every problem HAPI's parser reports (unknown elements, wrong JSON types, bad values)
 * with where it was found, so one 400 can list them instead of stopping at the first: the first
 * {@link JsonFormatRules#MAX_ISSUES}, and how many more there were.
 */
final class StrictParseHandler implements IParserErrorHandler {
  private final List<FhirException.Issue> issues = new ArrayList<>();

  private int unlisted;

  private void add(IParseLocation where, String message) {
    if (issues.size() >= JsonFormatRules.MAX_ISSUES) {
      unlisted++;
      return;
    }
    String at = where == null || where.getParentElementName() == null ? null : where.getParentElementName();
    issues.add(new FhirException.Issue(IssueSeverity.ERROR, IssueType.STRUCTURE,
        at == null ? message : message + " (in element '" + at + "')", at));
  }

  @Override
  public void containedResourceWithNoId(IParseLocation where) {
    add(where, "contained resource has no id");
  }

  @Override
  public void incorrectJsonType(IParseLocation where, String element, BaseJsonLikeValue.ValueType expected,
      BaseJsonLikeValue.ScalarType expectedScalar, BaseJsonLikeValue.ValueType found,
      BaseJsonLikeValue.ScalarType foundScalar) {
    add(where, "element '" + element + "' has the wrong JSON type: expected "
        + describe(expected, expectedScalar) + " but found " + describe(found, foundScalar));
  }

  private static String describe(BaseJsonLikeValue.ValueType type, BaseJsonLikeValue.ScalarType scalar) {
    return scalar == null ? String.valueOf(type).toLowerCase() : String.valueOf(scalar).toLowerCase();
  }

  @Override
  public void invalidValue(IParseLocation where, String value, String error) {
    add(where, "invalid value '" + abbreviate(value) + "': " + error);
  }

  @Override
  public void missingRequiredElement(IParseLocation where, String element) {
    add(where, "missing required element '" + element + "'");
  }

  @Override
  public void unexpectedRepeatingElement(IParseLocation where, String element) {
    add(where, "element '" + element + "' may occur only once");
  }

  @Override
  public void unknownAttribute(IParseLocation where, String attribute) {
    add(where, "unknown attribute '" + attribute + "'");
  }

  @Override
  public void unknownElement(IParseLocation where, String element) {
    add(where, "unknown element '" + element + "'");
  }

  @Override
  public void unknownReference(IParseLocation where, String reference) {
    add(where, "unknown reference '" + abbreviate(reference) + "'");
  }

  @Override
  public void invalidInternalReference(IParseLocation where, String reference) {
    add(where, "invalid internal reference '" + abbreviate(reference) + "'");
  }

  @Override
  public void extensionContainsValueAndNestedExtensions(IParseLocation where) {
    add(where, "extension has both a value and nested extensions");
  }

  private static String abbreviate(String s) {
    return s == null ? "null" : s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }

  /** Throws one 400 with {@code before} (found ahead of HAPI) and everything HAPI reported. */
  void throwIfAny(List<FhirException.Issue> before) {
    if (!issues.isEmpty() || !before.isEmpty()) {
      List<FhirException.Issue> all = new ArrayList<>(before);
      all.addAll(issues);
      int more = unlisted + Math.max(0, all.size() - JsonFormatRules.MAX_ISSUES);
      if (more > 0) {
        all = new ArrayList<>(all.subList(0, JsonFormatRules.MAX_ISSUES));
        all.add(new FhirException.Issue(IssueSeverity.ERROR, IssueType.STRUCTURE, more
            + " more problems (at most " + JsonFormatRules.MAX_ISSUES + " are listed)", null));
      }
      throw new FhirException(IssueKind.STRUCTURE, all, Map.of(), null);
    }
  }
}
