package org.fhirbox.client;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Resource;

/** FHIR JSON in and out, plus the two non-FHIR JSON shapes the server sends. */
final class Codec {
  /** Where a Binary's signed URL (a field R4 does not define) is kept after parsing. */
  static final String SIGNED_URL = "fhirbox.signedUrl";
  static final String FHIR_JSON = "application/fhir+json";

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final FhirContext fhir;

  Codec(FhirContext fhir) {
    this.fhir = fhir;
  }

  FhirContext fhir() {
    return fhir;
  }

  String encode(Resource resource) {
    return fhir.newJsonParser().encodeResourceToString(resource);
  }

  String typeOf(Class<? extends Resource> type) {
    return fhir.getResourceType(type);
  }

  /** Reads the whole response body as a resource of {@code type}. */
  <T extends Resource> T read(HttpResponse<InputStream> resp, Class<T> type, Call call) {
    String json;
    try (InputStream in = resp.body()) {
      json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw FhirboxException.transport(call.method(), call.path(), e);
    }
    try {
      String signedUrl = null;
      if (type == Binary.class) {
        // Like Medplum, the server adds "url" (a signed URL) to Binary; R4 has no such element.
        JsonNode tree = MAPPER.readTree(json);
        if (tree instanceof ObjectNode obj && obj.path("url").isTextual()) {
          signedUrl = obj.remove("url").asText();
          json = MAPPER.writeValueAsString(obj);
        }
      }
      T parsed = fhir.newJsonParser().parseResource(type, json);
      if (signedUrl != null) {
        parsed.setUserData(SIGNED_URL, signedUrl);
      }
      return parsed;
    } catch (JsonProcessingException | DataFormatException e) {
      throw FhirboxException.client(call.method() + " " + call.path() + " returned a body that is not a "
          + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  /** An OAuth2 token response (RFC 6749 §5.1); {@code expires_in} defaults to one hour. */
  static TokenCache.Fetched token(HttpResponse<InputStream> resp, Call call) {
    try (InputStream in = resp.body()) {
      JsonNode node = MAPPER.readTree(in);
      String token = node.path("access_token").asText("");
      if (token.isEmpty()) {
        throw FhirboxException.client("the token endpoint " + call.path() + " returned no access_token", null);
      }
      return new TokenCache.Fetched(token, Duration.ofSeconds(node.path("expires_in").asLong(3600)));
    } catch (IOException e) {
      throw FhirboxException.transport(call.method(), call.path(), e);
    }
  }
}
