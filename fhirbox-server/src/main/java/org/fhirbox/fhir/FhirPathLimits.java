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
 * checks no interrupt, and the patch's budget is only looked at between operations, so what one
 * path could make cost more is refused (400) before it runs: measured on HAPI's R4 engine, five
 * thousand identifiers took 4 s to {@code distinct()} and 26 s to match against
 * {@code %resource}, and a path of 250 characters of chained {@code replace()} ran out of heap.
 * What is left grows with the resource: one {@code descendants().where(...)} over 8 MiB of JSON
 * took 3 to 8 s, by which a patch may still overrun its budget once.
 */
final class FhirPathLimits {
  /** Long enough for any path that names elements; deeper nesting overflows the engine's recursive parser. */
  static final int MAX_PATH = 2000;
  /** A regular expression the client writes, run on text the client may have written, can take exponential time. */
  private static final Set<Function> REGEX = EnumSet.of(Function.Matches, Function.MatchesFull,
      Function.ReplaceMatches);
  /**
   * Functions that make new values or collections a later step can feed on, each step doubling
   * (or more) what the one before made; a patch path selects elements of the resource and needs
   * none of them.
   */
  private static final Set<Function> GROWING = EnumSet.of(Function.Select, Function.Aggregate, Function.Combine,
      Function.Replace, Function.Encode, Function.Escape, Function.Split, Function.ToChars, Function.Join);
  /** Functions HAPI evaluates by comparing every element of a collection with every other. */
  private static final Set<Function> PAIRWISE = EnumSet.of(Function.Distinct, Function.IsDistinct, Function.Union,
      Function.Intersect, Function.Exclude, Function.SubsetOf, Function.SupersetOf);
  /** Operators that compare every element on one side with every one on the other. */
  private static final Set<Operation> PAIRWISE_OPERATORS = EnumSet.of(Operation.Union, Operation.In,
      Operation.Contains);
  /**
   * Functions and operators that need what the server does not load: StructureDefinitions (a type
   * test or cast, a profile check) or a terminology service ({@code memberOf}). HAPI's engine
   * finds type definitions on some class paths and not on others; refusing them keeps a path's
   * answer the same wherever the server runs.
   */
  private static final Set<Function> TYPED = EnumSet.of(Function.Is, Function.As, Function.OfType,
      Function.ConformsTo, Function.MemberOf);
  private static final Set<Operation> TYPED_OPERATORS = EnumSet.of(Operation.Is, Operation.As);
  /**
   * Functions that visit every element below each input: one per path keeps a path's cost in
   * proportion to the resource's size; {@code descendants().descendants()} would be its square.
   */
  private static final Set<Function> WHOLE_TREE = EnumSet.of(Function.Descendants, Function.Repeat);

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
    requireAllowed(parsed);
    if (wholeTree(parsed) > 1) {
      throw FhirException.badRequest("a patch path may call descendants() or repeat() once: each visits every"
          + " element below its input");
    }
  }

  private static void requireAllowed(ExpressionNode node) {
    if (node == null) {
      return;
    }
    if (node.getKind() == ExpressionNode.Kind.Function) {
      Function f = node.getFunction();
      String why = REGEX.contains(f) ? "regular expressions are not evaluated here"
          : GROWING.contains(f) ? "it makes new values that later steps could grow without bound; a patch path"
              + " selects elements of the resource"
          : PAIRWISE.contains(f) ? "it compares every element with every other, which costs the square of their number"
          : f == Function.DefineVariable ? "a patch path uses no variables"
          : f == Function.MemberOf ? "it needs a terminology service, which the server does not have"
          : TYPED.contains(f) ? "it needs type definitions, which the server does not load" : null;
      if (why != null) {
        throw FhirException.badRequest("a patch path may not call " + f.toCode() + "(): " + why);
      }
    }
    if (node.getKind() == ExpressionNode.Kind.Constant && node.getConstant() instanceof FHIRConstant c) {
      // %resource in a function's argument would visit the whole resource once for each element
      throw FhirException.badRequest("a patch path uses no variables (" + c.getValue() + "); it starts at the"
          + " resource");
    }
    if (node.getOperation() != null && TYPED_OPERATORS.contains(node.getOperation())) {
      throw FhirException.badRequest("a patch path may not use '" + node.getOperation().toCode() + "': it needs"
          + " type definitions, which the server does not load");
    }
    // the right side only: on the left is all the chain before it, (a | 'x') | b
    if (node.getOperation() != null && PAIRWISE_OPERATORS.contains(node.getOperation())
        && !literal(node.getOpNext())) {
      throw FhirException.badRequest("a patch path may use '" + node.getOperation().toCode() + "' only with"
          + " literals on its right (system in ('urn:a' | 'urn:b')): it compares every element with every other");
    }
    if (node.getParameters() != null) {
      node.getParameters().forEach(FhirPathLimits::requireAllowed);
    }
    requireAllowed(node.getGroup());
    requireAllowed(node.getInner());
    requireAllowed(node.getOpNext());
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

  private static int wholeTree(ExpressionNode node) {
    if (node == null) {
      return 0;
    }
    int n = node.getKind() == ExpressionNode.Kind.Function && WHOLE_TREE.contains(node.getFunction()) ? 1 : 0;
    if (node.getParameters() != null) {
      n += node.getParameters().stream().mapToInt(FhirPathLimits::wholeTree).sum();
    }
    return n + wholeTree(node.getGroup()) + wholeTree(node.getInner()) + wholeTree(node.getOpNext());
  }
}
