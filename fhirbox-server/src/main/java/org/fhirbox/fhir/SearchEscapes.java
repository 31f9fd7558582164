package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.List;
import org.fhirbox.core.FhirException;

/**
 * FHIR R4 search.html#escaping: in a search value, {@code ,} separates values (OR), {@code |}
 * a token's system from its code and {@code $} a composite's parts, unless a {@code \} precedes
 * it; {@code \} escapes itself. So {@code identifier=A\,1} searches the one code {@code A,1}.
 */
final class SearchEscapes {
  private SearchEscapes() {
  }

  /** {@code value} cut at each {@code separator} no backslash escapes; the pieces keep their escapes. */
  static List<String> split(String value, char separator) {
    List<String> pieces = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\\') {
        i++; // the next character is taken as it is
      } else if (c == separator) {
        pieces.add(value.substring(start, i));
        start = i + 1;
      }
    }
    pieces.add(value.substring(start));
    return pieces;
  }

  /**
   * The values of {@code param} that {@code value} separates with commas, which any may match (R4
   * search.html#combining), each with its escapes; 400 naming the parameter when one is empty
   * ({@code a,,b}, {@code a,}, {@code ,}). An empty parameter is ignored (R4 search.html#errors),
   * but an empty value among others is no parameter left out: it looks like a value a client
   * failed to fill in, and answering without it would answer another question than the one asked.
   */
  static List<String> alternatives(String param, String value) {
    List<String> pieces = split(value, ',');
    if (pieces.contains("")) {
      throw FhirException.badRequest("search parameter '" + param + "' has an empty value among its comma-separated"
          + " values ('" + DecimalLimits.abbreviate(value) + "'); give each a value, or leave the parameter empty to"
          + " have it ignored");
    }
    return pieces;
  }

  /** The index of the first {@code separator} no backslash escapes, or -1. */
  static int indexOf(String value, char separator) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == separator) {
        return i;
      }
    }
    return -1;
  }

  /** {@code piece} with its escapes taken away: {@code \,} is {@code ,}, {@code \\} is {@code \}. */
  static String unescape(String piece) {
    if (piece.indexOf('\\') < 0) {
      return piece;
    }
    StringBuilder out = new StringBuilder(piece.length());
    for (int i = 0; i < piece.length(); i++) {
      char c = piece.charAt(i);
      if (c == '\\' && i + 1 < piece.length()) {
        c = piece.charAt(++i);
      }
      out.append(c);
    }
    return out.toString();
  }
}
