package org.fhirbox.http;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** An entity tag (RFC 9110 §8.8.3): {@code "opaque"} or weak {@code W/"opaque"}. */
public record EntityTag(boolean weak, String opaque) {

  /** Parses a single entity tag, e.g. the value of an {@code ETag} or {@code If-Range} field. */
  public static Optional<EntityTag> tryParse(String value) {
    if (value == null) {
      return Optional.empty();
    }
    List<EntityTag> tags = parseList(value).orElse(List.of());
    return tags.size() == 1 ? Optional.of(tags.get(0)) : Optional.empty();
  }

  /**
   * Parses a comma-separated list of entity tags ({@code If-Match}, {@code If-None-Match}).
   * Empty when the value is not such a list; {@code *} is the caller's to check first.
   */
  public static Optional<List<EntityTag>> parseList(String value) {
    List<EntityTag> tags = new ArrayList<>();
    int i = 0;
    int n = value.length();
    while (true) {
      while (i < n && (value.charAt(i) == ' ' || value.charAt(i) == '\t' || value.charAt(i) == ',')) {
        i++;
      }
      if (i >= n) {
        break;
      }
      boolean weak = value.startsWith("W/", i);
      if (weak) {
        i += 2;
      }
      if (i >= n || value.charAt(i) != '"') {
        return Optional.empty();
      }
      int close = value.indexOf('"', i + 1);
      if (close < 0) {
        return Optional.empty();
      }
      String opaque = value.substring(i + 1, close);
      // RFC 9110 §8.8.3: etagc = %x21 / %x23-7E / obs-text
      if (!opaque.chars().allMatch(c -> c == 0x21 || (c >= 0x23 && c != 0x7f))) {
        return Optional.empty();
      }
      tags.add(new EntityTag(weak, opaque));
      i = close + 1;
      while (i < n && (value.charAt(i) == ' ' || value.charAt(i) == '\t')) {
        i++;
      }
      if (i < n && value.charAt(i) != ',') {
        return Optional.empty();
      }
    }
    return tags.isEmpty() ? Optional.empty() : Optional.of(List.copyOf(tags));
  }

  /** RFC 9110 §8.8.3.2 strong comparison: both strong and the same opaque value. */
  public boolean strongMatch(EntityTag other) {
    return !weak && !other.weak && opaque.equals(other.opaque);
  }

  /** RFC 9110 §8.8.3.2 weak comparison: the same opaque value, weakness ignored. */
  public boolean weakMatch(EntityTag other) {
    return opaque.equals(other.opaque);
  }

  @Override
  public String toString() {
    return (weak ? "W/\"" : "\"") + opaque + "\"";
  }
}
