package org.fhirbox.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.QueryLimits;

/**
 * An {@code application/x-www-form-urlencoded} request body (the OAuth endpoints and the sign-in
 * pages), at most {@value #MAX_BYTES} bytes, sent without a {@code Content-Encoding}. Names and values are percent-decoded as UTF-8, as
 * browsers encode them (WHATWG URL, application/x-www-form-urlencoded).
 */
final class FormBody {
  static final int MAX_BYTES = 64 * 1024;

  private FormBody() {}

  /** True when the request says its body is a form. */
  static boolean isForm(Exchange ex) {
    String type = ex.contentType();
    return type != null && type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded");
  }

  /** The body of a request that must be a form; throws {@link IllegalArgumentException} when it is of another type. */
  static Map<String, List<String>> readForm(Exchange ex) throws IOException {
    if (!isForm(ex)) {
      throw new IllegalArgumentException("the body must be application/x-www-form-urlencoded");
    }
    return read(ex);
  }

  /**
   * The form's values per name, in order; throws {@link FhirException} 413 when it is over
   * {@value #MAX_BYTES} bytes (RFC 9110 §15.5.14), {@link IllegalArgumentException} when it is malformed.
   */
  static Map<String, List<String>> read(Exchange ex) throws IOException {
    String coding = ex.header("Content-Encoding");
    if (coding != null && !coding.isBlank() && !coding.trim().equalsIgnoreCase("identity")) {
      // RFC 9110 §15.5.16, §12.5.3: a form is taken as sent, so a coding is refused, saying which one is taken
      throw FhirException.unsupportedMediaType("a form is taken without a Content-Encoding, not with '"
          + QueryLimits.shorten(coding) + "'").withHeader("Accept-Encoding", "identity");
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    byte[] chunk = new byte[4096];
    InputStream in = ex.requestBody();
    int n;
    while ((n = in.read(chunk)) >= 0) {
      if (buf.size() + n > MAX_BYTES) {
        throw FhirException.tooLarge("the form is larger than " + MAX_BYTES + " bytes");
      }
      buf.write(chunk, 0, n);
    }
    return parse(buf.toString(StandardCharsets.US_ASCII));
  }

  static Map<String, List<String>> parse(String body) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String pair : body.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      try {
        String k = URLDecoder.decode(eq >= 0 ? pair.substring(0, eq) : pair, StandardCharsets.UTF_8);
        String v = URLDecoder.decode(eq >= 0 ? pair.substring(eq + 1) : "", StandardCharsets.UTF_8);
        out.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("the form body is malformed (RFC 3986 section 2.1 percent-encoding)");
      }
    }
    return out;
  }
}
