package org.fhirbox.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * The rules of the FHIR R4 JSON format (json.html) that HAPI's parser lets through, checked on
 * the request body before HAPI sees it:
 * <ul>
 *   <li>RFC 8259 JSON without extensions (no single quotes, no leading {@code +}), and no
 *       duplicate keys (RFC 8259 section 4: names SHOULD be unique; FHIR needs them to be);</li>
 *   <li>no empty objects, arrays or strings, and {@code null} only inside the arrays of a repeating
 *       primitive and its {@code _name} twin, where it keeps them aligned (json.html#primitive);</li>
 *   <li>a boolean is a JSON boolean; integer, positiveInt, unsignedInt and decimal are JSON
 *       numbers; every other primitive is a JSON string (json.html#primitive);</li>
 *   <li>no {@code \u0000} and no unpaired surrogate in a string (datatypes.html#string: the
 *       characters of XML 1.0, which has neither);</li>
 *   <li>numbers within {@link DecimalLimits}, checked on their text before any conversion;</li>
 *   <li>dateTime and instant values in R4's forms ({@link DateTimeRules}).</li>
 * </ul>
 * Every problem found is reported in one 400 OperationOutcome, each issue with its location; the
 * check stops at the first problem past {@link #MAX_ISSUES}, which ends the list with a note saying so.
 */
final class JsonFormatRules {
  /** JSON as the rules read it: duplicate keys refused; a JSON Patch is read with it too. */
  static final JsonFactory JSON = JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();
  private static final Set<String> NUMBER_TYPES = Set.of("integer", "positiveInt", "unsignedInt", "decimal");
  private static final Set<String> INTEGER_TYPES = Set.of("integer", "positiveInt", "unsignedInt");
  static final int MAX_ISSUES = 100;

  /** The JSON as read: kept small on purpose; numbers keep their text. */
  private sealed interface Node {}

  private record Obj(Map<String, Node> fields) implements Node {}

  private record Arr(List<Node> items) implements Node {}

  private record Str(String value) implements Node {}

  private record Num(String text, boolean integral) implements Node {}

  private record Bool(boolean value) implements Node {}

  private enum Null implements Node { NULL }

  private final FhirContext ctx;

  JsonFormatRules(FhirContext ctx) {
    this.ctx = ctx;
  }

  /**
   * The problems of {@code body} that are safe to hand to HAPI's parser, so that one 400 can list
   * them beside HAPI's own. Throws a 400 at once for what is not: malformed JSON, duplicate keys,
   * and numbers beyond {@link DecimalLimits} (HAPI would spend minutes converting them).
   */
  List<FhirException.Issue> check(String body) {
    List<FhirException.Issue> issues = new ArrayList<>();
    // set for problems HAPI's parser would crash on or report with Java's words: refused at once
    boolean[] unsafe = {false};
    Node root;
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() == null) {
        throw FhirException.badRequest("cannot parse the JSON body: it is empty");
      }
      root = read(p, "", issues, unsafe);
      if (p.nextToken() != null) {
        throw FhirException.badRequest("cannot parse the JSON body: content follows the resource at "
            + where(p));
      }
    } catch (StreamConstraintsException e) {
      // Jackson reads and writes at most this depth; HAPI would fail writing deeper resources
      throw FhirException.badRequest("cannot parse the JSON body: its nesting depth exceeds "
          + StreamReadConstraints.DEFAULT_MAX_DEPTH + " (objects and arrays inside one another) at " + where(e));
    } catch (JsonProcessingException e) {
      throw FhirException.badRequest("cannot parse the JSON body: " + e.getOriginalMessage() + " at " + where(e));
    } catch (IOException e) {
      throw FhirException.badRequest("cannot parse the JSON body: " + e.getMessage());
    }
    if (root instanceof Obj o) {
      resource(o, null, issues, unsafe);
    }
    if (unsafe[0]) {
      throw new FhirException(IssueKind.STRUCTURE, issues, Map.of(), null);
    }
    return issues;
  }

  private static String where(JsonParser p) {
    return "line " + p.currentLocation().getLineNr() + ", column " + p.currentLocation().getColumnNr();
  }

  private static String where(JsonProcessingException e) {
    return e.getLocation() == null ? "an unknown position"
        : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
  }

  /**
   * Adds a problem; the one after the {@link #MAX_ISSUES}th ends the check with a 400 at once, so a
   * body of millions of problems (empty strings, say) costs no more than one of a hundred.
   */
  private static void issue(List<FhirException.Issue> issues, String path, String message) {
    if (issues.size() >= MAX_ISSUES) {
      List<FhirException.Issue> shown = new ArrayList<>(issues);
      shown.add(new FhirException.Issue(IssueSeverity.ERROR, IssueType.STRUCTURE, "more than " + MAX_ISSUES
          + " problems (at most " + MAX_ISSUES + " are listed); the body was not checked further", null));
      throw new FhirException(IssueKind.STRUCTURE, shown, Map.of(), null);
    }
    String at = path.isEmpty() ? "(root)" : path;
    issues.add(new FhirException.Issue(IssueSeverity.ERROR, IssueType.STRUCTURE, at + ": " + message,
        path.isEmpty() ? null : path));
  }

  private Node read(JsonParser p, String path, List<FhirException.Issue> issues, boolean[] unsafe)
      throws IOException {
    JsonToken t = p.currentToken();
    switch (t) {
      case START_OBJECT -> {
        Map<String, Node> fields = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          checkText(name, path, "the property name", issues);
          p.nextToken();
          fields.put(name, read(p, path.isEmpty() ? name : path + "." + name, issues, unsafe));
        }
        if (fields.isEmpty()) {
          issue(issues, path, "an empty object; FHIR JSON leaves out elements without content");
        } else {
          checkNulls(fields, path, issues);
        }
        return new Obj(fields);
      }
      case START_ARRAY -> {
        List<Node> items = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          items.add(read(p, path + "[" + items.size() + "]", issues, unsafe));
        }
        if (items.isEmpty()) {
          issue(issues, path, "an empty array; FHIR JSON leaves out elements without content");
        }
        return new Arr(items);
      }
      case VALUE_STRING -> {
        String s = p.getText();
        if (s.isEmpty()) {
          // json.html#primitive: a string is never empty; the property is left out instead
          issue(issues, path, "an empty string; FHIR JSON leaves out elements without content");
        }
        checkText(s, path, "the string", issues);
        return new Str(s);
      }
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
        // the token's text: nothing has converted it yet
        String text = p.getText();
        Optional<String> problem = DecimalLimits.problem(text);
        if (problem.isPresent()) {
          issue(issues, path, problem.get());
          unsafe[0] = true;
        }
        return new Num(text, t == JsonToken.VALUE_NUMBER_INT);
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        return new Bool(t == JsonToken.VALUE_TRUE);
      }
      case VALUE_NULL -> {
        return Null.NULL;
      }
      default -> throw FhirException.badRequest("cannot parse the JSON body: unexpected " + t + " at " + where(p));
    }
  }

  private static void checkText(String s, String path, String what, List<FhirException.Issue> issues) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\u0000') {
        issue(issues, path, what + " contains the character U+0000, which FHIR does not allow");
        return;
      }
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        issue(issues, path, what + " contains an unpaired surrogate \\u" + Integer.toHexString(c).toUpperCase()
            + ", which is not a Unicode character");
        return;
      }
    }
  }

  /**
   * {@code null} may stand only in the array of a repeating primitive that has a {@code _name}
   * twin (or in the twin), keeping values and extensions at the same index (json.html#primitive).
   */
  private static void checkNulls(Map<String, Node> fields, String path, List<FhirException.Issue> issues) {
    for (Map.Entry<String, Node> e : fields.entrySet()) {
      String name = e.getKey();
      String at = path.isEmpty() ? name : path + "." + name;
      if (e.getValue() == Null.NULL) {
        issue(issues, at, "null is not a value; leave the element out");
      } else if (e.getValue() instanceof Arr a && a.items().contains(Null.NULL)) {
        String twin = name.startsWith("_") ? name.substring(1) : "_" + name;
        if (!(fields.get(twin) instanceof Arr)) {
          issue(issues, at, "null in an array is allowed only to align a primitive array with its '" + twin
              + "' extensions");
        }
      }
    }
  }

  /** Type checks for a resource object; {@code path} null means the root. */
  private void resource(Obj o, String path, List<FhirException.Issue> issues, boolean[] unsafe) {
    if (!(o.fields().get("resourceType") instanceof Str type)) {
      return; // HAPI reports a missing or unknown resourceType
    }
    RuntimeResourceDefinition def;
    try {
      def = ctx.getResourceDefinition(type.value());
    } catch (RuntimeException e) {
      return;
    }
    String at = path == null ? type.value() : path;
    if (type.value().equals("Bundle")) {
      entryMethods(o, at, issues, unsafe);
    }
    composite(o, def, at, issues, unsafe);
  }

  /**
   * HAPI reads {@code Bundle.entry.request.method} into an enum of its own before any check, so
   * a code outside R4's HTTPVerb (bundle.html#HTTPVerb) would fail in Java's words.
   */
  private static void entryMethods(Obj bundle, String path, List<FhirException.Issue> issues, boolean[] unsafe) {
    if (!(bundle.fields().get("entry") instanceof Arr entries)) {
      return;
    }
    for (int i = 0; i < entries.items().size(); i++) {
      if (entries.items().get(i) instanceof Obj entry && entry.fields().get("request") instanceof Obj request
          && request.fields().get("method") instanceof Str method) {
        Optional<String> problem = EntryMethods.problem(method.value());
        if (problem.isPresent()) {
          issue(issues, path + ".entry[" + i + "].request.method", problem.get());
          unsafe[0] = true;
        }
      }
    }
  }

  private void composite(Obj o, BaseRuntimeElementCompositeDefinition<?> def, String path,
      List<FhirException.Issue> issues, boolean[] unsafe) {
    Map<BaseRuntimeChildDefinition, String> choices = new IdentityHashMap<>();
    for (Map.Entry<String, Node> e : o.fields().entrySet()) {
      String name = e.getKey();
      String at = path + "." + name;
      if (name.equals("resourceType")) {
        continue;
      }
      if (name.startsWith("_")) {
        extras(e.getValue(), at, issues, unsafe);
        continue;
      }
      BaseRuntimeElementDefinition<?> type;
      if (name.equals("extension") || name.equals("modifierExtension")) {
        // HAPI declares these apart from the other children: getChildByName does not find them
        type = extension();
      } else {
        BaseRuntimeChildDefinition child = def.getChildByName(name);
        type = child == null ? null : child.getChildByName(name);
        if (child != null && child.getMax() == 1 && e.getValue() instanceof Arr) {
          // json.html#arrays: only a repeating element is an array; HAPI would keep one item
          issue(issues, at, "an array, but the element does not repeat");
          continue;
        }
        if (child != null && child.getValidChildNames().size() > 1) {
          String other = choices.putIfAbsent(child, name);
          if (other != null) {
            issue(issues, at, ChoiceRule.twice(child, other, name));
          }
        }
      }
      if (type != null) {
        value(e.getValue(), type, at, issues, unsafe);
      }
    }
  }

  /** The {@code _name} object of a primitive: an id and extensions. */
  private void extras(Node n, String path, List<FhirException.Issue> issues, boolean[] unsafe) {
    if (n instanceof Arr a) {
      for (int i = 0; i < a.items().size(); i++) {
        Node item = a.items().get(i);
        if (item instanceof Arr) {
          issue(issues, path + "[" + i + "]", "an array inside an array");
          unsafe[0] = true;
        } else if (item != Null.NULL) {
          extras(item, path + "[" + i + "]", issues, unsafe);
        }
      }
    } else if (n instanceof Obj o) {
      for (String name : List.of("extension", "modifierExtension")) {
        Node v = o.fields().get(name);
        if (v != null) {
          value(v, extension(), path + "." + name, issues, unsafe);
        }
      }
    } else if (n != Null.NULL) {
      issue(issues, path, "a primitive's id and extensions must be a JSON object, not " + describe(n));
      unsafe[0] = true;
    }
  }

  private BaseRuntimeElementCompositeDefinition<?> extension() {
    return (BaseRuntimeElementCompositeDefinition<?>) ctx.getElementDefinition(Extension.class);
  }

  private void value(Node n, BaseRuntimeElementDefinition<?> type, String path, List<FhirException.Issue> issues,
      boolean[] unsafe) {
    boolean primitive = switch (type.getChildType()) {
      case PRIMITIVE_DATATYPE, ID_DATATYPE, PRIMITIVE_XHTML, PRIMITIVE_XHTML_HL7ORG -> true;
      default -> false;
    };
    if (n instanceof Arr a) {
      for (int i = 0; i < a.items().size(); i++) {
        Node item = a.items().get(i);
        if (item instanceof Arr) {
          issue(issues, path + "[" + i + "]", "an array inside an array");
          unsafe[0] = true;
        } else if (item != Null.NULL) {
          value(item, type, path + "[" + i + "]", issues, unsafe);
        } else if (!primitive) {
          // checkNulls reported it unless a '_name' twin is there; HAPI's parser fails on it
          unsafe[0] = true;
          if (issues.stream().noneMatch(x -> path.equals(x.expression()))) {
            issue(issues, path + "[" + i + "]", "null is not a value; leave the element out");
          }
        }
      }
      return;
    }
    if (primitive) {
      primitive(n, type, path, issues, unsafe);
      return;
    }
    switch (type.getChildType()) {
      case COMPOSITE_DATATYPE, RESOURCE_BLOCK, RESOURCE, CONTAINED_RESOURCE_LIST, CONTAINED_RESOURCES -> {
        if (!(n instanceof Obj o)) {
          String what = type.getChildType() == BaseRuntimeElementDefinition.ChildTypeEnum.COMPOSITE_DATATYPE
              ? article(type.getName()) : type.getChildType() == BaseRuntimeElementDefinition.ChildTypeEnum.RESOURCE_BLOCK
              ? "the element" : "a resource";
          issue(issues, path, what + " must be a JSON object, not " + describe(n));
          unsafe[0] = true;
        } else if (type instanceof BaseRuntimeElementCompositeDefinition<?> c
            && (type.getChildType() == BaseRuntimeElementDefinition.ChildTypeEnum.COMPOSITE_DATATYPE
            || type.getChildType() == BaseRuntimeElementDefinition.ChildTypeEnum.RESOURCE_BLOCK)) {
          composite(o, c, path, issues, unsafe);
        } else {
          resource(o, path, issues, unsafe);
        }
      }
      default -> { }
    }
  }

  private static void primitive(Node n, BaseRuntimeElementDefinition<?> type, String path,
      List<FhirException.Issue> issues, boolean[] unsafe) {
    String name = type.getName();
    Optional<String> problem;
    if (name.equals("boolean")) {
      problem = n instanceof Bool ? Optional.empty() : Optional.of("a boolean must be JSON true or false, not "
          + describe(n));
    } else if (NUMBER_TYPES.contains(name)) {
      if (!(n instanceof Num num)) {
        problem = Optional.of(article(name) + " must be a JSON number, not " + describe(n));
      } else if (INTEGER_TYPES.contains(name) && !num.integral()) {
        problem = Optional.of(article(name) + " must be a whole number without fraction or exponent, not "
            + DecimalLimits.abbreviate(num.text()));
        unsafe[0] = true;
      } else if (INTEGER_TYPES.contains(name)) {
        problem = DecimalLimits.integerProblem(name, num.text());
        unsafe[0] |= problem.isPresent();
      } else {
        problem = Optional.empty();
      }
    } else if (n instanceof Str s) {
      problem = DateTimeRules.applies(name) && !s.value().isEmpty() && !DateTimeRules.replacedOnWrite(path)
          ? DateTimeRules.problem(name, s.value()) : Optional.empty();
    } else {
      problem = Optional.of(article(name) + " must be a JSON string, not " + describe(n));
    }
    problem.ifPresent(p -> issue(issues, path, p));
  }

  private static String article(String typeName) {
    return ("aeiouAEIOU".indexOf(typeName.charAt(0)) >= 0 ? "an " : "a ") + typeName;
  }

  private static String describe(Node n) {
    if (n instanceof Str s) {
      return "the string \"" + DecimalLimits.abbreviate(s.value()) + "\"";
    }
    if (n instanceof Num num) {
      return "the number " + DecimalLimits.abbreviate(num.text());
    }
    if (n instanceof Bool b) {
      return "the boolean " + b.value();
    }
    return n instanceof Obj ? "an object" : n instanceof Arr ? "an array" : "null";
  }
}
