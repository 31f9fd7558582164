package org.fhirbox.fhir;

import java.util.Locale;
import java.util.Optional;

/** The two FHIR wire formats. */
public enum FhirFormat {
  JSON("application/fhir+json"),
  XML("application/fhir+xml");

  private final String contentType;

  FhirFormat(String contentType) {
    this.contentType = contentType;
  }

  public String contentType() {
    return contentType;
  }

  /**
   * The FHIR format a media type or {@code _format} value names, if any
   * (FHIR R4 http.html#mime-type: json, xml, application/json, text/xml, ...).
   */
  public static Optional<FhirFormat> of(String mediaTypeOrFormat) {
    if (mediaTypeOrFormat == null) {
      return Optional.empty();
    }
    String m = mediaTypeOrFormat.toLowerCase(Locale.ROOT);
    int semi = m.indexOf(';');
    m = (semi >= 0 ? m.substring(0, semi) : m).trim();
    return switch (m) {
      case "json", "application/fhir+json", "application/json", "application/json+fhir", "text/json" ->
          Optional.of(JSON);
      case "xml", "application/fhir+xml", "application/xml", "application/xml+fhir", "text/xml" -> Optional.of(XML);
      default -> Optional.empty();
    };
  }

  /** The FHIR format an Accept header prefers, if it names one (first match wins). */
  public static Optional<FhirFormat> fromAccept(String accept) {
    if (accept == null) {
      return Optional.empty();
    }
    for (String part : accept.split(",")) {
      Optional<FhirFormat> f = of(part);
      if (f.isPresent()) {
        return f;
      }
    }
    return Optional.empty();
  }
}
