package org.fhirbox.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.fhirbox.auth.Principal;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.FhirFormat;
import org.fhirbox.model.StoredResource;
import org.fhirbox.fhir.AttachmentSigner;
import org.fhirbox.fhir.Written;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Resource;

/**
 * The one exit for resources: every route that returns a resource (or a Bundle of them) writes
 * it here, and the {@link AttachmentSigner} runs first. This is where Attachment URLs are signed,
 * so no path can forget it.
 */
public final class ResourceOutput {
  /** The signed URL of a Binary the caller may read, for the {@code url} of Binary JSON. */
  public interface BinaryUrl {
    /** Leaves {@code url} out of every Binary ({@code FHIRBOX_BINARY_URL_FIELD=false}): strict R4 JSON. */
    BinaryUrl NONE = (principal, binary, baseUrl) -> Optional.empty();

    Optional<String> of(Principal principal, Binary binary, String baseUrl);
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private final FhirCodec codec;
  private final AttachmentSigner signer;
  private final BinaryUrl binaryUrl;
  private final EncodedResponses encoded = new EncodedResponses(16L << 20);

  public ResourceOutput(FhirCodec codec, AttachmentSigner signer, BinaryUrl binaryUrl) {
    this.codec = codec;
    this.signer = signer;
    this.binaryUrl = binaryUrl;
  }

  /** Signs without writing (for callers that embed the resource elsewhere). */
  public Resource prepare(Principal principal, Resource resource, String baseUrl) {
    signer.apply(principal, resource, baseUrl);
    return resource;
  }

  /**
   * Writes one stored version (read, vread) with its {@code ETag} and {@code Last-Modified}.
   * The encoded bytes are kept and reused while signing resolves to the same URLs; see
   * {@link EncodedResponses}. Binary JSON, which carries its own {@code url}, is encoded each time.
   *
   * @return whether the answer is Binary JSON carrying its signed {@code url}
   */
  public boolean writeStored(Exchange ex, Principal principal, StoredResource stored,
      java.util.function.Function<StoredResource, Resource> parse) throws IOException {
    versionHeaders(ex, stored);
    ResourceSubset subset = ResourceSubset.of(ex);
    if (!subset.whole()) {
      return writeSubset(ex, principal, 200, parse.apply(stored), subset, null);
    }
    if (stored.type().equals("Binary")) {
      return write(ex, principal, 200, parse.apply(stored));
    }
    FhirFormat f = ex.format();
    EncodedResponses.Key key = new EncodedResponses.Key(principal.project(), stored.type(), stored.id(),
        stored.versionId(), f, ex.pretty());
    EncodedResponses.Entry hit = encoded.get(key);
    if (hit != null && signer.resolve(principal, hit.urls(), ex.baseUrl()).equals(hit.signed())) {
      send(ex, 200, f, hit.body());
      return false;
    }
    Resource r = parse.apply(stored);
    AttachmentSigner.Signed signed = signer.apply(principal, r, ex.baseUrl());
    byte[] body = codec.encode(r, f, ex.pretty()).getBytes(StandardCharsets.UTF_8);
    encoded.put(key, new EncodedResponses.Entry(List.copyOf(signed.urls().keySet()), signed, body));
    send(ex, 200, f, body);
    return false;
  }

  /**
   * Whether what {@link #writeStored} writes of {@code stored} changes only with its version, so
   * that its {@code ETag} may answer a conditional read (304): not so for a Binary, whose JSON
   * carries a signed URL, nor for a resource with an Attachment that names a Binary, which is
   * signed anew and describes the Binary's current version.
   */
  public boolean dependsOnVersionAlone(StoredResource stored, Function<StoredResource, Resource> parse) {
    return !stored.type().equals("Binary") && !signer.namesBinary(parse.apply(stored));
  }

  /** Writes {@code resource} signed; true when it is Binary JSON that carries its signed {@code url}. */
  public boolean write(Exchange ex, Principal principal, int status, Resource resource) throws IOException {
    prepare(principal, resource, ex.baseUrl());
    return writeSigned(ex, principal, status, resource);
  }

