package org.fhirbox.model;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where a page of a search or of history ended: the last entry's lastUpdated, type, id and
 * version, and in a search with {@code _sort} the entry's value of each sort key, as the order
 * used it. The next page starts right after it in the page's order, so a write between two pages
 * neither repeats nor skips an entry that was there all along, as an offset would when entries
 * before it move (an update moves a resource to the front of {@code -_lastUpdated}, a delete
 * takes one away).
 *
 * <p>In a link it is {@code millis~Type~id~version}, then {@code ~} and one value per sort key:
 * {@code _} for none, {@code s} and the text in base64url (RFC 4648 §5, unpadded) for a string,
 * {@code l} and a decimal integer for a date's millisecond or a last update, {@code n} and a plain
 * decimal for a number. None of its parts holds a {@code ~}, and every one is read back by its
 * form alone: a value is a bound parameter of the next page's query, never part of its text.
 */
public record PagePosition(long lastUpdated, String type, String id, long versionId, List<Object> sortValues) {
  /** The most sort values a position carries: more than any {@code _sort} takes. */
  private static final int MAX_SORT_VALUES = 16;
  /** The longest string value: the index keeps no longer one (search_value.code, migration V1). */
  private static final int MAX_STRING = 512;
  /**
   * A value of search_value.num in plain form: any number a resource may hold (at most 100
   * significant digits, 1e-308 to 9.99e308: 309 digits before the point, 407 after).
   */
  private static final Pattern NUMBER = Pattern.compile("-?[0-9]{1,309}(\\.[0-9]{1,407})?");

  public PagePosition {
    // a list that may hold nulls (a key without a value), and is not changed after
    sortValues = Collections.unmodifiableList(new ArrayList<>(sortValues));
    for (Object v : sortValues) {
      if (v != null && !(v instanceof String) && !(v instanceof Long) && !(v instanceof BigDecimal)) {
        throw new IllegalArgumentException("a sort value is a String, Long or BigDecimal, not " + v.getClass());
      }
    }
  }

  public PagePosition(long lastUpdated, String type, String id, long versionId) {
    this(lastUpdated, type, id, versionId, List.of());
  }

  public static PagePosition of(StoredResource s) {
    return new PagePosition(s.lastUpdated().toEpochMilli(), s.type(), s.id(), s.versionId());
  }

  /** This position with {@code values}, the entry's value of each sort key in turn (null: none). */
  public PagePosition withSortValues(List<Object> values) {
    return new PagePosition(lastUpdated, type, id, versionId, values);
  }

  /** The form a link carries. */
  public String token() {
    StringBuilder sb = new StringBuilder().append(lastUpdated).append('~').append(type).append('~').append(id)
        .append('~').append(versionId);
    for (Object v : sortValues) {
      sb.append('~');
      if (v == null) {
        sb.append('_');
      } else if (v instanceof String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        sb.append('s').append(Base64.getUrlEncoder().withoutPadding().encodeToString(utf8));
      } else if (v instanceof Long l) {
        sb.append('l').append(l);
      } else {
        sb.append('n').append(((BigDecimal) v).toPlainString());
      }
    }
    return sb.toString();
  }

  /** A position from {@link #token}; empty when {@code token} is not one. */
  public static Optional<PagePosition> parse(String token) {
    String[] parts = token.trim().split("~", -1);
    if (parts.length < 4 || parts.length > 4 + MAX_SORT_VALUES || parts[1].isEmpty() || parts[2].isEmpty()
        || parts[2].length() > 64) {
      return Optional.empty();
    }
    try {
      List<Object> values = new ArrayList<>();
      for (String part : Arrays.asList(parts).subList(4, parts.length)) {
        values.add(value(part));
      }
      return Optional.of(new PagePosition(Long.parseLong(parts[0]), parts[1], parts[2], Long.parseLong(parts[3]),
          values));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** One sort value of a token, null for none; IllegalArgumentException when {@code part} is no value. */
  private static Object value(String part) {
    if (part.equals("_")) {
      return null;
    }
    String rest = part.isEmpty() ? "" : part.substring(1);
    char kind = part.isEmpty() ? ' ' : part.charAt(0);
    if (kind == 'l') {
      return Long.parseLong(rest);
    }
    if (kind == 'n' && NUMBER.matcher(rest).matches()) {
      return new BigDecimal(rest);
    }
    if (kind == 's') {
      String s = text(rest);
      // PostgreSQL takes no NUL in a text parameter, and the index holds none
      if (s.length() <= MAX_STRING && s.indexOf('\0') < 0) {
        return s;
      }
    }
    throw new IllegalArgumentException("not a sort value: " + part);
  }

  /** The UTF-8 text {@code base64url} encodes; IllegalArgumentException when it is not that. */
  private static String text(String base64url) {
    try {
      byte[] bytes = Base64.getUrlDecoder().decode(base64url);
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("not UTF-8", e);
    }
  }
}
