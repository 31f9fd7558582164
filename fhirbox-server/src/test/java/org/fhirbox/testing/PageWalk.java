package org.fhirbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLDecoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Follows a search's or a history's {@code next} links to the end, as a client pages, and checks
 * that each link's {@code _after} names the last entry of the page that gave it: a position is
 * only ever of an entry the caller was shown.
 *
 * @param entries every entry listed, page by page, as {@code Type/id@version}
 * @param links every link of every page, decoded
 */
public record PageWalk(List<String> entries, List<String> links) {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** More pages than any walk here lists: a walk that reaches it does not end. */
  private static final int MAX_PAGES = 500;

  public static PageWalk of(TestClient c, String first) throws Exception {
    List<String> entries = new ArrayList<>();
    List<String> links = new ArrayList<>();
    String url = first;
    for (int pages = 0; url != null; pages++) {
      assertThat(pages).as("pages from " + first).isLessThan(MAX_PAGES);
      HttpResponse<String> r = c.get(url);
      assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(200);
      JsonNode bundle = JSON.readTree(r.body());
      String last = null;
      for (JsonNode e : bundle.path("entry")) {
        String full = e.path("fullUrl").asText();
        String ref = full.substring(full.indexOf("/R4/") + 4);
        String etag = e.at("/response/etag").asText();
        String version = etag.isEmpty() ? e.at("/resource/meta/versionId").asText()
            : etag.replaceAll("\\D", "");
        last = ref + "@" + version;
        entries.add(last);
      }
      url = null;
      for (JsonNode link : bundle.path("link")) {
        String href = URLDecoder.decode(link.path("url").asText(), StandardCharsets.UTF_8);
        links.add(href);
        if (link.path("relation").asText().equals("next")) {
          url = link.path("url").asText();
          String after = href.replaceAll(".*[?&]_after=([^&]*).*", "$1");
          assertThat(last).as("a page with a next link lists an entry: " + href).isNotNull();
          String[] named = after.split("~");
          assertThat(named[1] + "/" + named[2] + "@" + named[3]).as(href).isEqualTo(last);
        }
      }
    }
    return new PageWalk(entries, links);
  }
}