  /**
   * Writes a read's resource, or a search's or history's Bundle, as the subset the request asks
   * for ({@code _summary}, {@code _elements}: {@link ResourceSubset}); signed first, as everything.
   *
   * @param matchType the searched type, whose resources alone {@code _elements} subsets; null for any
   */
  public void writeSubset(Exchange ex, Principal principal, int status, Resource resource, String matchType)
      throws IOException {
    ResourceSubset subset = ResourceSubset.of(ex);
    if (subset.whole()) {
      write(ex, principal, status, resource);
      return;
    }
    writeSubset(ex, principal, status, resource, subset, matchType);
  }

  /** As {@link #write}, of the subset only; a Binary's JSON keeps its {@code url} as {@link ResourceSubset#keepsBinaryUrl} says. */
  private boolean writeSubset(Exchange ex, Principal principal, int status, Resource resource, ResourceSubset subset,
      String matchType) throws IOException {
    prepare(principal, resource, ex.baseUrl());
    FhirFormat f = ex.format();
    boolean bundle = resource instanceof org.hl7.fhir.r4.model.Bundle;
    Optional<String> url = resource instanceof Binary b && f == FhirFormat.JSON && subset.keepsBinaryUrl()
        ? binaryUrl.of(principal, b, ex.baseUrl()) : Optional.empty();
    // pretty or not, the url goes in as the whole resource's does: after copying the compact subset
    String encoded = codec.encode(resource, f, url.isPresent() ? false : ex.pretty(),
        p -> subset.configure(p, bundle, matchType));
    if (url.isPresent()) {
      send(ex, status, f, withUrl(encoded, url.get(), ex.pretty()));
      return true;
    }
    send(ex, status, f, encoded.getBytes(StandardCharsets.UTF_8));
    return false;
  }

  /** Writes the resource a create or update just stored, signing what its write found. */
  public void writeWritten(Exchange ex, Principal principal, int status, Written written) throws IOException {
    // compact JSON that is not a Binary's (which gains a url of its own): the write's own encoding,
    // its slots filled with the signed urls; the resource itself is then left as stored
    if (written.json() != null && ex.format() == FhirFormat.JSON && !ex.pretty()
        && !(written.resource() instanceof Binary)) {
      Map<String, Optional<String>> signed = signer.signedUrls(principal, written.attachments(), ex.baseUrl());
      send(ex, status, FhirFormat.JSON, written.json()
          .fill(url -> signed.getOrDefault(url, Optional.empty()).orElse(url)).getBytes(StandardCharsets.UTF_8));
      return;
    }
    signer.apply(principal, written.attachments(), ex.baseUrl());
    writeSigned(ex, principal, status, written.resource(), written.stored().json());
  }

  private boolean writeSigned(Exchange ex, Principal principal, int status, Resource resource) throws IOException {
    return writeSigned(ex, principal, status, resource, null);
  }

  /**
   * @param compactJson the resource's compact JSON when already at hand, else null
   * @return whether it was Binary JSON with its signed {@code url}
   */
  private boolean writeSigned(Exchange ex, Principal principal, int status, Resource resource, String compactJson)
      throws IOException {
    if (resource instanceof Binary b && ex.format() == FhirFormat.JSON) {
      Optional<String> url = binaryUrl.of(principal, b, ex.baseUrl());
      if (url.isPresent()) {
        writeBinaryJson(ex, status, compactJson != null ? compactJson : codec.encode(b, FhirFormat.JSON, false),
            url.get());
        return true;
      }
    }
    writeRaw(ex, status, resource);
    return false;
  }

  /**
   * R4's Binary has no {@code url} element, but clients (Medplum's {@code createAttachment})
   * read the signed URL from {@code Binary.url}, as Medplum's server returns it: the one
   * deliberate deviation from R4 (a validator reports it as an unknown property). JSON only,
   * never XML, where the schema would reject it; {@code FHIRBOX_BINARY_URL_FIELD=false} leaves it out.
   * The Binary's JSON is copied token by token, with {@code url} after {@code contentType}.
   */
  private void writeBinaryJson(Exchange ex, int status, String json, String url) throws IOException {
    send(ex, status, FhirFormat.JSON, withUrl(json, url, ex.pretty()));
  }

