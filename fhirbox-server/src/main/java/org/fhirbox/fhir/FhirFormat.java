package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

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
    return ranges(accept).stream().filter(Range::unspoken).findFirst().flatMap(Range::version);
  }

  /**
   * Whether an Accept header takes nothing but FHIR types of versions this server does not speak:
   * no other range (a wildcard, the content's own type) has a quality above 0. A Binary read then
   * has no answer the client takes: neither R4's resource nor the raw content, which a client of
   * that version would parse as the resource it asked for.
   */
  public static boolean acceptsOnlyUnspokenVersions(String accept) {
    List<Range> ranges = ranges(accept);
    return ranges.stream().anyMatch(Range::unspoken) && ranges.stream().allMatch(r -> r.unspoken() || r.q() == 0);
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
   * The format to answer an Accept header with (RFC 9110 §12.5.1, R4 http.html#mime-type). Each
   * format has the quality of the most specific range that matches it: a FHIR type naming it
   * ({@link #of}; one whose {@code fhirVersion} is not R4's matches nothing), before
   * {@code application/*} (either format) or {@code text/*} (XML, which {@code text/xml}
   * satisfies), before {@code *}{@code /*}; of ranges equally specific, the highest. A format of
   * quality 0 is refused (RFC 9110 §12.4.2), a wildcard beside it notwithstanding. The answer is the
   * format of the higher quality; of equal ones, that of the more specific range; of a FHIR type
   * each, JSON (RFC 9110 §12.5.1 leaves the choice to the server: HAPI's generic client ranks both
   * 1.0, XML first, and only JSON carries a Binary's signed url); of wildcards alike,
   * {@code unstated}. No Accept, an empty one, or one whose every range is ignored (see
   * {@link #ranges}) is {@code unstated}. Empty when neither format is acceptable: a 406.
   */
  public static Optional<FhirFormat> answering(String accept, FhirFormat unstated) {
    List<Range> ranges = ranges(accept);
    if (ranges.isEmpty()) {
      return Optional.of(unstated);
    }
    FhirFormat other = unstated == JSON ? XML : JSON;
    Match u = Match.of(ranges, unstated);
    Match o = Match.of(ranges, other);
    if (u.q() == 0 && o.q() == 0) {
      return Optional.empty();
    }
    if (u.q() != o.q()) {
      return Optional.of(u.q() > o.q() ? unstated : other);
    }
    if (u.specificity() != o.specificity()) {
      return Optional.of(u.specificity() > o.specificity() ? unstated : other);
    }
    return Optional.of(u.specificity() == Match.NAMED ? JSON : unstated);
  }

  /**
   * Whether an Accept header prefers a FHIR format to anything else it accepts: a FHIR type of at
   * least the quality of every other range ({@code *}{@code /*}, {@code text/html}, ...). A browser
   * navigating ({@code text/html,...,application/xml;q=0.9,*}{@code /*;q=0.8}) does not.
   */
  public static boolean preferredIn(String accept) {
    double fhir = 0;
    double other = 0;
    for (Range r : ranges(accept)) {
      if (r.format().isPresent()) {
        fhir = Math.max(fhir, r.q());
      } else {
        other = Math.max(other, r.q());
      }
    }
    return fhir > 0 && fhir >= other;
  }

  /**
   * One member of an Accept header: its media range (lower case, without parameters), the
   * {@code fhirVersion} it names, if any, and its {@code q}.
   */
  private record Range(String type, Optional<String> version, double q) {
    /** The FHIR format the range names, whatever its version. */
    Optional<FhirFormat> named() {
      return of(type);
    }

    /** A FHIR type of a version this server does not speak. */
    boolean unspoken() {
      return named().isPresent() && version.filter(v -> !speaks(v)).isPresent();
    }

    /** The FHIR format of R4 the range names, if any. */
    Optional<FhirFormat> format() {
      return unspoken() ? Optional.empty() : named();
    }

    /** How specifically the range matches {@code f}: {@link Match#NAMED}, 2 for a type's wildcard, 1 for any, 0 not. */
    int specificity(FhirFormat f) {
      if (named().isPresent()) {
        return format().filter(f::equals).isPresent() ? Match.NAMED : 0;
      }
      return switch (type) {
        case "*/*", "*" -> 1;
        case "application/*" -> 2;
        case "text/*" -> f == XML ? 2 : 0;
        default -> 0;
      };
    }
  }

  /** The quality a format has in an Accept header, and how specific the range that gives it is (0: none). */
  private record Match(double q, int specificity) {
    static final int NAMED = 3;

    static Match of(List<Range> ranges, FhirFormat f) {
      int most = ranges.stream().mapToInt(r -> r.specificity(f)).max().orElse(0);
      double q = ranges.stream().filter(r -> most > 0 && r.specificity(f) == most).mapToDouble(Range::q).max()
          .orElse(0);
      return new Match(q, most);
    }
  }

  /**
   * RFC 9110 §12.4.2: {@code qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )}; and a
   * fraction without its leading {@code 0} ({@code .2}), which Java's HttpURLConnection sends in
   * the Accept it sends by default ({@code text/html, image/gif, image/jpeg, *; q=.2, *}{@code /*; q=.2}).
   */
  private static final Pattern QVALUE = Pattern.compile("0(\\.[0-9]{0,3})?|\\.[0-9]{1,3}|1(\\.0{0,3})?");

  /**
   * The members of an Accept header, in order. One whose {@code q} is no qvalue ({@code q=2},
   * {@code q=-1}, {@code q=0.5000}, {@code q=high}) is ignored, as if it were not there, rather
   * than read as a refusal; {@code q=.2} is read as {@code 0.2} ({@link #QVALUE}); {@code q} is 1
   * where a member has none.
   */
  private static List<Range> ranges(String accept) {
    List<Range> out = new ArrayList<>();
    for (String part : accept == null ? new String[0] : accept.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      String[] params = part.split(";");
      double q = 1;
      boolean valid = true;
      for (int i = 1; i < params.length; i++) {
        String p = params[i].trim();
        if (p.length() >= 2 && (p.charAt(0) == 'q' || p.charAt(0) == 'Q') && p.charAt(1) == '=') {
          String value = p.substring(2).trim();
          valid = QVALUE.matcher(value).matches();
          q = valid ? Double.parseDouble(value) : 0;
          break;
        }
      }
      if (valid) {
        out.add(new Range(params[0].trim().toLowerCase(Locale.ROOT), fhirVersion(part), q));
      }
    }
    return out;
  }
}
