package org.fhirbox.http;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.fhirbox.auth.Principal;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.FhirFormat;
import org.hl7.fhir.r4.model.Resource;

/**
 * The one exit for resources: every route that returns a resource (or a Bundle of them) writes
 * it here, and every {@link OutgoingFilter} runs first. This is where Attachment URLs are signed,
 * so no path can forget it.
 */
public final class ResourceOutput {
  /** Runs on every resource on its way out (Bundles included; filters descend into them). */
  public interface OutgoingFilter {
    void apply(Principal principal, Resource resource, String baseUrl);
  }

  private final FhirCodec codec;
  private final List<OutgoingFilter> filters;

  public ResourceOutput(FhirCodec codec, List<OutgoingFilter> filters) {
    this.codec = codec;
    this.filters = List.copyOf(filters);
  }

  /** Applies the filters without writing (for callers that embed the resource elsewhere). */
  public Resource prepare(Principal principal, Resource resource, String baseUrl) {
    for (OutgoingFilter f : filters) {
      f.apply(principal, resource, baseUrl);
    }
    return resource;
  }

  public void write(Exchange ex, Principal principal, int status, Resource resource) throws IOException {
    prepare(principal, resource, ex.baseUrl());
    writeRaw(ex, status, resource);
  }

  /** Writes a resource that needs no filtering (OperationOutcome, CapabilityStatement). */
  public void writeRaw(Exchange ex, int status, Resource resource) throws IOException {
    FhirFormat f = ex.format();
    ex.response().setStatus(status);
    ex.response().setContentType(f.contentType() + ";charset=utf-8");
    ex.response().setCharacterEncoding(StandardCharsets.UTF_8.name());
    try (Writer w = ex.response().getWriter()) {
      codec.encode(resource, f, ex.pretty(), w);
    }
  }

  /** {@code ETag} and {@code Last-Modified} from the resource's meta (FHIR R4 http.html#versioning). */
  public static void versionHeaders(Exchange ex, Resource r) {
    if (r.getMeta().hasVersionId()) {
      ex.response().setHeader("ETag", "W/\"" + r.getMeta().getVersionId() + "\"");
    }
    if (r.getMeta().hasLastUpdated()) {
      ex.response().setHeader("Last-Modified", DateTimeFormatter.RFC_1123_DATE_TIME.format(
          r.getMeta().getLastUpdated().toInstant().atZone(ZoneOffset.UTC)));
    }
  }
}
