package org.fhirbox.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.ListPosition;

/**
 * One page of an admin API list ({@code /admin/clients}, {@code /admin/users}, {@code /admin/jobs}):
 * {@code _count} entries (default {@value #DEFAULT_COUNT}, at most {@value #MAX_COUNT}) after the
 * position {@code _cursor} names. A page that is not the last says where the next one is, as a
 * {@code Link: <...>; rel="next"} header (RFC 8288 §3) and as {@code "next"} in the body, beside the
 * list: an absolute URL that names the same filters, page size and a cursor.
 *
 * <p>The cursor is opaque to callers: base64url (RFC 4648 §5) of a JSON array of a version, the list
 * it belongs to (path and filters) and the last entry's creation time and id. It is keyset
 * paging on the list's own order, not an offset, so a client or user created between two pages
 * neither repeats nor hides an entry. It carries no secret and needs no signature: a forged one
 * only starts a page elsewhere in a list the caller may read anyway, since the project a caller
 * may see is checked on every request. One that is not well formed, or belongs to another list,
 * is 400.
 */
final class AdminPaging {
  static final int DEFAULT_COUNT = 100;
  static final int MAX_COUNT = 1000;
  /** Far longer than any cursor this server gives (an id is at most 128 characters, a project 64). */
  private static final int MAX_CURSOR_CHARS = 1024;
  private static final int MAX_ID_CHARS = 128;
  private static final String VERSION = "1";
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final String baseUrl;
  private final String path;
  /** The filters the list applied, as its query string ({@code project=...&state=...}), or empty. */
  private final String filters;
  private final int count;
  private final ListPosition after;

  private AdminPaging(String baseUrl, String path, String filters, int count, ListPosition after) {
    this.baseUrl = baseUrl;
    this.path = path;
    this.filters = filters;
    this.count = count;
    this.after = after;
  }

  /**
   * The page {@code ex} asks for of the list at {@code admin/{path}} with {@code filters} (name to
   * value, a null value left out): the ones the list applied, which its next link names again.
   */
  static AdminPaging of(Exchange ex, String path, Map<String, String> filters) {
    StringBuilder query = new StringBuilder();
    filters.forEach((name, value) -> {
      if (value != null) {
        query.append(name).append('=').append(URLEncoder.encode(value, StandardCharsets.UTF_8)).append('&');
      }
    });
    String applied = query.toString();
    int count = ex.param("_count").map(AdminPaging::count).orElse(DEFAULT_COUNT);
    ListPosition after = ex.param("_cursor").map(c -> position(c, path + "?" + applied)).orElse(null);
    return new AdminPaging(ex.baseUrl(), path, applied, count, after);
  }

  /** {@code filters} in order, for {@link #of}. */
  static Map<String, String> filters(String... namesAndValues) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      out.put(namesAndValues[i], namesAndValues[i + 1]);
    }
    return out;
  }

  /** Where the page starts: after this position, or at the list's first entry when null. */
  ListPosition after() {
    return after;
  }

  /** How many entries to read: one more than the page shows, to learn whether another page follows. */
  int limit() {
    return count + 1;
  }

  /**
   * The page of {@code read} (at most {@link #limit} entries read from {@link #after}): its entries
   * under {@code field} in {@code body}, with {@code "next"} and the Link header when more follow.
   */
  <T> void put(Exchange ex, Map<String, Object> body, String field, List<T> read, Function<T, Object> view,
      Function<T, ListPosition> position) {
    List<T> shown = read.size() > count ? read.subList(0, count) : read;
    body.put(field, shown.stream().map(view).toList());
    if (read.size() > count) {
      String next = baseUrl + "admin/" + path + "?" + filters + "_count=" + count + "&_cursor="
          + cursor(path + "?" + filters, position.apply(shown.get(shown.size() - 1)));
      ex.response().setHeader("Link", "<" + next + ">; rel=\"next\"");
      body.put("next", next);
    }
  }

  private static int count(String s) {
    try {
      int n = Integer.parseInt(s.trim());
      if (n < 1 || n > MAX_COUNT) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw FhirException.badRequest("_count must be a whole number from 1 to " + MAX_COUNT, "_count");
    }
  }

  private static String cursor(String list, ListPosition p) {
    ArrayNode a = JSON.createArrayNode().add(VERSION).add(list).add(p.created().toEpochMilli()).add(p.id());
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(JSON.writeValueAsBytes(a));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The position {@code cursor} names in {@code list}; 400 when it is none, or one of another list. */
  private static ListPosition position(String cursor, String list) {
    JsonNode a;
    try {
      if (cursor.length() > MAX_CURSOR_CHARS) {
        throw new IllegalArgumentException("too long");
      }
      a = JSON.readTree(Base64.getUrlDecoder().decode(cursor.strip()));
    } catch (IllegalArgumentException | IOException e) {
      throw invalidCursor();
    }
    if (a == null || !a.isArray() || a.size() != 4 || !a.get(0).isTextual() || !a.get(1).isTextual()
        || !a.get(2).canConvertToExactIntegral() || !a.get(2).canConvertToLong() || a.get(2).asLong() < 0
        || !a.get(3).isTextual() || !VERSION.equals(a.get(0).textValue()) || !plainId(a.get(3).textValue())) {
      throw invalidCursor();
    }
    if (!a.get(1).textValue().equals(list)) {
      // another list's position means nothing here: paging on would skip or repeat entries
      throw FhirException.badRequest("_cursor belongs to another list (another path, project or state): follow the"
          + " next link as given, or start again without _cursor", "_cursor");
    }
    return new ListPosition(Instant.ofEpochMilli(a.get(2).asLong()), a.get(3).textValue());
  }

  /** An id a row may have: PostgreSQL takes no NUL, and no id holds a control character. */
  private static boolean plainId(String id) {
    return !id.isEmpty() && id.length() <= MAX_ID_CHARS && id.chars().allMatch(c -> c >= 0x20);
  }

  private static FhirException invalidCursor() {
    return FhirException.badRequest("_cursor is not a cursor this server gave: follow the next link as given, or"
        + " start again without _cursor", "_cursor");
  }
}
