package org.fhirbox.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.StringReader;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/**
 * The rules of the FHIR R4 XML format (xml.html) that HAPI's parser lets through, checked on the
 * request body before HAPI sees it:
 * <ul>
 *   <li>an encoding declaration, if any, names UTF-8: the body was read as UTF-8, and FHIR
 *       exchanges nothing else (http.html#mime-type);</li>
 *   <li>every FHIR element is in the namespace {@code http://hl7.org/fhir}, and a narrative
 *       {@code div} in the XHTML namespace (xml.html, narrative.html#xhtml);</li>
 *   <li>no element without a value, an attribute or children (xml.html: empty elements are not
 *       allowed);</li>
 *   <li>decimals within {@link DecimalLimits}, checked on their text before HAPI converts them;</li>
 *   <li>dateTime and instant values in R4's forms ({@link DateTimeRules}).</li>
 * </ul>
 * DTDs and external entities are refused (XXE).
 */
final class XmlFormatRules {
  static final String FHIR_NS = "http://hl7.org/fhir";
  static final String XHTML_NS = "http://www.w3.org/1999/xhtml";
  private static final Set<String> NUMBER_TYPES = Set.of("integer", "positiveInt", "unsignedInt", "decimal");
  private static final int MAX_ISSUES = 100;
  static final int MAX_DEPTH = StreamReadConstraints.DEFAULT_MAX_DEPTH;
  private static final XMLInputFactory XML = safeFactory();

  /** A namespace-aware StAX factory that reads no DTD and no external entity (no XXE). */
  static XMLInputFactory safeFactory() {
    XMLInputFactory f = XMLInputFactory.newFactory();
    f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    f.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
    return f;
  }

  private final FhirContext ctx;

  XmlFormatRules(FhirContext ctx) {
    this.ctx = ctx;
  }

  /** What an open element is: its definition (null: untyped), and whether it had content. */
  private static final class Frame {
    final BaseRuntimeElementDefinition<?> def;
    final String path;
    final boolean resourceSlot;
    /** How deep the element's object is in the body's JSON form: objects and arrays, root 1. */
    final int depth;
    /** The element names of its choices ({@code value[x]}) given so far, by choice. */
    final Map<BaseRuntimeChildDefinition, String> choices = new IdentityHashMap<>();
    boolean hasContent;
    boolean textReported;

    Frame(BaseRuntimeElementDefinition<?> def, String path, boolean resourceSlot, int depth, boolean hasContent) {
      this.def = def;
      this.path = path;
      this.resourceSlot = resourceSlot;
      this.depth = depth;
      this.hasContent = hasContent;
    }
  }

