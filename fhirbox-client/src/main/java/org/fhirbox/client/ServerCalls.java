package org.fhirbox.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Type;

/** Calls outside the resource interactions: {@code $presigned-url}, content names, the JSON admin API. */
final class ServerCalls {
  // RFC 6266 §4.1 with RFC 8187 ext-value: filename*=UTF-8''percent-encoded
  private static final Pattern FILENAME_EXT = Pattern.compile("filename\\*\\s*=\\s*UTF-8''([^;\\s]+)",
      Pattern.CASE_INSENSITIVE);
  private static final Pattern FILENAME = Pattern.compile("filename\\s*=\\s*\"([^\"]*)\"",
      Pattern.CASE_INSENSITIVE);

  private final Transport transport;
  private final Codec codec;
  private final Endpoints endpoints;
  private final Downloader downloader;

  ServerCalls(Transport transport, Codec codec, Endpoints endpoints, Downloader downloader) {
    this.transport = transport;
    this.codec = codec;
    this.endpoints = endpoints;
    this.downloader = downloader;
  }

  String presignedUrl(String urlOrReference, boolean download) {
    String id = Downloader.binaryId(urlOrReference)
        .orElseThrow(() -> new IllegalArgumentException("not a Binary reference or URL: '"
            // a URL's query may hold another service's signature: named without it
            + (urlOrReference == null ? null : urlOrReference.replaceFirst("[?#].*", "?…")) + "'"));
    URI uri = endpoints.fhir("Binary/" + id + "/$presigned-url" + (download ? "?download=true" : ""));
    Call call = Call.of("GET", uri).header("Accept", Codec.FHIR_JSON);
    Parameters p = codec.read(transport.exchange(call), Parameters.class, call);
    Type url = p.getParameterValue("url");
    if (url == null || !url.isPrimitive()) {
      throw FhirboxException.client("GET " + call.path() + " returned no url parameter", null);
    }
    return url.primitiveValue();
  }

  Optional<String> contentFilename(String urlOrReference) {
    Call get = downloader.target(urlOrReference);
    Call head = new Call("HEAD", get.uri(), null, true, true, get.authenticated(), get.headers());
    HttpResponse<InputStream> resp = transport.exchangeOrRedirect(head);
    close(resp);
    return resp.headers().firstValue("Content-Disposition").flatMap(ServerCalls::filename);
  }

  static Optional<String> filename(String disposition) {
    Matcher ext = FILENAME_EXT.matcher(disposition);
    if (ext.find()) {
      return Optional.of(URLDecoder.decode(ext.group(1).replace("+", "%2B"), StandardCharsets.UTF_8));
    }
    Matcher plain = FILENAME.matcher(disposition);
    return plain.find() ? Optional.of(plain.group(1)) : Optional.empty();
  }

  String sendJson(String method, String path, String json) {
    URI relative = URI.create(path.startsWith("/") ? path.substring(1) : path);
    URI uri = endpoints.root().resolve(relative);
    if (relative.isAbsolute() || relative.getRawAuthority() != null || !uri.toString().startsWith(endpoints.root().toString())
        || relative.getRawPath().contains("..")) {
      throw new IllegalArgumentException("path must be relative to the server root, got '" + path + "'");
    }
    Call call = Call.of(method, uri).header("Accept", "application/json").authenticated(true);
    if (json != null) {
      call = call.body(BodyPublishers.ofString(json, StandardCharsets.UTF_8), true)
          .header("Content-Type", "application/json;charset=utf-8");
    }
    return codec.text(transport.exchange(call), call);
  }

  private static void close(HttpResponse<InputStream> resp) {
    try {
      resp.body().close();
    } catch (IOException ignored) {
      // a HEAD has no body; nothing depends on the connection
    }
  }
}
