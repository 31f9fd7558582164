package org.fhirbox.fhir;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

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
   * The FHIR version this server speaks, as the {@code fhirVersion} media-type parameter names it
   * (major.minor; R4 http.html#version-parameter).
   */
  public static final String VERSION = "4.0";

  /** The {@code fhirVersion} parameter of a media type or Accept element, if it has one. */
  public static Optional<String> fhirVersion(String mediaType) {
    if (mediaType == null) {
      return Optional.empty();
    }
    String[] params = mediaType.split(";");
    for (int i = 1; i < params.length; i++) {
      String p = params[i].trim();
      int eq = p.indexOf('=');
      if (eq > 0 && p.substring(0, eq).trim().equalsIgnoreCase("fhirVersion")) {
        return Optional.of(p.substring(eq + 1).trim().replace("\"", ""));
      }
    }
    return Optional.empty();
  }

  /** Whether {@code version} names FHIR R4: {@code 4.0}, or with its patch number ({@code 4.0.1}). */
  public static boolean speaks(String version) {
    return version.equals(VERSION) || version.startsWith(VERSION + ".");
  }

  /** The first {@code fhirVersion} an Accept header asks for that this server does not speak, if any. */
  public static Optional<String> unspokenVersionIn(String accept) {
    for (String part : accept == null ? new String[0] : accept.split(",")) {
      Optional<String> v = fhirVersion(part).filter(x -> !speaks(x));
      if (v.isPresent() && of(part).isPresent()) {
        return v;
      }
    }
    return Optional.empty();
  }

  /**
   * Whether an Accept header takes nothing but FHIR types of versions this server does not speak:
   * no other range (a wildcard, the content's own type) has a quality above 0. A Binary read then
   * has no answer the client takes: neither R4's resource nor the raw content, which a client of
   * that version would parse as the resource it asked for.
   */
  public static boolean acceptsOnlyUnspokenVersions(String accept) {
    if (unspokenVersionIn(accept).isEmpty()) {
      return false;
    }
    for (String part : accept.split(",")) {
      boolean unspoken = of(part).isPresent() && fhirVersion(part).filter(v -> !speaks(v)).isPresent();
      if (!part.isBlank() && !unspoken && quality(part) > 0) {
        return false;
      }
    }
    return true;
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

  /**
   * The FHIR format a {@code _format} value names, if any: as {@link #of}, and also with a space
   * where the media type has its {@code +} ({@code application/fhir json}), which is what an
   * unescaped {@code +} in a query becomes once form-decoded (R4 http.html#mime-type shows
   * {@code _format=application/fhir+json}; HAPI FHIR's server reads the space as the {@code +} too).
   * Headers are never form-decoded, so only the parameter is read so.
   */
  public static Optional<FhirFormat> ofParameter(String format) {
    Optional<FhirFormat> named = of(format);
    if (named.isPresent() || format == null) {
      return named;
    }
    int semi = format.indexOf(';');
    String type = (semi >= 0 ? format.substring(0, semi) : format).trim();
    return type.indexOf(' ') > 0 ? of(type.replaceFirst(" +", "+")) : Optional.empty();
  }

  /**
   * The FHIR format an Accept header prefers, if it names one: the highest quality among those it
   * names (JSON when JSON and XML rank equal: RFC 9110 §12.5.1 leaves the choice to the server);
   * one with {@code q=0} is not acceptable (RFC 9110 §12.4.2).
   */
  public static Optional<FhirFormat> fromAccept(String accept) {
    return Optional.ofNullable(ranked(accept).best());
  }

  /**
   * The format to answer an Accept header with: none or an empty one is {@code unstated}; else the
   * FHIR type it prefers ({@link #fromAccept}; one whose {@code fhirVersion} is not R4's does not
   * count); else, for a {@code *}{@code /*} or {@code application/*} range, {@code unstated}, or
   * the other format when the Accept refuses that one with {@code q=0}; XML for {@code text/*}
   * (which {@code text/xml} satisfies) unless refused so; else empty: the client accepts nothing a
   * FHIR answer can be (R4 http.html#mime-type, RFC 9110 §12.5.1), a 406. A type refused with
   * {@code q=0} stays refused beside a wildcard (RFC 9110 §12.4.2: "not acceptable").
   */
  public static Optional<FhirFormat> answering(String accept, FhirFormat unstated) {
    if (accept == null || accept.isBlank()) {
      return Optional.of(unstated);
    }
    Optional<FhirFormat> named = fromAccept(accept);
    if (named.isPresent()) {
      return named;
    }
    Set<FhirFormat> refused = EnumSet.noneOf(FhirFormat.class);
    boolean anything = false;
    boolean text = false;
    for (String part : accept.split(",")) {
      int semi = part.indexOf(';');
      String range = (semi >= 0 ? part.substring(0, semi) : part).trim().toLowerCase(Locale.ROOT);
      boolean taken = quality(part) > 0;
      // no FHIR type was taken (fromAccept found none), so each one of R4 named here has q=0
      of(part).filter(x -> fhirVersion(part).map(FhirFormat::speaks).orElse(true)).ifPresent(refused::add);
      anything |= taken && (range.equals("*/*") || range.equals("*") || range.equals("application/*"));
      text |= taken && range.equals("text/*");
    }
    if (anything) {
      return Stream.of(unstated, JSON, XML).filter(f -> !refused.contains(f)).findFirst();
    }
    return text && !refused.contains(XML) ? Optional.of(XML) : Optional.empty();
  }

  /**
   * Whether an Accept header prefers a FHIR format to anything else it accepts: a FHIR type of at
   * least the quality of every other range ({@code *}{@code /*}, {@code text/html}, ...). A browser
   * navigating ({@code text/html,...,application/xml;q=0.9,*}{@code /*;q=0.8}) does not.
   */
  public static boolean preferredIn(String accept) {
    Ranked r = ranked(accept);
    return r.best() != null && r.bestQ() >= r.otherQ();
  }

  /** The best FHIR format of an Accept header and its quality, and the best quality of anything else. */
  private record Ranked(FhirFormat best, double bestQ, double otherQ) {}

  private static Ranked ranked(String accept) {
    FhirFormat best = null;
    double bestQ = 0;
    double otherQ = 0;
    for (String part : accept == null ? new String[0] : accept.split(",")) {
      // a FHIR type of another version is one this server cannot answer with, whatever its q
      Optional<FhirFormat> f = of(part).filter(x -> fhirVersion(part).map(FhirFormat::speaks).orElse(true));
      double q = quality(part);
      // of equals, JSON: HAPI's generic client ranks both 1.0, XML first, and only JSON carries a
      // Binary's signed url
      if (f.isPresent() && (q > bestQ || q == bestQ && q > 0 && f.get() == JSON)) {
        best = f.get();
        bestQ = q;
      } else if (f.isEmpty() && !part.isBlank()) {
        otherQ = Math.max(otherQ, q);
      }
    }
    return new Ranked(best, bestQ, otherQ);
  }

  /** The {@code q} of one Accept element (1 without one; 0 when it cannot be read). */
  private static double quality(String part) {
    for (String param : part.split(";")) {
      String p = param.trim();
      if (p.length() > 2 && (p.charAt(0) == 'q' || p.charAt(0) == 'Q') && p.charAt(1) == '=') {
        try {
          double q = Double.parseDouble(p.substring(2).trim());
          return q >= 0 && q <= 1 ? q : 0;
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 1;
  }
}
