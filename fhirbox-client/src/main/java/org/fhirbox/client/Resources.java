package org.fhirbox.client;

import ca.uhn.fhir.parser.DataFormatException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/** The FHIR REST interactions (FHIR R4 http.html) on resources. */
final class Resources {
  private final Transport transport;
  private final Codec codec;
  private final Endpoints endpoints;

  Resources(Transport transport, Codec codec, Endpoints endpoints) {
    this.transport = transport;
    this.codec = codec;
    this.endpoints = endpoints;
  }

  <T extends Resource> T create(T resource) {
    Call call = write("POST", endpoints.fhir(resource.fhirType()), resource);
    return parse(call, resource);
  }

  /** A conditional create: a repeat after a lost answer finds what the first attempt created. */
  <T extends Resource> T createIfNoneExist(T resource, String query) {
    Call call = write("POST", endpoints.fhir(resource.fhirType()), resource)
        .header("If-None-Exist", escape(withoutMark(query))).idempotent(true);
    return parse(call, resource);
  }

  /** A conditional update ({@code PUT /{type}?query}). */
  <T extends Resource> T upsert(T resource, String query) {
    return parse(write("PUT", endpoints.fhir(resource.fhirType() + "?" + escape(withoutMark(query))), resource),
        resource);
  }

  /** A JSON Patch; not repeated after a lost answer (a patch applied twice may differ from once). */
  <T extends Resource> T patch(Class<T> type, String id, String jsonPatch) {
    Call call = Call.of("PATCH", endpoints.fhir(codec.typeOf(type) + "/" + requireId(id)))
        .body(BodyPublishers.ofString(jsonPatch, StandardCharsets.UTF_8), true)
        .header("Content-Type", "application/json-patch+json")
        .header("Accept", Codec.FHIR_JSON)
        .header("Prefer", "return=representation");
    return codec.read(transport.exchange(call), type, call);
  }

  private static String withoutMark(String query) {
    if (query == null || query.isBlank()) {
      throw new IllegalArgumentException("a conditional write needs search criteria, as identifier=system|value");
    }
    return query.startsWith("?") ? query.substring(1) : query;
  }

  <T extends Resource> T update(T resource, boolean ifMatch) {
    String id = resource.getIdElement().getIdPart();
    if (id == null || id.isBlank()) {
      throw new IllegalArgumentException("updateResource needs a resource with an id");
    }
    Call call = write("PUT", endpoints.fhir(resource.fhirType() + "/" + id), resource);
    String version = resource.getMeta().hasVersionId()
        ? resource.getMeta().getVersionId() : resource.getIdElement().getVersionIdPart();
    if (ifMatch && version != null && !version.isBlank()) {
      call = call.header("If-Match", "W/\"" + version + "\"");
    }
    try {
      return parse(call, resource);
    } catch (FhirboxException e) {
      if (e.status() != 412 || !e.repeated()) {
        throw e;
      }
      return storedByAnEarlierAttempt(resource, id, e);
    }
  }

  /**
   * The resource as stored when the first attempt of a conditional {@code PUT} that was sent again
   * (its answer lost) made the version the repeat's {@code If-Match} no longer matches; else
   * {@code precondition} is thrown. See {@link StoredWrite}.
   */
  @SuppressWarnings("unchecked")
  private <T extends Resource> T storedByAnEarlierAttempt(T sent, String id, FhirboxException precondition) {
    T current;
    try {
      current = read((Class<T>) sent.getClass(), id, null);
    } catch (FhirboxException e) {
      precondition.addSuppressed(e);
      throw precondition;
    }
    if (!StoredWrite.holds(codec.fhir(), current, sent)) {
      throw precondition;
    }
    return current;
  }

  @SuppressWarnings("unchecked")
  private <T extends Resource> T parse(Call call, T resource) {
    return codec.read(transport.exchange(call), (Class<T>) resource.getClass(), call);
  }

  private Call write(String method, URI uri, Resource resource) {
    return Call.of(method, uri)
        .body(BodyPublishers.ofString(codec.encode(resource), StandardCharsets.UTF_8), true)
        .header("Content-Type", Codec.FHIR_JSON + ";charset=utf-8")
        .header("Accept", Codec.FHIR_JSON)
        .header("Prefer", "return=representation");
  }

  <T extends Resource> T get(Class<T> type, URI uri) {
    Call call = Call.of("GET", uri).header("Accept", Codec.FHIR_JSON);
    return codec.read(transport.exchange(call), type, call);
  }

  <T extends Resource> T read(Class<T> type, String id, String versionId) {
    String path = codec.typeOf(type) + "/" + requireId(id) + (versionId == null ? "" : "/_history/" + requireId(versionId));
    return get(type, endpoints.fhir(path));
  }