  /**
   * The problems of {@code body} that are safe to hand to HAPI's parser, so that one 400 can list
   * them beside HAPI's own. Throws a 400 at once for malformed XML, a wrong namespace or encoding,
   * and decimals beyond {@link DecimalLimits}.
   */
  List<FhirException.Issue> check(String body) {
    List<FhirException.Issue> issues = new ArrayList<>();
    // set for problems HAPI's parser would crash on or report with Java's words: refused at once
    boolean unsafe = false;
    XMLStreamReader r = null;
    try {
      r = XML.createXMLStreamReader(new StringReader(body));
      String declared = r.getCharacterEncodingScheme();
      if (declared != null && !declared.equalsIgnoreCase("UTF-8") && !declared.equalsIgnoreCase("UTF8")) {
        throw FhirException.badRequest("the XML declaration names the encoding '" + declared
            + "', but a FHIR body is UTF-8 (FHIR R4 http.html#mime-type)");
      }
      Deque<Frame> stack = new ArrayDeque<>();
      int xhtmlDepth = 0;
      while (r.hasNext()) {
        int event = r.next();
        if (event == XMLStreamConstants.START_ELEMENT) {
          if (!stack.isEmpty()) {
            stack.peek().hasContent = true;
          }
          if (xhtmlDepth > 0) {
            xhtmlDepth++;
            continue;
          }
          String ns = r.getNamespaceURI();
          String name = r.getLocalName();
          Frame parent = stack.peek();
          String path = parent == null ? name : parent.path + "." + name;
          if (parent != null && parent.depth > MAX_DEPTH) {
            // the element holding this one is an object that deep in JSON, which Jackson neither
            // reads nor writes (HAPI stores resources as JSON): as deep as a JSON body may go
            throw FhirException.badRequest(parent.path + ": the nesting depth exceeds " + MAX_DEPTH
                + " (counted as the objects and arrays of the body's JSON form)", parent.path);
          }
          if (parent == null || parent.resourceSlot) {
            if (!FHIR_NS.equals(ns)) {
              throw wrongNamespace(path, ns, FHIR_NS);
            }
            BaseRuntimeElementDefinition<?> def = resourceDefinition(name);
            if (def == null) {
              throw FhirException.badRequest(parent == null ? "the XML root element " + name + " is no resource type"
                  : path + ": the element " + name + " is no resource type", parent == null ? null : path);
            }
            stack.push(new Frame(def, path, false, parent == null ? 1 : parent.depth, true));
            continue;
          }
          BaseRuntimeElementDefinition<?> type = childType(parent.def, name);
          if (type != null && type.getChildType() == BaseRuntimeElementDefinition.ChildTypeEnum.PRIMITIVE_XHTML_HL7ORG) {
            if (!XHTML_NS.equals(ns)) {
              throw wrongNamespace(path, ns, XHTML_NS);
            }
            parent.hasContent = true;
            xhtmlDepth = 1;
            continue;
          }
          if (!FHIR_NS.equals(ns)) {
            throw wrongNamespace(path, ns, FHIR_NS);
          }
          boolean slot = type != null && switch (type.getChildType()) {
            case RESOURCE, CONTAINED_RESOURCE_LIST, CONTAINED_RESOURCES -> true;
            default -> false;
          };
          String value = r.getAttributeValue(null, "value");
          if (value != null && value.isEmpty()) {
            // xml.html: attributes are never empty; an element without a value is left out
            issue(issues, path, "an empty value attribute; FHIR XML leaves out elements without content");
          }
          if (type != null && (type.getChildType() == BaseRuntimeElementDefinition.ChildTypeEnum.PRIMITIVE_DATATYPE)
              && NUMBER_TYPES.contains(type.getName()) && value != null) {
            Optional<String> problem = DecimalLimits.problem(value);
            if (problem.isEmpty() && !type.getName().equals("decimal")) {
              problem = DecimalLimits.integerProblem(type.getName(), value);
            }
            if (problem.isPresent()) {
              issue(issues, path, problem.get());
              unsafe = true;
            }
          }
          if (type != null && type.getChildType() == BaseRuntimeElementDefinition.ChildTypeEnum.PRIMITIVE_DATATYPE
              && DateTimeRules.applies(type.getName()) && value != null && !value.isEmpty()
              && !DateTimeRules.replacedOnWrite(path)) {
            DateTimeRules.problem(type.getName(), value).ifPresent(why -> issue(issues, path, why));
          }
          if (name.equals("method") && value != null && parent.def != null
              && parent.def.getImplementingClass() == Bundle.BundleEntryRequestComponent.class) {
            Optional<String> problem = EntryMethods.problem(value);
            if (problem.isPresent()) {
              issue(issues, path, problem.get());
              unsafe = true;
            }
          }
          if (parent.def instanceof BaseRuntimeElementCompositeDefinition<?> c && c.getChildByName(name) != null
              && c.getChildByName(name).getValidChildNames().size() > 1) {
            String other = parent.choices.putIfAbsent(c.getChildByName(name), name);
            if (other != null && !other.equals(name)) {
              issue(issues, path, ChoiceRule.twice(c.getChildByName(name), other, name));
            }
          }
          int depth = parent.depth + (repeats(parent.def, name) ? 2 : 1);
          stack.push(new Frame(slot ? null : type, path, slot, depth, r.getAttributeCount() > 0));
        } else if ((event == XMLStreamConstants.CHARACTERS || event == XMLStreamConstants.CDATA)
            && xhtmlDepth == 0 && !stack.isEmpty() && !stack.peek().textReported && !r.getText().isBlank()) {
          // xml.html: values are in value attributes; HAPI drops text between elements unread
          stack.peek().textReported = true;
          issue(issues, stack.peek().path, "text content; FHIR XML holds values in value attributes only"
              + " (FHIR R4 xml.html)");
        } else if (event == XMLStreamConstants.END_ELEMENT) {
          if (xhtmlDepth > 0) {
            xhtmlDepth--;
            continue;
          }
          Frame done = stack.pop();
          if (!done.hasContent) {
            issue(issues, done.path, "an empty element; FHIR XML leaves out elements without content");
          }
        }
        if (issues.size() >= MAX_ISSUES) {
          break;
        }
      }
    } catch (XMLStreamException e) {
      String at = e.getLocation() == null ? ""
          : " at line " + e.getLocation().getLineNumber() + ", column " + e.getLocation().getColumnNumber();
      throw FhirException.badRequest("cannot parse the XML body" + at + ": " + message(e));
    } finally {
      if (r != null) {
        try {
          r.close();
        } catch (XMLStreamException ignored) {
          // nothing was held open: the source is a string
        }
      }
    }
    if (unsafe) {
      throw new FhirException(IssueKind.STRUCTURE, issues, Map.of(), null);
    }
    return issues;
  }

  private static String message(XMLStreamException e) {
    String m = e.getMessage() == null ? "malformed XML" : e.getMessage();
    int nested = m.indexOf("Message: ");
    return nested >= 0 ? m.substring(nested + "Message: ".length()) : m;
  }

  private BaseRuntimeElementDefinition<?> resourceDefinition(String name) {
    try {
      return ctx.getResourceDefinition(name);
    } catch (RuntimeException e) {
      return null; // HAPI reports the unknown resource type
    }
  }

  /** The type of child {@code name} of an element of type {@code parent}; null when unknown. */
  private BaseRuntimeElementDefinition<?> childType(BaseRuntimeElementDefinition<?> parent, String name) {
    if (name.equals("extension") || name.equals("modifierExtension")) {
      return ctx.getElementDefinition(Extension.class);
    }
    if (!(parent instanceof BaseRuntimeElementCompositeDefinition<?> c)) {
      return null;
    }
    BaseRuntimeChildDefinition child = c.getChildByName(name);
    return child == null ? null : child.getChildByName(name);
  }

  /** Whether child {@code name} repeats, and so is an array of objects in JSON (json.html). */
  private static boolean repeats(BaseRuntimeElementDefinition<?> parent, String name) {
    if (name.equals("extension") || name.equals("modifierExtension")) {
      return true;
    }
    if (!(parent instanceof BaseRuntimeElementCompositeDefinition<?> c)) {
      return false;
    }
    BaseRuntimeChildDefinition child = c.getChildByName(name);
    return child != null && child.getMax() != 1;
  }

  private static FhirException wrongNamespace(String path, String found, String expected) {
    return FhirException.badRequest(path + ": the element is in the namespace '"
        + (found == null || found.isEmpty() ? "(none)" : found) + "'; it must be in '" + expected + "' (FHIR R4 xml.html)",
        path);
  }

  private static void issue(List<FhirException.Issue> issues, String path, String message) {
    issues.add(new FhirException.Issue(IssueSeverity.ERROR, IssueType.STRUCTURE, path + ": " + message, path));
  }
}
