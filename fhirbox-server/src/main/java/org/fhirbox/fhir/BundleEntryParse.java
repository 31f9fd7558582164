package org.fhirbox.fhir;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Resource;

/**
 * Which entries of a JSON Bundle that failed to parse hold the resources that failed, each parsed
 * on its own: every issue then names its entry ({@code Bundle.entry[1].resource.birthDate}). A
 * transaction fails as a whole with them; in a batch, whose entries stand alone (FHIR R4
 * http.html#brules), the rest of the Bundle is parsed without those resources and each failed
 * entry carries its own 400 ({@link #requireParsed}). Only a Bundle that failed takes this path; it
 * reads the body with Jackson's streaming parser for where each entry's resource begins and ends,
 * and parses one resource's text at a time, so it holds no more than another copy of the body.
 */
final class BundleEntryParse {
  private static final String FAILURE = BundleEntryParse.class.getName() + ".failure";
  /** Stands in for a batch entry's resource that failed, so that the rest of the Bundle parses. */
  private static final String PLACEHOLDER = "{\"resourceType\":\"Parameters\"}";

  private BundleEntryParse() {}

  /** Where an entry's resource is in the body, and the type it says it has (or null). */
  private record Span(int index, int start, int end, String type) {}

  /** The body's {@code Bundle.type} and the resources of its entries, or null when the body is no Bundle so read. */
  private record Spans(String type, List<Span> spans) {}

  /**
   * {@code failure}, the 400 that parsing {@code sent} (JSON) as a whole gave, as the entries it
   * comes from: thrown as one 400 whose issues name their entries for a transaction, or a batch
   * Bundle whose failed entries carry their failure. {@code failure} itself is thrown when the body
   * is no Bundle, or when no entry's resource fails on its own (the problem is elsewhere).
   */
  static Resource localize(FhirCodec codec, String sent, FhirException failure) {
    Spans found;
    try {
      found = spans(sent);
    } catch (IOException | RuntimeException e) {
      throw failure;
    }
    if (found == null) {
      throw failure;
    }
    Map<Integer, FhirException> failed = new LinkedHashMap<>();
    for (Span s : found.spans()) {
      try {
        codec.parse(sent.substring(s.start(), s.end()), FhirFormat.JSON);
      } catch (FhirException e) {
        failed.put(s.index(), atEntry(s, e));
      }
    }
    if (failed.isEmpty()) {
      throw failure;
    }
    if (!"batch".equals(found.type())) {
      List<FhirException.Issue> all = new ArrayList<>();
      failed.values().forEach(f -> all.addAll(f.issues()));
      if (all.size() > JsonFormatRules.MAX_ISSUES) {
        all.subList(JsonFormatRules.MAX_ISSUES, all.size()).clear();
      }
      throw new FhirException(IssueKind.STRUCTURE, all, Map.of(), null);
    }
    StringBuilder rest = new StringBuilder(sent.length());
    int at = 0;
    for (Span s : found.spans()) {
      if (failed.containsKey(s.index())) {
        rest.append(sent, at, s.start()).append(PLACEHOLDER);
        at = s.end();
      }
    }
    rest.append(sent, at, sent.length());
    Resource parsed;
    try {
      parsed = codec.parse(rest.toString(), FhirFormat.JSON);
    } catch (FhirException e) {
      throw failure;
    }
    if (!(parsed instanceof Bundle bundle)) {
      throw failure;
    }
    failed.forEach((i, f) -> {
      BundleEntryComponent entry = bundle.getEntry().get(i);
      entry.setResource(null);
      entry.setUserData(FAILURE, f);
    });
    return bundle;
  }

  /** Throws the failure of a batch entry whose resource did not parse ({@link #localize}). */
  static void requireParsed(BundleEntryComponent entry) {
    if (entry.getUserData(FAILURE) instanceof FhirException f) {
      throw f;
    }
  }

  /** The issues of {@code e} placed in entry {@code s}: an expression {@code Patient.active} becomes {@code Bundle.entry[i].resource.active}. */
  private static FhirException atEntry(Span s, FhirException e) {
    String base = "Bundle.entry[" + s.index() + "].resource";
    List<FhirException.Issue> issues = e.issues().stream().map(i -> {
      String old = i.expression();
      String expression = old == null || old.equals(s.type()) ? base
          : s.type() != null && old.startsWith(s.type() + ".") ? base + old.substring(s.type().length())
          : base + "." + old;
      String d = i.diagnostics() == null ? "" : i.diagnostics();
      String diagnostics = old != null && d.startsWith(old + ":") ? expression + d.substring(old.length())
          : expression + ": " + d;
      return new FhirException.Issue(i.severity(), i.type(), diagnostics, expression);
    }).toList();
    return new FhirException(e.kind(), issues, e.headers(), e);
  }

  /** The entries' resources in {@code body}, a JSON object; null when it is no Bundle. */
  private static Spans spans(String body) throws IOException {
    String type = null;
    String resourceType = null;
    List<Span> spans = new ArrayList<>();
    try (JsonParser p = JsonFormatRules.JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (name.equals("resourceType") && value == JsonToken.VALUE_STRING) {
          resourceType = p.getText();
        } else if (name.equals("type") && value == JsonToken.VALUE_STRING) {
          type = p.getText();
        } else if (name.equals("entry") && value == JsonToken.START_ARRAY) {
          for (int i = 0; p.nextToken() != JsonToken.END_ARRAY; i++) {
            if (p.currentToken() == JsonToken.START_OBJECT) {
              entry(p, i, spans);
            } else {
              p.skipChildren();
            }
          }
        } else {
          p.skipChildren();
        }
      }
    }
    return "Bundle".equals(resourceType) ? new Spans(type, spans) : null;
  }

  /** Reads one entry object, the parser on its start, and adds where its resource is. */
  private static void entry(JsonParser p, int index, List<Span> spans) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      if (p.nextToken() == JsonToken.START_OBJECT && name.equals("resource")) {
        int start = (int) p.currentTokenLocation().getCharOffset();
        String resourceType = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          if (p.nextToken() == JsonToken.VALUE_STRING && field.equals("resourceType")) {
            resourceType = p.getText();
          } else {
            p.skipChildren();
          }
        }
        int end = (int) p.currentTokenLocation().getCharOffset() + 1;
        spans.add(new Span(index, start, end, resourceType));
      } else {
        p.skipChildren();
      }
    }
  }
}
