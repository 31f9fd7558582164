package org.fhirbox.fhir;

import java.util.function.Supplier;
import org.fhirbox.auth.Audiences;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestComponent;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.UriType;

/**
 * What the CapabilityStatement says beyond plain REST: OAuth2 security (the SMART-on-FHIR service
 * and its oauth-uris; everything else is in {@code /.well-known/smart-configuration}) and the
 * Binary operations.
 */
public final class ServerCapabilities implements CapabilityStatementFactory.Customizer {
  static final String OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";
  private final Supplier<String> issuer;

  /**
   * @param issuer the token issuer, under which the discovery documents name the endpoints too (the
   *     oauth-uris here name the same ones)
   */
  public ServerCapabilities(Supplier<String> issuer) {
    this.issuer = issuer;
  }

  @Override
  public void customize(CapabilityStatement cs, CapabilityStatementRestComponent rest) {
    String base = Audiences.slashed(issuer.get());
    CapabilityStatement.CapabilityStatementRestSecurityComponent security = rest.getSecurity();
    security.setCors(true);
    String services = "http://terminology.hl7.org/CodeSystem/restful-security-service";
    security.addService(new CodeableConcept().addCoding(new Coding(services, "SMART-on-FHIR", "SMART-on-FHIR")));
    // a client's id and secret as HTTP Basic credentials are accepted on every FHIR request too
    security.addService(new CodeableConcept().addCoding(new Coding(services, "Basic", "Basic")));
    security.setDescription("SMART App Launch 2 for people: OAuth2 authorization code with PKCE (S256), the"
        + " standalone launch with patient context, OpenID Connect (ID tokens RS256), public and confidential apps,"
        + " refresh tokens with offline_access. OAuth2 client credentials for machine clients (client_secret_basic,"
        + " client_secret_post, or private_key_jwt as in SMART Backend Services). Scopes: SMART v2 system/, user/"
        + " and patient/ (the v1 .read and .write forms are read too); patient/ scopes hold a token to its"
        + " patient's compartment. HTTP Basic with a client id and secret is also accepted. Signed /storage URLs"
        + " need no credentials. Endpoints and capabilities: " + base + ".well-known/smart-configuration.");
    // SMART App Launch (conformance.html): discovery is the .well-known document; the oauth-uris
    // extension is deprecated but still read by older clients, and needs the authorize endpoint.
    // Its R4 definition (extension-oauth-uris) has only authorize, token, register and manage:
    // revocation and introspection are named in smart-configuration alone.
    Extension uris = new Extension(OAUTH_URIS);
    uris.addExtension("authorize", new UriType(base + "oauth2/authorize"));
    uris.addExtension("token", new UriType(base + "oauth2/token"));
    security.addExtension(uris);
    for (CapabilityStatement.CapabilityStatementRestResourceComponent r : rest.getResource()) {
      if (r.getType().equals("Binary")) {
        r.addOperation().setName("presigned-url")
            .setDefinition("http://fhirbox.org/OperationDefinition/Binary-presigned-url")
            .setDocumentation("GET /Binary/{id}/$presigned-url[?download=name][&expiresIn=seconds]: a Parameters"
                + " resource with a short-lived signed url for the content; with thumbnail=true, the signed url of"
                + " an image's thumbnail (at most 256 px a side); with upload=true (Medplum's form, needs Binary"
                + " update and read of its current version), a url that takes one PUT of the Binary's next content; on"
                + " /Binary/{id}/_history/{vid}/$presigned-url, the same for that version (no upload)");
        r.addOperation().setName("import")
            .setDefinition("http://fhirbox.org/OperationDefinition/Binary-import")
            .setDocumentation("POST /Binary/$import with Parameters url[, contentType, securityContext]: fetches"
                + " an external URL into a new Binary");
        r.addOperation().setName("upload-url")
            .setDefinition("http://fhirbox.org/OperationDefinition/Binary-upload-url")
            .setDocumentation("POST /Binary/$upload-url with Parameters contentType, size[, sha256, sha1, filename,"
                + " securityContext, expiresIn (seconds, at most 3600), multipart], and no others: reserves a Binary and answers its"
                + " binary reference, a url, the method (PUT), the headers to send and when the url expires; the url"
                + " takes the exact declared bytes once, without credentials. With S3 uploads, a complete url to POST"
                + " to afterwards, and with multipart=true (or above 5 GiB) one part (number, offset, size, url) per"
                + " S3 part instead of the url");
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