  static byte[] withUrl(String json, String url, boolean pretty) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(json.length() + url.length() + 64);
    try (JsonParser in = JSON.getFactory().createParser(json);
        JsonGenerator out = JSON.getFactory().createGenerator(bytes)) {
      if (pretty) {
        out.useDefaultPrettyPrinter();
      }
      if (in.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("a Binary's JSON is not an object");
      }
      out.writeStartObject();
      boolean placed = false;
      while (in.nextToken() == JsonToken.FIELD_NAME) {
        String name = in.currentName();
        out.writeFieldName(name);
        in.nextToken();
        out.copyCurrentStructureExact(in); // the value, whole; numbers exactly as written
        if (!placed && name.equals("contentType")) {
          out.writeStringField("url", url);
          placed = true;
        }
      }
      if (!placed) {
        out.writeStringField("url", url);
      }
      out.writeEndObject();
    }
    return bytes.toByteArray();
  }


  /**
   * Writes a resource that is not stored and needs no signing (the CapabilityStatement) as the
   * subset {@code _summary} or {@code _elements} asks for, as a read's ({@link ResourceSubset#ofCapabilities}):
   * R4 search.html#summary puts no resource outside them, and HAPI FHIR's server subsets
   * {@code metadata} too.
   */
  public void writeUnsigned(Exchange ex, int status, Resource resource) throws IOException {
    ResourceSubset subset = ResourceSubset.ofCapabilities(ex);
    if (subset.whole()) {
      writeRaw(ex, status, resource);
      return;
    }
    FhirFormat f = ex.format();
    String encoded = codec.encode(resource, f, ex.pretty(), p -> subset.configure(p, false, null));
    send(ex, status, f, encoded.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes a resource that needs no filtering (OperationOutcome, Parameters, the CapabilityStatement of OPTIONS). */
  public void writeRaw(Exchange ex, int status, Resource resource) throws IOException {
    FhirFormat f = ex.format();
    send(ex, status, f, codec.encode(resource, f, ex.pretty()).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * One write with a {@code Content-Length}: HAPI's encoder flushes its writer element by
   * element, and streaming it into the response cost a chunked write (a system call) per
   * element. A response here is one resource or one page of a Bundle ({@code _count} is
   * bounded), never Binary content, so it is encoded whole first.
   */
  private static void send(Exchange ex, int status, FhirFormat format, byte[] body) throws IOException {
    ex.response().setStatus(status);
    ex.response().setContentType(format.contentType() + ";charset=utf-8");
    ex.response().setContentLength(body.length);
    ex.response().getOutputStream().write(body);
  }

  /** {@code ETag} and {@code Last-Modified} of a stored version (FHIR R4 http.html#versioning). */
  public static void versionHeaders(Exchange ex, StoredResource s) {
    versionHeaders(ex, String.valueOf(s.versionId()), s.lastUpdated());
  }

  /** {@code ETag} and {@code Last-Modified} from the resource's meta (FHIR R4 http.html#versioning). */
  public static void versionHeaders(Exchange ex, Resource r) {
    versionHeaders(ex, r.getMeta().hasVersionId() ? r.getMeta().getVersionId() : null,
        r.getMeta().hasLastUpdated() ? r.getMeta().getLastUpdated().toInstant() : null);
  }

  private static void versionHeaders(Exchange ex, String versionId, java.time.Instant lastUpdated) {
    if (versionId != null) {
      ex.response().setHeader("ETag", "W/\"" + versionId + "\"");
    }
    if (lastUpdated != null) {
      ex.response().setHeader("Last-Modified",
          StorageResponder.IMF_FIXDATE.format(lastUpdated));
    }
  }
}
