package org.fhirbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A browser without JavaScript, as plain HTTP: it keeps cookies, reads the forms of a page, posts
 * them, and follows no redirect by itself (the test looks at each {@code Location}). Enough for
 * fhirbox's own sign-in pages, whose markup it knows.
 */
public final class FormBrowser {
  /** A form that POSTs (a search form that GETs is followed with {@link #get}). */
  private static final Pattern FORM = Pattern.compile("<form method=\"(post)\" action=\"([^\"]*)\"[^>]*>(.*?)</form>",
      Pattern.DOTALL);
  private static final Pattern HIDDEN = Pattern.compile("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">");

  private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final Map<String, String> cookies = new LinkedHashMap<>();

  /** One response. */
  public record Page(int status, HttpResponse<String> response) {
    public String body() {
      return response.body();
    }

    public Optional<String> header(String name) {
      return response.headers().firstValue(name);
    }

    /** The redirect target; fails unless this is a 303. */
    public URI location() {
      assertThat(status).as(body()).isEqualTo(303);
      return URI.create(header("Location").orElseThrow());
    }

    /** The query parameters of the redirect target. */
    public Map<String, String> redirectParams() {
      return query(location());
    }

    /** The hidden fields of the form posting to {@code action} (an absolute URL ending in it). */
    public Map<String, String> hiddenFields(String action) {
      Matcher m = FORM.matcher(body());
      while (m.find()) {
        if (resolved(m.group(2)).endsWith(action)) {
          Map<String, String> out = new LinkedHashMap<>();
          Matcher h = HIDDEN.matcher(m.group(3));
          while (h.find()) {
            out.put(h.group(1), unescape(h.group(2)));
          }
          return out;
        }
      }
      throw new AssertionError("no form posting to " + action + " in:\n" + body());
    }

    private String resolved(String rawAction) {
      return response.uri().resolve(unescape(rawAction)).toString();
    }

    /** The absolute URL the form ending in {@code action} posts to, a relative action resolved against the page's. */
    public String formAction(String action) {
      Matcher m = FORM.matcher(body());
      while (m.find()) {
        if (resolved(m.group(2)).endsWith(action)) {
          return resolved(m.group(2));
        }
      }
      throw new AssertionError("no form posting to " + action + " in:\n" + body());
    }
  }

  public Page get(String url) {
    return get(url, Map.of());
  }

  /** A GET with {@code headers} beside the cookies (an {@code Origin}, as a page's script would send). */
  public Page get(String url, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
    headers.forEach(b::header);
    return send(b);
  }

  /** A request of any method without a body, with {@code headers} beside the cookies (a CORS preflight). */
  public Page send(String method, String url, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.noBody());
    headers.forEach(b::header);
    return send(b);
  }

  /** Posts {@code fields} as a form, with no hidden field added. */
  public Page post(String url, Map<String, String> fields) {
    return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(encode(fields))));
  }

  /** Submits the page's form whose action ends in {@code action}: its hidden fields plus {@code fields}. */
  public Page submit(Page page, String action, Map<String, String> fields) {
    return submit(page, action, fields, Map.of());
  }

  /** As {@link #submit(Page, String, Map)}, with {@code headers} beside the cookies. */
  public Page submit(Page page, String action, Map<String, String> fields, Map<String, String> headers) {
    Map<String, String> all = new LinkedHashMap<>(page.hiddenFields(action));
    all.putAll(fields);
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(page.formAction(action)))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(encode(all)));
    headers.forEach(b::header);
    return send(b);
  }

  /** The value of a cookie the server set, if it is still set. */
  public Optional<String> cookie(String name) {
    return Optional.ofNullable(cookies.get(name));
  }

  public void forgetCookies() {
    cookies.clear();
  }

  private Page send(HttpRequest.Builder b) {
    if (!cookies.isEmpty()) {
      b.header("Cookie", cookies.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
          .collect(Collectors.joining("; ")));
    }
    try {
      HttpResponse<String> r = http.send(b.timeout(Duration.ofMinutes(1)).build(),
          HttpResponse.BodyHandlers.ofString());
      for (String set : r.headers().allValues("Set-Cookie")) {
        String[] nameValue = set.split(";", 2)[0].split("=", 2);
        if (set.contains("Max-Age=0") || nameValue[1].isEmpty()) {
          cookies.remove(nameValue[0]);
        } else {
          cookies.put(nameValue[0], nameValue[1]);
        }
      }
      return new Page(r.statusCode(), r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public static String encode(Map<String, String> fields) {
    return fields.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
            + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }

  public static Map<String, String> query(URI uri) {
    Map<String, String> out = new LinkedHashMap<>();
    String q = uri.getRawQuery();
    if (q == null) {
      return out;
    }
    for (String pair : q.split("&")) {
      String[] kv = pair.split("=", 2);
      out.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
          kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
    }
    return out;
  }

  private static String unescape(String html) {
    return html.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
        .replace("&amp;", "&");
  }

  /** Lists every {@code name} value of radio inputs on the page. */
  public static List<String> radioValues(Page page, String name) {
    Matcher m = Pattern.compile("<input type=\"radio\" name=\"" + Pattern.quote(name) + "\" value=\"([^\"]*)\"")
        .matcher(page.body());
    List<String> out = new ArrayList<>();
    while (m.find()) {
      out.add(unescape(m.group(1)));
    }
    return out;
  }
}
