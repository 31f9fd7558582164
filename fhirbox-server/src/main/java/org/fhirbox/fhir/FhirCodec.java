package org.fhirbox.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import java.util.List;
import java.util.Map;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Resource;

/** Parses (strictly) and serialises R4 resources. Thread-safe: a new HAPI parser per call. */
public final class FhirCodec {
  private final FhirContext ctx;
  private final JsonFormatRules jsonRules;
  private final XmlFormatRules xmlRules;
  private final NarrativeRules narratives;

  public FhirCodec(FhirContext ctx) {
    this.ctx = ctx;
    this.jsonRules = new JsonFormatRules(ctx);
    this.xmlRules = new XmlFormatRules(ctx);
    this.narratives = new NarrativeRules();
  }

  public FhirContext context() {
    return ctx;
  }

  /**
   * Parses a request body with HAPI's parser, collecting every structural problem into one 400
   * OperationOutcome (unknown elements, wrong types, bad dates, unknown resource types). The
   * format rules HAPI does not enforce ({@link JsonFormatRules}, {@link XmlFormatRules}) are
   * checked first, and the narratives of every resource in the body last ({@link NarrativeRules}).
   * The {@code url} the server adds to a Binary's JSON is ignored ({@link BinaryUrlField}).
   */
  public Resource parse(String sent, FhirFormat format) {
    List<FhirException.Issue> early = format == FhirFormat.XML ? xmlRules.check(sent) : jsonRules.check(sent);
    String body = format == FhirFormat.XML ? sent : BinaryUrlField.strip(sent);
    StrictParseHandler handler = new StrictParseHandler();
    IParser parser = (format == FhirFormat.XML ? ctx.newXmlParser() : ctx.newJsonParser())
        .setParserErrorHandler(handler);
    IBaseResource parsed;
    try {
      parsed = parser.parseResource(body);
    } catch (DataFormatException | IllegalArgumentException | ClassCastException e) {
      FhirException hapi = FhirException.badRequest("cannot parse the " + format.name() + " body: "
          + clean(e.getMessage()));
      if (early.isEmpty()) {
        throw hapi;
      }
      List<FhirException.Issue> all = new java.util.ArrayList<>(early);
      all.addAll(hapi.issues());
      throw new FhirException(IssueKind.STRUCTURE, all, Map.of(), null);
    } catch (StackOverflowError e) {
      // HAPI's XML parser recurses once per element; the stack unwinds before this catch runs
      throw FhirException.badRequest("cannot parse the " + format.name() + " body: its elements nest too deep");
    }
    handler.throwIfAny(early);
    if (!(parsed instanceof Resource r)) {
      throw FhirException.badRequest("the body is not an R4 resource");
    }
    narratives.check(r);
    return r;
  }

  /**
   * {@link #parse}, for a Bundle to process: when a JSON body fails, the entries whose resources
   * fail are named ({@link BundleEntryParse}), and a batch is returned with its other entries.
   */
  public Resource parseBundle(String sent, FhirFormat format) {
    try {
      return parse(sent, format);
    } catch (FhirException e) {
      if (format != FhirFormat.JSON || e.status() != 400) {
        throw e;
      }
      return BundleEntryParse.localize(this, sent, e);
    }
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

  /**
   * Like {@link #encode(IBaseResource, FhirFormat, boolean)}, with the parser first set by
   * {@code configure} (a subset of the elements, say).
   */
  public String encode(IBaseResource resource, FhirFormat format, boolean pretty,
      java.util.function.UnaryOperator<IParser> configure) {
    return configure.apply(parser(format, pretty)).encodeResourceToString(resource);
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

  /** Like {@link #fromJson} but empty when the stored JSON cannot be read back. */
  public java.util.Optional<Resource> tryFromJson(String json) {
    try {
      return java.util.Optional.of(fromJson(json));
    } catch (RuntimeException e) {
      return java.util.Optional.empty();
    }
  }

  private IParser parser(FhirFormat format, boolean pretty) {
    return keepVersions(format == FhirFormat.XML ? ctx.newXmlParser() : ctx.newJsonParser()).setPrettyPrint(pretty);
  }
}
