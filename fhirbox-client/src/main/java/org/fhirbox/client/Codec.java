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
  /** The most bytes of a JSON answer read into memory ({@link FhirboxClientBuilder#maxResponseBody}). */
  private final long maxBody;

  Codec(FhirContext fhir, long maxBody) {
    this.fhir = fhir;
    this.maxBody = maxBody;
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
    String json = text(resp, call);
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

  /**
   * The whole body of a JSON answer (a resource, a Bundle, an OperationOutcome, the admin API's),
   * at most {@code maxBody} bytes of it: a server that misbehaves, or is not the server, could
   * otherwise send more than the memory holds, and the JDK reads a body as long as it flows. A
   * longer one is refused as soon as it is known to be longer, by its Content-Length or by the
   * bytes read; the connection is then closed rather than read to the end.
   */
  String text(HttpResponse<InputStream> resp, Call call) {
    return text(resp, call, maxBody);
  }

  private static String text(HttpResponse<InputStream> resp, Call call, long maxBody) {
    // RFC 9110 §8.6: the Content-Length of an answer to HEAD, or of a 204 or 304, is no body's
    boolean bodiless = "HEAD".equals(resp.request().method()) || resp.statusCode() == 204 || resp.statusCode() == 304;
    long declared = bodiless ? -1 : resp.headers().firstValueAsLong("Content-Length").orElse(-1);
    try (InputStream in = resp.body()) {
      if (declared > maxBody) {
        throw tooLarge(call, maxBody, "a body of " + declared + " bytes (its Content-Length), more");
      }
      byte[] bytes = in.readNBytes((int) maxBody + 1);
      if (bytes.length > maxBody) {
        throw tooLarge(call, maxBody, "a body longer");
      }
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw FhirboxException.transport(call.method(), call.path(), e);
    }
  }

  private static FhirboxException tooLarge(Call call, long maxBody, String what) {
    return FhirboxException.client(call.method() + " " + call.path() + " was answered with " + what
        + " than the " + maxBody + " bytes this client reads into memory (FhirboxClientBuilder.maxResponseBody):"
        + " the server misbehaves, or the limit is too low for this answer", null);
  }

  /** An OAuth2 token response (RFC 6749 §5.1); {@code expires_in} defaults to one hour. */
  static TokenCache.Fetched token(HttpResponse<InputStream> resp, Call call, long maxBody) {
    try {
      JsonNode node = MAPPER.readTree(text(resp, call, maxBody));
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
