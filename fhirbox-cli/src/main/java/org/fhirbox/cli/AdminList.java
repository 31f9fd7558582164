package org.fhirbox.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirbox.client.FhirboxClient;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * An admin API list ({@code admin/clients}, {@code admin/users}, {@code admin/jobs}), printed whole.
 * The server answers a page at a time ({@code _count} entries, then a {@code "next"} link that holds
 * an opaque {@code _cursor}); each page is printed as it comes into one JSON object shaped as a page
 * is, {@code {"clients":[...]}}, so a list of any length is never held in memory, and the output of
 * a list that fits one page is that page as the server answered it.
 */
abstract class AdminList implements Callable<Integer> {
  /** The page size the server uses when asked for none (README, admin API). */
  private static final int SERVER_DEFAULT_COUNT = 100;
  private static final String FHIR_PATH = "fhir/R4/";
  private static final Pattern COUNT = Pattern.compile("([?&])_count=[^&]*");
  private static final ObjectMapper JSON = new ObjectMapper()
      .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

  @Spec
  CommandSpec spec;

  @Mixin
  ClientOptions options;

  @Option(names = "--count", paramLabel = "N",
      description = "entries per page asked of the server (_count; the server's default is 100, its most 1000)")
  Integer count;

  @Option(names = "--limit", paramLabel = "N",
      description = "print at most N entries, with the server's \"next\" link when more follow (default: all)")
  Integer limit;

  /** The list's name: its path under {@code admin/} and the field its entries are in. */
  private final String list;

  AdminList(String list) {
    this.list = list;
  }

  /** The list's filters, each {@code name=value} form-encoded. */
  abstract List<String> filters();

  @Override
  public Integer call() {
    if (count != null && count < 1) {
      throw new UsageException("--count must be 1 or more, got " + count);
    }
    if (limit != null && limit < 1) {
      throw new UsageException("--limit must be 1 or more, got " + limit);
    }
    FhirboxClient client = options.client();
    String fhirBase = client.fhirBase();
    String root = fhirBase.substring(0, fhirBase.length() - FHIR_PATH.length());
    PrintWriter out = spec.commandLine().getOut();
    try {
      print(client, root, out);
    } catch (IOException e) {
      throw new UncheckedIOException(StandardOutput.FAILED, e);
    }
    return 0;
  }

  private void print(FhirboxClient client, String root, PrintWriter out) throws IOException {
    List<String> query = new ArrayList<>(filters());
    Integer size = pageSize(0);
    if (size != null) {
      query.add("_count=" + size);
    }
    String page = "admin/" + list + (query.isEmpty() ? "" : "?" + String.join("&", query));
    Set<String> asked = new HashSet<>();
    JsonGenerator json = JSON.createGenerator(out).useDefaultPrettyPrinter();
    List<Map.Entry<String, JsonNode>> after = null;
    long printed = 0;
    String next;
    while (true) {
      if (!asked.add(page)) {
        // a server that links back would be paged through for ever
        throw new IllegalStateException("the server's next link for admin/" + list + " leads back to a page already"
            + " read");
      }
      JsonNode body = read(client.sendJson("GET", page, null));
      JsonNode entries = body.path(list);
      if (!body.isObject() || !entries.isArray()) {
        throw new IllegalStateException("the server answered admin/" + list + " without a \"" + list + "\" list");
      }
      if (after == null) {
        after = start(json, body);
      }
      int shown = 0;
      for (JsonNode entry : entries) {
        if (limit != null && printed == limit) {
          break;
        }
        json.writeTree(entry);
        printed++;
        shown++;
      }
      json.flush();
      StandardOutput.flush(out);
      next = body.path("next").isTextual() ? body.path("next").textValue() : null;
      if (next != null && entries.isEmpty()) {
        throw new IllegalStateException("the server answered a page of admin/" + list + " without entries but with a"
            + " next link");
      }
      if (shown < entries.size()) {
        next = null; // the server sent more than asked for: its next link would skip the rest of this page
      }
      if (next == null || limit != null && printed == limit) {
        break;
      }
      page = follow(root, next, pageSize(printed));
    }
    json.writeEndArray();
    if (next != null) {
      json.writeStringField("next", next);
    }
    for (Map.Entry<String, JsonNode> field : after) {
      json.writeFieldName(field.getKey());
      json.writeTree(field.getValue());
    }
    json.writeEndObject();
    json.flush();
    out.println();
    StandardOutput.flush(out);
  }

  /**
   * Opens the object and the list as the first page has them, with the fields before the list;
   * returns those after it but {@code next}, to close the object with.
   */
  private List<Map.Entry<String, JsonNode>> start(JsonGenerator json, JsonNode first) throws IOException {
    json.writeStartObject();
    List<Map.Entry<String, JsonNode>> after = new ArrayList<>();
    boolean listSeen = false;
    for (Iterator<Map.Entry<String, JsonNode>> it = first.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      if (field.getKey().equals(list)) {
        listSeen = true;
      } else if (listSeen && !field.getKey().equals("next")) {
        after.add(field);
      } else if (!listSeen) {
        json.writeFieldName(field.getKey());
        json.writeTree(field.getValue());
      }
    }
    json.writeFieldName(list);
    json.writeStartArray();
    return after;
  }

  /** The page size to ask for once {@code printed} entries are printed: no more than the limit leaves. */
  private Integer pageSize(long printed) {
    if (limit == null) {
      return count;
    }
    return (int) Math.min(count == null ? SERVER_DEFAULT_COUNT : count, limit - printed);
  }

  /**
   * The server's next link as a path for {@link FhirboxClient#sendJson}, asking for {@code size}
   * entries when not null. Only its query is taken, onto this list's path under {@code --server}:
   * the server writes the link with the base URL it calls itself, which behind a proxy or on
   * {@code 127.0.0.1} against {@code localhost} is not the one this command reaches it by, and the
   * credentials go only to {@code --server} (the request is relative to it). A link to another
   * list is refused. The cursor names a position in the list (its path and filters), not in pages
   * of one size, so {@code _count} may change from page to page.
   */
  private String follow(String root, String next, Integer size) {
    URI link;
    try {
      link = URI.create(next);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("the server's next link is no URL: " + e.getMessage());
    }
    String path = link.getRawPath();
    if (path == null || !(path.endsWith("/admin/" + list) || path.equals("admin/" + list))
        || link.getRawQuery() == null) {
      throw new IllegalStateException("the server's next link does not lead to admin/" + list + " under "
          + root + ", so it is not followed");
    }
    String page = "admin/" + list + "?" + link.getRawQuery();
    if (size == null) {
      return page;
    }
    Matcher named = COUNT.matcher(page);
    return named.find() ? named.replaceFirst("$1_count=" + size) : page + "&_count=" + size;
  }

  private static JsonNode read(String answer) {
    try {
      return JSON.readTree(answer);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the server's answer is not JSON: " + e.getOriginalMessage());
    }
  }
}
