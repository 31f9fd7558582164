package org.fhirbox.fhir;

import java.util.function.Supplier;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestComponent;
import org.hl7.fhir.r4.model.CodeableConcept;

/**
 * What the CapabilityStatement says beyond plain REST: OAuth2 security (the SMART-on-FHIR service;
 * the endpoints are in {@code /.well-known/smart-configuration}) and the Binary operations.
 */
public final class ServerCapabilities implements CapabilityStatementFactory.Customizer {
  private final Supplier<String> baseUrl;

  public ServerCapabilities(Supplier<String> baseUrl) {
    this.baseUrl = baseUrl;
  }

  @Override
  public void customize(CapabilityStatement cs, CapabilityStatementRestComponent rest) {
    String base = baseUrl.get();
    CapabilityStatement.CapabilityStatementRestSecurityComponent security = rest.getSecurity();
    security.setCors(true);
    security.addService(new CodeableConcept().addCoding(new org.hl7.fhir.r4.model.Coding(
        "http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR")));
    security.setDescription("OAuth2 client credentials (client_secret_basic, client_secret_post, private_key_jwt)"
        + " with SMART v2 system scopes; HTTP Basic with the client id and secret is also accepted."
        + " Signed /storage URLs need no credentials. Token endpoint: " + base + "oauth2/token (see "
        + base + ".well-known/smart-configuration).");
    // No oauth-uris extension: SMART App Launch requires its authorize URL, and fhirbox has only a
    // token endpoint (client credentials); /.well-known/smart-configuration describes it.
    for (CapabilityStatement.CapabilityStatementRestResourceComponent r : rest.getResource()) {
      if (r.getType().equals("Binary")) {
        r.addOperation().setName("presigned-url")
            .setDefinition("http://fhirbox.org/OperationDefinition/Binary-presigned-url")
            .setDocumentation("GET /Binary/{id}/$presigned-url[?download=name]: a Parameters resource with a"
                + " short-lived signed url for the content");
        r.addOperation().setName("import")
            .setDefinition("http://fhirbox.org/OperationDefinition/Binary-import")
            .setDocumentation("POST /Binary/$import with Parameters url[, contentType, securityContext]: fetches"
                + " an external URL into a new Binary");
        r.addOperation().setName("upload")
            .setDefinition("http://fhirbox.org/OperationDefinition/Binary-upload")
            .setDocumentation("Resumable uploads with the tus protocol 1.0.0 (creation, creation-with-upload,"
                + " creation-defer-length, termination, expiration, checksum): POST /Binary/$upload creates an"
                + " upload, HEAD/PATCH/DELETE /Binary/$upload/{id} resume and end it; the last byte commits a"
                + " Binary, named in Content-Location");
      }
    }
  }
}
