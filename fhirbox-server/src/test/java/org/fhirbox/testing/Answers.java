package org.fhirbox.testing;

import java.net.http.HttpResponse;
import java.util.Map;
import java.util.TreeMap;

/** What a caller can compare of two answers, to show that they tell it nothing apart. */
public final class Answers {
  private Answers() {}

  /** Status, body and every header but {@code Date} (names in lower case). */
  public static Map<String, Object> comparable(HttpResponse<String> r) {
    Map<String, Object> out = new TreeMap<>();
    out.put("status", r.statusCode());
    out.put("body", r.body());
    r.headers().map().forEach((name, values) -> {
      if (!name.equalsIgnoreCase("date")) {
        out.put(name.toLowerCase(), values);
      }
    });
    return out;
  }
}
