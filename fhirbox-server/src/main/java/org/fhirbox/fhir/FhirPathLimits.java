package org.fhirbox.fhir;

import java.util.EnumSet;
import java.util.Set;
import org.fhirbox.core.FhirException;
import org.hl7.fhir.r4.fhirpath.ExpressionNode;
import org.hl7.fhir.r4.fhirpath.ExpressionNode.Function;
import org.hl7.fhir.r4.fhirpath.ExpressionNode.Operation;
import org.hl7.fhir.r4.fhirpath.FHIRPathUtilityClasses.FHIRConstant;

/**
 * What a FHIRPath Patch path ({@link FhirPathPatch}) may be, so that evaluating one costs about
 * the resource's size times the path's length. HAPI's engine takes no time or size limit and
 * checks no interrupt, and the patch's budget is only looked at between operations, so a path is
 * held to what selects elements of the resource, and anything else is refused (400) before it
 * runs. An allow-list, since every function outside it that was tried could run for minutes or
 * out of heap on a small resource: {@code repeat(toString() & 'a')} never ends,
 * {@code (1.5).round(20000000)} ran past 80 s, chained {@code trace()} kept every item it saw,
 * {@code identifier ~ identifier} and {@code (identifier | 'x')} compare every element with every
 * other, five thousand identifiers took 4 s to {@code distinct()} and 26 s to match against
 * {@code %resource}. What is left grows with the resource times the path: one
 * {@code descendants().where(...)} over 8 MiB of JSON took 3 to 8 s.
 */
final class FhirPathLimits {
  /** Long enough for any path that names elements; deeper nesting overflows the engine's recursive parser. */
  static final int MAX_PATH = 2000;
  /**
   * Functions that select, test or convert what they are given, each in time and space in
   * proportion to it: navigation ({@code where}, {@code first}, {@code [n]}, {@code extension(url)},
   * {@code children}, {@code descendants} once), existence and counting, string tests and
   * conversions, and {@code resolve()} (which selects nothing here: a patch changes no other resource).
   */
  private static final Set<Function> SELECTING = EnumSet.of(Function.Empty, Function.Not, Function.Exists,
      Function.Count, Function.Where, Function.All, Function.Item, Function.Single, Function.First, Function.Last,
      Function.Tail, Function.Skip, Function.Take, Function.Iif, Function.Children, Function.Descendants,
      Function.Extension, Function.HasValue, Function.Resolve, Function.AllFalse, Function.AnyFalse,
      Function.AllTrue, Function.AnyTrue, Function.Upper, Function.Lower, Function.Trim, Function.IndexOf,
      Function.Substring, Function.StartsWith, Function.EndsWith, Function.Contains, Function.Length,
      Function.Today, Function.Now, Function.ToBoolean, Function.ToInteger, Function.ToString, Function.ToDecimal,
      Function.ToDateTime, Function.ToTime, Function.ConvertsToBoolean, Function.ConvertsToInteger,
      Function.ConvertsToString, Function.ConvertsToDecimal, Function.ConvertsToDateTime, Function.ConvertsToDate,
      Function.ConvertsToTime, Function.Abs, Function.Ceiling, Function.Floor, Function.Truncate);
  /** A regular expression the client writes, run on text the client may have written, can take exponential time. */
  private static final Set<Function> REGEX = EnumSet.of(Function.Matches, Function.MatchesFull,
      Function.ReplaceMatches);
  /** Type tests and casts: the engine here has no type definitions to judge them by. */
  private static final Set<Function> TYPED = EnumSet.of(Function.OfType, Function.Is, Function.As,
      Function.Type, Function.ConformsTo, Function.MemberOf);
  /** Operators that compare or combine one value with one value. */
  private static final Set<Operation> SINGLE = EnumSet.of(Operation.Equals, Operation.NotEquals,
      Operation.LessThan, Operation.Greater, Operation.LessOrEqual, Operation.GreaterOrEqual, Operation.And,
      Operation.Or, Operation.Xor, Operation.Implies);
  /**
   * Operators whose result can outgrow their operands ({@code a & a} doubles a text, {@code x * x}
   * a decimal's digits) or that compare every element on the left with every one on the right:
   * only with a literal (or a parenthesised list of them) on the right, where they grow by the
   * path's length at most ({@code system in ('urn:a' | 'urn:b')}, {@code count() + 1}).
   */
  private static final Set<Operation> LITERAL_RIGHT = EnumSet.of(Operation.In, Operation.Contains,
      Operation.Plus, Operation.Minus, Operation.Times, Operation.DivideBy, Operation.Div, Operation.Mod,
      Operation.Concatenate);