  /**
   * What {@code reference} points at ({@code Type/id}, {@code Type/id/_history/v}, or either as
   * an absolute URL under this client's FHIR base), as a {@code type} when one is asked for. A
   * URL of another server is refused rather than read: the request would carry this client's
   * credentials there. FHIR R4 references.html#Reference: a contained ({@code #id}) reference is
   * resolved inside its resource, and one by identifier or display only names nothing to read.
   */
  <T extends Resource> T readReference(String reference, Class<T> type) {
    if (reference == null || reference.isBlank()) {
      throw new IllegalArgumentException("the Reference names no resource to read (only an identifier or display)");
    }
    String ref = reference.trim();
    if (ref.startsWith("#")) {
      throw new IllegalArgumentException("a contained reference ('" + ref + "') is read from the resource that contains it");
    }
    String base = endpoints.fhirBase().toString();
    if (ref.startsWith(base)) {
      ref = ref.substring(base.length());
    } else if (ref.startsWith("//") || ref.matches("[A-Za-z][A-Za-z0-9+.-]*:.*")) {
      throw new IllegalArgumentException("'" + Endpoints.redact(ref) + "' is on another server than " + base
          + ": not read, so that this client's credentials never go there");
    }
    Matcher m = LITERAL.matcher(ref);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a Type/id reference: '" + Endpoints.redact(ref) + "'");
    }
    Class<? extends Resource> named;
    try {
      named = codec.fhir().getResourceDefinition(m.group(1)).getImplementingClass().asSubclass(Resource.class);
    } catch (DataFormatException e) {
      throw new IllegalArgumentException("not a FHIR resource type: '" + m.group(1) + "'");
    }
    if (!type.isAssignableFrom(named)) {
      throw new IllegalArgumentException("the reference is to a " + m.group(1) + ", not a " + type.getSimpleName());
    }
    return type.cast(read(named, m.group(2), m.group(3)));
  }

  /** A FHIR id (R4 datatypes.html#id). */
  static final String FHIR_ID = "[A-Za-z0-9\\-.]{1,64}";

  /** FHIR R4 references.html#literal: {@code Type/id}, optionally {@code /_history/vid}. */
  private static final Pattern LITERAL =
      Pattern.compile("([A-Z][A-Za-z]{1,63})/(" + FHIR_ID + ")(?:/_history/(" + FHIR_ID + "))?");

  void delete(String type, String id) {
    Call call = Call.of("DELETE", endpoints.fhir(type + "/" + requireId(id))).header("Accept", Codec.FHIR_JSON);
    HttpResponse<InputStream> resp = transport.exchange(call);
    try {
      Transport.skip(resp.body());
    } catch (java.io.IOException e) {
      throw FhirboxException.transport(call.method(), call.path(), e);
    }
  }

  Bundle searchBundle(Class<? extends Resource> type, String query) {
    String q = query == null || query.isBlank() ? "" : "?" + escape(query.startsWith("?") ? query.substring(1) : query);
    return get(Bundle.class, endpoints.fhir(codec.typeOf(type) + q));
  }

  Bundle history(Class<? extends Resource> type, String id) {
    return get(Bundle.class, endpoints.fhir(codec.typeOf(type) + "/" + requireId(id) + "/_history"));
  }

  Bundle batch(Bundle bundle) {
    Call call = write("POST", endpoints.fhir(""), bundle);
    return codec.read(transport.exchange(call), Bundle.class, call);
  }

  /** Every matching resource of {@code type}, fetching the next page only when it is reached. */
  <T extends Resource> Stream<T> search(Class<T> type, String query) {
    Iterator<T> pages = new Iterator<>() {
      private Bundle page;
      private int index;
      private T next;
      /** The next links followed: a server whose link leads back to a page already read would loop. */
      private final Set<String> followed = new HashSet<>();

      @Override
      public boolean hasNext() {
        while (next == null) {
          if (page == null) {
            page = searchBundle(type, query);
            index = 0;
          } else if (index >= page.getEntry().size()) {
            Bundle.BundleLinkComponent link = page.getLink(Bundle.LINK_NEXT);
            if (link == null || !link.hasUrl()) {
              return false;
            }
            if (!followed.add(link.getUrl())) {
              throw FhirboxException.client("the server's next link leads back to a page already read ("
                  + followed.size() + " pages in); the search stops there instead of going round", null);
            }
            page = get(Bundle.class, endpoints.rebase(link.getUrl()));
            index = 0;
          } else {
            Bundle.BundleEntryComponent e = page.getEntry().get(index++);
            boolean included = e.getSearch().getMode() == Bundle.SearchEntryMode.INCLUDE;
            if (!included && type.isInstance(e.getResource())) {
              next = type.cast(e.getResource());
            }
          }
        }
        return true;
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        T t = next;
        next = null;
        return t;
      }
    };
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(pages,
        Spliterator.ORDERED | Spliterator.NONNULL), false);
  }

  /**
   * Percent-encodes what may not appear raw in a query (RFC 3986 §3.4), such as the {@code |} of
   * token searches and a space; existing {@code %XX} escapes are kept. A {@code +} passes
   * unchanged: a query is form-encoded ({@code application/x-www-form-urlencoded}, as
   * {@code URLEncoder}, {@code URLSearchParams} and Medplum's client write it), so {@code +} is a
   * space to the server, and a literal {@code +} (a timezone offset) is written {@code %2B}.
   */
  static String escape(String query) {
    StringBuilder sb = new StringBuilder(query.length() + 16);
    for (byte b : query.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      boolean keep = c > 0x20 && c < 0x7f && "|\"\\<>{}^`#[] ".indexOf(c) < 0;
      if (keep) {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return sb.toString();
  }

  private static String requireId(String id) {
    if (id == null || !id.matches(FHIR_ID)) {
      throw new IllegalArgumentException("not a FHIR id: '" + id + "'");
    }
    return id;
  }
}
