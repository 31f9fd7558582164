package org.fhirbox.http;

import java.util.Locale;
import org.fhirbox.fhir.QueryLimits;
import org.fhirbox.core.FhirException;

/** The charset parameter of a FHIR body's Content-Type. */
final class BodyCharset {
  private BodyCharset() {
  }

  /**
   * FHIR R4 http.html#mime-type: resources are exchanged in UTF-8 only. Any other charset is a
   * 415 (RFC 9110 §15.5.16: a format the target does not support); US-ASCII is a subset of UTF-8.
   */
  static void requireUtf8(String contentType) {
    if (contentType == null) {
      return;
    }
    for (String part : contentType.split(";")) {
      String p = part.trim();
      int eq = p.indexOf('=');
      if (eq < 0 || !p.substring(0, eq).trim().equalsIgnoreCase("charset")) {
        continue;
      }
      String charset = p.substring(eq + 1).trim().replace("\"", "");
      switch (charset.toLowerCase(Locale.ROOT)) {
        case "utf-8", "utf8", "us-ascii" -> {
        }
        default -> throw FhirException.unsupportedMediaType("charset '" + QueryLimits.shorten(charset)
            + "' is not supported: FHIR resources are UTF-8 (FHIR R4 http.html#mime-type)");
      }
    }
  }
}
