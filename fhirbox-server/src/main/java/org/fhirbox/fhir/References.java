package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.IdType;

/**
 * Which literal references name a resource on this server, and the form the search index keeps
 * a reference in. FHIR R4 references.html#literal: a relative reference ({@code Patient/123},
 * optionally {@code /_history/2}) is resolved against the server's own base; an absolute one
 * names the resource at that URL. search.html#reference adds that an absolute reference to the
 * server's own base is the local resource. So a reference is local when it is relative, or absolute
 * on one of the server's own bases (its public base URL and {@code FHIRBOX_BASE_URL_ALIASES}, whose
 * FHIR endpoint is {@code {base}fhir/R4/}); a local reference is indexed {@code Type/id}. Any other
 * absolute reference names another server's resource and is indexed whole, without its version:
 * it must never be taken for the local resource of the same type and id (a patient compartment,
 * an include or a chain would then reach a different person's data).
 */
public final class References {
  /** {@code Type/id[/_history/version]}, with the id of FHIR R4 datatypes.html#id. */
  private static final Pattern RELATIVE =
      Pattern.compile("([A-Z][A-Za-z]+)/([A-Za-z0-9\\-.]{1,64})(/_history/[A-Za-z0-9\\-.]{1,64})?");
  /** A URI scheme (RFC 3986 section 3.1): what makes a reference absolute ({@code https:}, {@code urn:}). */
  private static final Pattern ABSOLUTE = Pattern.compile("[A-Za-z][A-Za-z0-9+.\\-]*:.*", Pattern.DOTALL);
  private static final Pattern HISTORY = Pattern.compile("(.+)/_history/[^/]+");
  private static final String FHIR_PATH = "fhir/R4/";

  private final List<String> aliases;
  private final Supplier<String> baseUrl;

  /**
   * @param aliases other base URLs the server is known by ({@code FHIRBOX_BASE_URL_ALIASES})
   * @param baseUrl the server's own base URL, null until it listens
   */
  public References(List<String> aliases, Supplier<String> baseUrl) {
    this.aliases = List.copyOf(aliases);
    this.baseUrl = baseUrl;
  }

  /** A server that knows no base of its own: only relative references are local. */
  public static References relativeOnly() {
    return new References(List.of(), () -> null);
  }

  /**
   * The form the search index keeps {@code reference} in, and a search value is matched in:
   * {@code Type/id} for a local reference, the whole URL without {@code /_history/v} for another
   * server's, and other forms (a contained {@code #id}, a bare id) as HAPI reads them, unqualified.
   */
  public String indexed(String reference) {
    String ref = reference.trim();
    if (!ABSOLUTE.matcher(ref).matches()) {
      return new IdType(ref).toUnqualifiedVersionless().getValue();
    }
    for (String base : fhirBases()) {
      if (ref.startsWith(base)) {
        Matcher m = RELATIVE.matcher(ref.substring(base.length()));
        if (m.matches()) {
          return m.group(1) + "/" + m.group(2);
        }
      }
    }
    Matcher versioned = HISTORY.matcher(ref);
    return versioned.matches() ? versioned.group(1) : ref;
  }

  /** Whether {@code value} begins with a URI scheme ({@code https:}, {@code urn:}), which no id or {@code Type/id} does. */
  public static boolean isAbsolute(String value) {
    return ABSOLUTE.matcher(value).matches();
  }

  /** Whether an {@linkplain #indexed indexed} reference names a resource here: {@code Type/id}. */
  public static boolean isLocal(String indexed) {
    Matcher m = RELATIVE.matcher(indexed);
    return m.matches() && m.group(3) == null;
  }

  /** The server's own base URLs (its public one, once it listens, and the aliases), each ending in a slash. */
  public List<String> bases() {
    List<String> all = new ArrayList<>();
    String own = baseUrl.get();
    if (own != null) {
      all.add(own);
    }
    all.addAll(aliases);
    List<String> out = new ArrayList<>(all.size());
    for (String b : all) {
      if (!b.isBlank()) {
        out.add(b.endsWith("/") ? b : b + "/");
      }
    }
    return out;
  }

  /** The FHIR endpoints of the server's own bases, each ending in a slash. */
  private List<String> fhirBases() {
    return bases().stream().map(b -> b + FHIR_PATH).toList();
  }
}
