package org.fhirbox.http;

import java.util.ArrayList;
import java.util.List;

/**
 * What a {@code Range} header asks of a representation of known length (RFC 9110 §14).
 *
 * <p>{@link #parse} never throws. A missing header, a unit other than {@code bytes}, or a
 * header that does not follow the grammar is ignored ({@link Full}, RFC 9110 §14.2: a server
 * MAY ignore an invalid Range and MUST ignore an unknown unit). A valid header whose ranges all
 * start beyond the end gives {@link Unsatisfiable} (416). Of empty content a suffix range with a
 * non-zero length is satisfiable all the same (§14.1.2), yet selects no byte that a
 * {@code Content-Range} could name: such a header gives {@link Full}, the empty content with 200
 * (§14.2 lets a server ignore a Range when the representation has no content). Otherwise {@link Partial} with the
 * satisfiable ranges, clamped to the content, overlapping or adjacent ones coalesced
 * (RFC 9110 §14.2 allows it), in the order first requested (RFC 9110 §14.6).
 *
 * <p>Abuse protection (RFC 9110 §14.2 lets a server ignore "more than two overlapping ranges
 * or many small ranges"); such requests are served whole ({@link Full}):
 * <ul>
 *   <li>more than {@value #MAX_RANGES} ranges in the header;
 *   <li>more than one range whose lengths add up (before coalescing) to more than twice the
 *       content, i.e. heavy overlap;
 *   <li>more than {@value #MAX_SMALL_PARTS} parts after coalescing with an average part shorter
 *       than {@value #MIN_AVERAGE_PART} bytes, where part headers would outweigh the content.
 * </ul>
 */
public sealed interface RangeRequest {
  int MAX_RANGES = 16;
  int MAX_SMALL_PARTS = 4;
  long MIN_AVERAGE_PART = 128;

  /** Serve the whole representation with 200. */
  record Full() implements RangeRequest {}

  /** Serve these ranges with 206; one range is a single part, more are multipart/byteranges. */
  record Partial(List<ByteRange> ranges) implements RangeRequest {
    public Partial {
      if (ranges.isEmpty()) {
        throw new IllegalArgumentException("a partial response needs at least one range");
      }
      ranges = List.copyOf(ranges);
    }
  }

  /** Answer 416 with {@code Content-Range: bytes *}{@code /length}. */
  record Unsatisfiable() implements RangeRequest {}

  /**
   * Reads a {@code Range} header value against a representation of {@code contentLength} bytes.
   *
   * @param headerValue the header's value, or null when absent
   */
  static RangeRequest parse(String headerValue, long contentLength) {
    if (headerValue == null || contentLength < 0) {
      return new Full();
    }
    String value = headerValue.strip();
    int eq = value.indexOf('=');
    // RFC 9110 §14.1: range units are case-insensitive tokens; only bytes is defined.
    if (eq < 0 || !value.substring(0, eq).equalsIgnoreCase("bytes")) {
      return new Full();
    }
    String[] specs = value.substring(eq + 1).split(",", MAX_RANGES + 2);
    if (specs.length > MAX_RANGES + 1) {
      return new Full();
    }
    List<ByteRange> satisfiable = new ArrayList<>();
    boolean suffixOfEmpty = false;
    int count = 0;
    for (String raw : specs) {
      // RFC 9110 §5.6.1: OWS around list commas; empty list elements are ignored.
      String spec = raw.strip();
      if (spec.isEmpty()) {
        continue;
      }
      count++;
      long[] bounds = parseSpec(spec);
      if (bounds == null) {
        return new Full();
      }
      suffixOfEmpty |= contentLength == 0 && bounds[0] < 0 && bounds[1] > 0;
      ByteRange range = select(bounds[0], bounds[1], contentLength);
      if (range != null) {
        satisfiable.add(range);
      }
    }
    if (count == 0 || count > MAX_RANGES) {
      return new Full();
    }
    if (satisfiable.isEmpty()) {
      return suffixOfEmpty ? new Full() : new Unsatisfiable();
    }
    if (satisfiable.size() > 1 && totalLength(satisfiable) > 2 * contentLength) {
      return new Full();
    }
    List<ByteRange> parts = coalesce(satisfiable);
    if (parts.size() > MAX_SMALL_PARTS
        && totalLength(parts) < parts.size() * MIN_AVERAGE_PART) {
      return new Full();
    }
    return new Partial(parts);
  }

  /**
   * Bounds of one range-spec: {@code {first, last}} for an int-range ({@code last} = -1 when
   * open), {@code {-1, suffixLength}} for a suffix-range, or null when it breaks the grammar.
   */
  private static long[] parseSpec(String spec) {
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return null;
    }
    String left = spec.substring(0, dash);
    String right = spec.substring(dash + 1);
    if (left.isEmpty()) {
      long suffix = digits(right);
      return suffix < 0 ? null : new long[] {-1, suffix};
    }
    long first = digits(left);
    if (first < 0) {
      return null;
    }
    if (right.isEmpty()) {
      return new long[] {first, -1};
    }
    long last = digits(right);
    // RFC 9110 §14.1.1: an int-range with last-pos < first-pos is invalid.
    return last < 0 || last < first ? null : new long[] {first, last};
  }

  /** A run of DIGITs as a number saturating at Long.MAX_VALUE, or -1 if not only digits. */
  private static long digits(String s) {
    if (s.isEmpty()) {
      return -1;
    }
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      int d = c - '0';
      n = n > (Long.MAX_VALUE - d) / 10 ? Long.MAX_VALUE : n * 10 + d;
    }
    return n;
  }

  /** The bytes a valid range-spec selects, or null when it selects none. */
  private static ByteRange select(long first, long last, long length) {
    if (first < 0) {
      // RFC 9110 §14.1.2: suffix-range; a suffix longer than the content selects all of it.
      // On empty content it selects no byte (parse answers that with the whole empty content).
      long suffix = last;
      if (suffix == 0 || length == 0) {
        return null;
      }
      return new ByteRange(length - Math.min(suffix, length), length - 1);
    }
    if (first >= length) {
      return null;
    }
    // RFC 9110 §14.1.2: an open or too-large last-pos means the end of the content.
    long end = last < 0 || last >= length ? length - 1 : last;
    return new ByteRange(first, end);
  }

  private static long totalLength(List<ByteRange> ranges) {
    long total = 0;
    for (ByteRange r : ranges) {
      total += r.length();
    }
    return total;
  }

  /** Merges ranges that overlap or touch, keeping each merged range at its first position. */
  private static List<ByteRange> coalesce(List<ByteRange> ranges) {
    List<ByteRange> out = new ArrayList<>();
    for (ByteRange next : ranges) {
      ByteRange merged = next;
      int at = -1;
      boolean changed = true;
      while (changed) {
        changed = false;
        for (int i = 0; i < out.size(); i++) {
          ByteRange r = out.get(i);
          if (r.first() <= merged.last() + 1 && merged.first() <= r.last() + 1) {
            merged = new ByteRange(Math.min(r.first(), merged.first()), Math.max(r.last(), merged.last()));
            out.remove(i);
            at = at < 0 ? i : Math.min(at, i);
            changed = true;
            break;
          }
        }
      }
      out.add(at < 0 ? out.size() : at, merged);
    }
    return out;
  }
}
