package org.fhirbox.fhir;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The top-level {@code url} string the server adds to Binary JSON on read (a signed URL of the
 * content, never stored) is dropped from a JSON body before it is parsed: a client that reads a
 * Binary and writes it back as it came, alone or in a Bundle entry, gets its write, not a 400
 * for an element only this server adds. Only a {@code url} of an object whose {@code resourceType}
 * is {@code Binary} goes; the rest of the body is kept character for character.
 */
final class BinaryUrlField {
  private static final JsonFactory JSON = new JsonFactory();

  private BinaryUrlField() {}

  /** {@code json} without the {@code url} of each Binary in it; as it is when it has none, or does not parse. */
  static String strip(String json) {
    if (!json.contains("\"url\"") || !json.contains("\"Binary\"")) {
      return json;
    }
    List<long[]> cuts = new ArrayList<>();
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return json;
      }
      object(p, cuts);
    } catch (IOException e) {
      return json; // the parser that follows reports what is wrong with it
    }
    if (cuts.isEmpty()) {
      return json;
    }
    StringBuilder out = new StringBuilder(json);
    for (int i = cuts.size() - 1; i >= 0; i--) {
      cut(out, (int) cuts.get(i)[0], (int) cuts.get(i)[1]);
    }
    return out.toString();
  }

  /** Walks the object the parser is at the start of, adding the range of its url when it is a Binary. */
  private static void object(JsonParser p, List<long[]> cuts) throws IOException {
    boolean binary = false;
    long[] url = null;
    List<long[]> inner = new ArrayList<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      long start = p.currentTokenLocation().getCharOffset();
      JsonToken value = p.nextToken();
      if (value == JsonToken.START_OBJECT) {
        object(p, inner);
      } else if (value == JsonToken.START_ARRAY) {
        array(p, inner);
      } else if (value == JsonToken.VALUE_STRING) {
        String text = p.getText(); // reads the string to its end, so the location is past it
        if (name.equals("resourceType") && text.equals("Binary")) {
          binary = true;
        } else if (name.equals("url")) {
          url = new long[] {start, p.currentLocation().getCharOffset()};
        }
      }
    }
    if (binary && url != null) {
      inner.add(url);
    }
    inner.sort((a, b) -> Long.compare(a[0], b[0]));
    cuts.addAll(inner);
  }

  private static void array(JsonParser p, List<long[]> cuts) throws IOException {
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY && t != null) {
      if (t == JsonToken.START_OBJECT) {
        object(p, cuts);
      } else if (t == JsonToken.START_ARRAY) {
        array(p, cuts);
      }
    }
  }

  /** Removes the member at [start, end) with the comma that separates it from its neighbour. */
  private static void cut(StringBuilder s, int start, int end) {
    int after = end;
    while (after < s.length() && Character.isWhitespace(s.charAt(after))) {
      after++;
    }
    if (after < s.length() && s.charAt(after) == ',') {
      s.delete(start, after + 1);
      return;
    }
    int before = start;
    while (before > 0 && Character.isWhitespace(s.charAt(before - 1))) {
      before--;
    }
    s.delete(before > 0 && s.charAt(before - 1) == ',' ? before - 1 : start, end);
  }
}
