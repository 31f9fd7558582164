package org.fhirbox.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import org.fhirbox.FhirException;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Resource;

/** Parses (strictly) and serialises R4 resources. Thread-safe: a new HAPI parser per call. */
public final class FhirCodec {
  private final FhirContext ctx;

  public FhirCodec(FhirContext ctx) {
    this.ctx = ctx;
  }

  public FhirContext context() {
    return ctx;
  }

  /**
   * Parses a request body with HAPI's parser, collecting every structural problem into one 400
   * OperationOutcome (unknown elements, wrong types, bad dates, unknown resource types).
   */
  public Resource parse(String body, FhirFormat format) {
    StrictParseHandler handler = new StrictParseHandler();
    IParser parser = (format == FhirFormat.XML ? ctx.newXmlParser() : ctx.newJsonParser())
        .setParserErrorHandler(handler);
    IBaseResource parsed;
    try {
      parsed = parser.parseResource(body);
    } catch (DataFormatException e) {
      throw FhirException.badRequest("cannot parse the " + format.name() + " body: " + clean(e.getMessage()));
    } catch (IllegalArgumentException | ClassCastException e) {
      throw FhirException.badRequest("cannot parse the " + format.name() + " body: " + clean(e.getMessage()));
    } catch (StackOverflowError e) {
      // HAPI's XML parser recurses once per element; the stack unwinds before this catch runs
      throw FhirException.badRequest("cannot parse the " + format.name() + " body: its elements nest too deep");
    }
    handler.throwIfAny();
    if (!(parsed instanceof Resource r)) {
      throw FhirException.badRequest("the body is not an R4 resource");
    }
    return r;
  }

  /** Drops HAPI's "HAPI-1234: " code prefixes, which mean nothing to a client. */
  static String clean(String message) {
    if (message == null) {
      return "malformed content";
    }
    return message.replaceAll("HAPI-\\d+: ", "");
  }

  public String encode(IBaseResource resource, FhirFormat format, boolean pretty) {
    return parser(format, pretty).encodeResourceToString(resource);
  }

  /** Storage form: compact JSON. */
  public String toJson(IBaseResource resource) {
    return keepVersions(ctx.newJsonParser()).encodeResourceToString(resource);
  }

  /**
   * HAPI drops the {@code /_history/n} of references when encoding unless told not to; a server
   * must keep what was written (a versioned {@code Provenance.target}, {@code AuditEvent.entity.what}).
   */
  private static IParser keepVersions(IParser parser) {
    return parser.setStripVersionsFromReferences(false);
  }

  /** Parses JSON we stored ourselves (already validated on the way in). */
  public Resource fromJson(String json) {
    return (Resource) ctx.newJsonParser().parseResource(json);
  }

  private IParser parser(FhirFormat format, boolean pretty) {
    return keepVersions(format == FhirFormat.XML ? ctx.newXmlParser() : ctx.newJsonParser()).setPrettyPrint(pretty);
  }
}
