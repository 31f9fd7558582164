package org.fhirbox.cli;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import org.fhirbox.client.FhirboxClient;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Binary;

/**
 * Writes what a command produced to stdout as JSON: resources pretty, or one per line for streams.
 * Each write is flushed and checked, so output that cannot be written fails the command.
 */
final class JsonOutput {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final FhirContext fhir;
  private final PrintWriter out;

  JsonOutput(FhirContext fhir, PrintWriter out) {
    this.fhir = fhir;
    this.out = out;
  }

  void resource(IBaseResource resource) {
    out.println(fhir.newJsonParser().setPrettyPrint(true).encodeResourceToString(resource));
    StandardOutput.flush(out);
  }

  /** One resource on one line (NDJSON), for streams of search results. */
  void line(IBaseResource resource) {
    out.println(fhir.newJsonParser().encodeResourceToString(resource));
    StandardOutput.flush(out); // a search that cannot be written stops fetching pages
  }

  /** A Binary as the server sent it, with the signed {@code url} R4 does not define put back. */
  void binary(Binary binary) {
    String json = fhir.newJsonParser().encodeResourceToString(binary);
    var url = FhirboxClient.signedUrl(binary);
    if (url.isEmpty()) {
      resource(binary);
      return;
    }
    try {
      ObjectNode node = (ObjectNode) MAPPER.readTree(json);
      node.put("url", url.get());
      json(node.toString());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot re-read the Binary's JSON", e);
    }
  }

  /** Plain JSON (the admin API), pretty-printed. */
  void json(String raw) {
    try {
      out.println(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(MAPPER.readTree(raw)));
    } catch (JsonProcessingException e) {
      out.println(raw);
    }
    StandardOutput.flush(out);
  }

  void text(String line) {
    out.println(line);
    StandardOutput.flush(out);
  }
}