  private FhirPathLimits() {}

  /** The path's text, before it is parsed; 400 when it is too long. */
  static void requireShort(String path) {
    if (path.length() > MAX_PATH) {
      throw FhirException.badRequest("the path has " + path.length() + " characters; a patch path has at most "
          + MAX_PATH + " characters");
    }
  }

  /** The parsed path; 400 naming the first thing in it that could make its cost outgrow the resource. */
  static void requireBounded(ExpressionNode parsed) {
    if (requireAllowed(parsed) > 1) {
      throw FhirException.badRequest("a patch path may call descendants() once: it visits every element below"
          + " its input");
    }
  }

  /** 400 for what {@code node} and what follows it may not use; else how often they call descendants(). */
  private static int requireAllowed(ExpressionNode node) {
    if (node == null) {
      return 0;
    }
    if (node.getKind() == ExpressionNode.Kind.Function && !SELECTING.contains(node.getFunction())) {
      Function f = node.getFunction();
      String why = REGEX.contains(f) ? "regular expressions are not evaluated here"
          : f == Function.MemberOf ? "it needs a terminology service, which the server does not have"
          : TYPED.contains(f) ? "type tests need type definitions, which the server does not load"
          : "a patch path selects elements of the resource, and this function could make it cost more than the"
              + " resource's size (paths may use where(), exists(), first(), [n], extension(url), children(),"
              + " descendants() once, string tests and conversions)";
      throw FhirException.badRequest("a patch path may not call " + f.toCode() + "(): " + why);
    }
    if (node.getKind() == ExpressionNode.Kind.Constant && node.getConstant() instanceof FHIRConstant c) {
      // %resource in a function's argument would visit the whole resource once for each element
      throw FhirException.badRequest("a patch path uses no variables (" + c.getValue() + "); it starts at the"
          + " resource");
    }
    Operation op = node.getOperation();
    if (op != null) {
      // a union also compares every element on its left with every other: literals on both sides
      boolean allowed = SINGLE.contains(op)
          || LITERAL_RIGHT.contains(op) && literal(node.getOpNext())
          || op == Operation.Union && literal(node) && literal(node.getOpNext());
      if (!allowed) {
        throw FhirException.badRequest("a patch path may not use '" + op.toCode() + "' here: "
            + (op == Operation.Is || op == Operation.As ? "type tests need type definitions, which the server does"
                + " not load"
                : LITERAL_RIGHT.contains(op) || op == Operation.Union ? "only with literals on its right"
                    + (op == Operation.Union ? " and left" : "") + " (system in ('urn:a' | 'urn:b')), as it"
                    + " could otherwise compare every element with every other or outgrow the resource"
                : "it compares every element with every other"));
      }
    }
    int descendants = node.getKind() == ExpressionNode.Kind.Function && node.getFunction() == Function.Descendants
        ? 1 : 0;
    if (node.getParameters() != null) {
      descendants += node.getParameters().stream().mapToInt(FhirPathLimits::requireAllowed).sum();
    }
    return descendants + requireAllowed(node.getGroup()) + requireAllowed(node.getInner())
        + requireAllowed(node.getOpNext());
  }

  /**
   * Whether the operand {@code node} (not the operator after it) is a literal or a parenthesised
   * list of them, {@code ('a' | 'b')}: as long as the path at most, whatever the resource.
   */
  private static boolean literal(ExpressionNode node) {
    if (node == null || node.getInner() != null) {
      return false;
    }
    if (node.getKind() == ExpressionNode.Kind.Constant) {
      return !(node.getConstant() instanceof FHIRConstant);
    }
    if (node.getKind() != ExpressionNode.Kind.Group) {
      return false;
    }
    for (ExpressionNode n = node.getGroup(); n != null; n = n.getOpNext()) {
      if (!literal(n)) {
        return false;
      }
    }
    return true;
  }
}
