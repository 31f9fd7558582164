package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.utilities.xhtml.NodeType;
import org.hl7.fhir.utilities.xhtml.XhtmlNode;

/**
 * FHIR R4 narrative.html#xhtml: the narrative "SHALL NOT contain a head, a body, external
 * stylesheet references, deprecated elements, scripts, forms, base/link/xlink, frames, iframes
 * and objects or event related attributes (e.g. onClick)" (constraint txt-1). A narrative is
 * shown to people in browsers, so these are refused on every stored resource, including
 * contained resources and the entries of a Bundle, with a 400 naming where.
 */
final class NarrativeRules {
  /** Elements that run code, load other documents or submit data. */
  private static final Set<String> FORBIDDEN_ELEMENTS = Set.of("script", "noscript", "style", "link", "base", "meta",
      "head", "body", "html", "title", "iframe", "frame", "frameset", "object", "embed", "applet", "param", "form",
      "input", "button", "select", "textarea", "option", "svg", "math", "template", "portal", "audio", "video",
      "source", "track");
  /** Attributes whose value the browser follows as a URL. */
  private static final Set<String> URL_ATTRIBUTES = Set.of("href", "src", "action", "formaction", "background",
      "cite", "longdesc", "usemap", "lowsrc", "dynsrc", "poster", "srcset", "xlink:href", "data");
  private static final Set<String> FORBIDDEN_SCHEMES = Set.of("javascript:", "vbscript:", "livescript:");
  private static final Set<String> IMAGE_DATA = Set.of("data:image/png", "data:image/jpeg", "data:image/gif",
      "data:image/webp");

  /** Throws a 400 listing every unsafe part of every narrative in {@code resource}. */
  void check(Resource resource) {
    List<FhirException.Issue> issues = new ArrayList<>();
    for (Resource r : ResourceTree.flatten(resource)) {
      resource(r, r.fhirType(), issues);
    }
    if (!issues.isEmpty()) {
      throw new FhirException(IssueKind.STRUCTURE, issues, Map.of(), null);
    }
  }

  private static void resource(Resource r, String path, List<FhirException.Issue> issues) {
    forEachNarrative(r, path, (n, at) -> narrative(n, at + ".div", issues));
  }

  /**
   * Each Narrative of {@code r}, with its path under {@code path}: R4 has Narrative in two places
   * only, DomainResource.text and Composition.section.text (and so in contained resources). They
   * are looked up in the model, not searched for: a walk of every element was 2 % of a create.
   */
  static void forEachNarrative(Resource r, String path, BiConsumer<Narrative, String> action) {
    if (!(r instanceof DomainResource d)) {
      return;
    }
    if (d.hasText()) {
      action.accept(d.getText(), path + ".text");
    }
    if (d instanceof Composition c) {
      sections(c.getSection(), path + ".section", action);
    }
    for (int i = 0; i < d.getContained().size(); i++) {
      forEachNarrative(d.getContained().get(i), path + ".contained[" + i + "]", action);
    }
  }

  private static void sections(List<Composition.SectionComponent> sections, String path,
      BiConsumer<Narrative, String> action) {
    for (Composition.SectionComponent s : sections) {
      if (s.hasText()) {
        action.accept(s.getText(), path + ".text");
      }
      sections(s.getSection(), path + ".section", action);
    }
  }

  private static void narrative(Narrative n, String path, List<FhirException.Issue> issues) {
    if (n.getDiv() != null) {
      node(n.getDiv(), path, issues);
    }
  }

  private static void node(XhtmlNode node, String path, List<FhirException.Issue> issues) {
    if (node.getNodeType() == NodeType.Instruction || node.getNodeType() == NodeType.DocType) {
      issue(issues, path, "processing instructions and doctypes are not allowed in a narrative");
      return;
    }
    if (node.getNodeType() != NodeType.Element && node.getNodeType() != NodeType.Document) {
      return;
    }
    String name = node.getName() == null ? "" : node.getName().toLowerCase(Locale.ROOT);
    int colon = name.indexOf(':');
    String local = colon >= 0 ? name.substring(colon + 1) : name;
    if (FORBIDDEN_ELEMENTS.contains(local)) {
      issue(issues, path, "the narrative contains a <" + name + "> element, which FHIR R4 narratives must not "
          + "contain (narrative.html, txt-1)");
      return;
    }
    for (Map.Entry<String, String> a : node.getAttributes().entrySet()) {
      attribute(name, a.getKey().toLowerCase(Locale.ROOT), a.getValue(), path, issues);
    }
    for (XhtmlNode child : node.getChildNodes()) {
      node(child, path, issues);
    }
  }

  private static void attribute(String element, String name, String value, String path,
      List<FhirException.Issue> issues) {
    if (name.startsWith("on")) {
      issue(issues, path, "the narrative's <" + element + "> has the event handler attribute '" + name
          + "', which FHIR R4 narratives must not contain (narrative.html, txt-1)");
      return;
    }
    String v = squeeze(value);
    if (name.equals("style") && (v.contains("javascript:") || v.contains("expression(") || v.contains("url("))) {
      issue(issues, path, "the narrative's <" + element + "> has a style that loads or runs something; "
          + "only inline formatting is allowed (narrative.html, txt-1)");
      return;
    }
    if (URL_ATTRIBUTES.contains(name) || name.endsWith(":href")) {
      for (String scheme : FORBIDDEN_SCHEMES) {
        if (v.startsWith(scheme)) {
          issue(issues, path, "the narrative's <" + element + "> has a " + scheme + " URL in '" + name
              + "'; narratives must not contain scripts (narrative.html, txt-1)");
          return;
        }
      }
      if (v.startsWith("data:") && !(element.equals("img") && name.equals("src") && isImageData(v))) {
        issue(issues, path, "the narrative's <" + element + "> has a data: URL in '" + name
            + "'; only images may be embedded (narrative.html)");
      }
    }
  }

  private static boolean isImageData(String v) {
    for (String prefix : IMAGE_DATA) {
      if (v.startsWith(prefix + ";") || v.startsWith(prefix + ",")) {
        return true;
      }
    }
    return false;
  }

  /** Browsers drop whitespace and control characters in and around a URL scheme ("java\tscript:"). */
  private static String squeeze(String value) {
    if (value == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder(value.length());
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c > ' ') {
        sb.append(Character.toLowerCase(c));
      }
    }
    return sb.toString();
  }

  private static void issue(List<FhirException.Issue> issues, String path, String message) {
    issues.add(new FhirException.Issue(IssueSeverity.ERROR, IssueType.SECURITY, path + ": " + message, path));
  }
}
