package org.fhirbox.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Type;

/**
 * Presigned direct uploads: {@code POST Binary/$upload-url} with the size and SHA-256 (read once
 * from the file first), the {@code PUT} to the URL it answers without credentials (to fhirbox or
 * straight to S3), then the completion {@code POST} when the answer names one.
 */
final class DirectUploader {
  private final Transport transport;
  private final Codec codec;
  private final Endpoints endpoints;
  private final Resources resources;
  private final long multipartThreshold;
  /** The longest lifetime the server grants to upload URLs, and the one it gives when asked for none. */
  static final long MAX_EXPIRES_IN_SECONDS = 3600;
  static final long DEFAULT_EXPIRES_IN_SECONDS = 900;

  /** @param multipartThreshold content of at least this many bytes is asked for in parts */
  DirectUploader(Transport transport, Codec codec, Endpoints endpoints, Resources resources, long multipartThreshold) {
    this.transport = transport;
    this.codec = codec;
    this.endpoints = endpoints;
    this.resources = resources;
    this.multipartThreshold = multipartThreshold;
  }

  Binary upload(Upload upload) {
    if (!upload.replayable()) {
      upload.closeStream(); // never read, yet its upload is over, as after any failed one
      throw new IllegalArgumentException("uploadViaUrl needs bytes or a file: their SHA-256 is read before sending");
    }
    upload.requireReadable();
    long size = upload.size();
    Parameters in = new Parameters();
    in.addParameter("contentType", upload.contentType());
    in.addParameter().setName("size").setValue(size <= Integer.MAX_VALUE
        ? new IntegerType((int) size) : new DecimalType(size));
    in.addParameter("sha256", sha256(upload));
    if (upload.filename() != null) {
      in.addParameter("filename", upload.filename());
    }
    if (upload.securityContext() != null) {
      in.addParameter("securityContext", upload.securityContext());
    }
    boolean multipart = size > 0 && size >= multipartThreshold;
    if (multipart) {
      in.addParameter("multipart", true);
    }
    long expiresIn = expiresIn(size, multipart);
    in.addParameter().setName("expiresIn").setValue(new IntegerType((int) expiresIn));
    Call ask = Call.of("POST", endpoints.fhir("Binary/$upload-url"))
        .body(BodyPublishers.ofString(codec.encode(in)), true)
        .header("Content-Type", Codec.FHIR_JSON)
        .header("Accept", Codec.FHIR_JSON);
    Parameters out = codec.read(transport.exchange(ask), Parameters.class, ask);
    if (!(required(out, "binary") instanceof Reference binary) || binary.getReferenceElement().getIdPart() == null) {
      throw FhirboxException.client("the $upload-url answer's binary is no reference to a Binary", null);
    }
    String id = binary.getReferenceElement().getIdPart();
    if (out.getParameter("url") == null) {
      sendParts(out, upload, size, expiresIn);
    } else {
      String method = required(out, "method").primitiveValue();
      URI uri = serverUri(required(out, "url").primitiveValue(), "upload URL");
      requireSendable(method, uri);
      Call put = Call.of(method, uri).authenticated(false)
          .body(new MeteredPublisher(upload.publisher(), upload.progress()), true);
      Parameters.ParametersParameterComponent headers = out.getParameter("headers");
      for (Parameters.ParametersParameterComponent h : headers == null ? List.<Parameters.ParametersParameterComponent>of()
          : headers.getPart()) {
        put = serverHeader(put, h.getName(), h.getValue() == null ? null : h.getValue().primitiveValue());
      }
      try {
        drain(transport.exchange(put));
      } catch (FhirboxException e) {
        boolean ownUrl = out.getParameter("complete") == null;
        // A bucket's PUT is signed with If-None-Match: *, so the bucket answers a PUT to an object
        // that exists (a repeat whose first attempt was stored, its answer lost) 412; the
        // completion, which checks the object, decides.
        boolean objectThere = !ownUrl && e.status() == 412;
        if (!objectThere && !(ownUrl && e.status() == 409 && e.repeated() && storedByAnEarlierAttempt(id, e))) {
          throw expiredOr(e, "the upload URL", expiresIn);
        }
      }
    }
    Parameters.ParametersParameterComponent complete = out.getParameter("complete");
    if (complete != null) {
      Type url = complete.getPart().stream().filter(p -> p.getName().equals("url")).findFirst()
          .map(Parameters.ParametersParameterComponent::getValue).orElse(null);
      // the server answers a repeated completion with the Binary it confirmed (200), so a
      // connection lost before the answer is retried as any idempotent request is
      try {
        drain(transport.exchange(serverCall("POST", url == null ? null : url.primitiveValue(), "completion URL")
            .body(BodyPublishers.noBody(), true).idempotent(true)));
      } catch (FhirboxException e) {
        throw expiredOr(e, "the completion URL", expiresIn);
      }
    }
    return Binaries.readCreated(resources, id, null, upload);
  }

  /**
   * The Binary a {@code PUT} created although its answer was lost: fhirbox's own upload URL takes
   * one {@code PUT} (a second gets 409), so the retry of a {@code PUT} that was stored conflicts
   * with itself. The URL is signed over the size and SHA-256, so a Binary under the reserved id
   * holds these bytes; until a {@code PUT} commits, a read gets 404.
   */
  private boolean storedByAnEarlierAttempt(String id, FhirboxException conflict) {
    try {
      resources.read(Binary.class, id, null);
      return true;
    } catch (FhirboxException e) {
      conflict.addSuppressed(e);
      return false;
    }
  }

  /**
   * S3 part URLs: {@code part} parameters with {@code number}, {@code offset}, {@code size} and
   * {@code url}; each byte range is PUT to its URL (idempotent, so a failed connection is retried).
   */
  private void sendParts(Parameters out, Upload upload, long size, long expiresIn) {
    for (Parameters.ParametersParameterComponent part : out.getParameter()) {
      if (!part.getName().equals("part")) {
        continue;
      }
      long offset = FhirboxException.serverNumber(value(part, "offset"), "part offset");
      long length = FhirboxException.serverNumber(value(part, "size"), "part size");
      Call put = serverCall("PUT", value(part, "url"), "part URL")
          .body(upload.range(offset, length, done -> upload.progress().onProgress(offset + done, size)), true);
      try {
        drain(transport.exchange(put));
      } catch (FhirboxException e) {
        throw expiredOr(e, "the URL of part " + value(part, "number"), expiresIn);
      }
    }
  }

  /**
   * How long the URLs are asked to live: the longest the server grants for parts (a large upload
   * takes long, and every part and the completion must come before the end), else the default
   * plus the time the content takes at the slowest pace a client is expected to keep, up to that.
   */
  static long expiresIn(long size, boolean multipart) {
    if (multipart) {
      return MAX_EXPIRES_IN_SECONDS;
    }
    return Math.min(MAX_EXPIRES_IN_SECONDS,
        DEFAULT_EXPIRES_IN_SECONDS + size / Transport.SLOWEST_UPLOAD_BYTES_PER_SECOND);
  }

  /**
   * A URL that expired before it was used (fhirbox answers 410; S3 403 with "Request has
   * expired") is said so, since the status alone does not tell why; any other failure as it is.
   * The message keeps what the answer said; it carries no OperationOutcome, so that a caller
   * showing only an outcome's diagnostics shows this message.
   */
  private static FhirboxException expiredOr(FhirboxException e, String what, long expiresIn) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    boolean expired = e.status() == 410 || e.status() == 403 && m.toLowerCase(java.util.Locale.ROOT).contains("expired");
    if (!expired) {
      return e;
    }
    return new FhirboxException(e.status(), null, what + " expired before the upload reached it"
        + " (the URLs lived " + expiresIn + " s); no Binary was created, upload the file again (" + m + ")", e);
  }

  /**
   * A request, without credentials, to a URL the server's answer names: one the HTTP client
   * cannot send (malformed, no http(s), an unknown method) is the server's fault, and named
   * without the URL, whose query holds a signature.
   */
  /** A call of the server's answer, to {@code url}, which must be an http(s) URL. */
  private static Call serverCall(String method, String url, String what) {
    return Call.of(method, serverUri(url, what)).authenticated(false);
  }

  private static URI serverUri(String url, String what) {
    URI uri;
    try {
      uri = url == null ? null : new URI(url);
    } catch (URISyntaxException e) {
      uri = null;
    }
    if (uri == null || uri.getHost() == null
        || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
      throw FhirboxException.client("the $upload-url answer's " + what + " is no valid http(s) URL", null);
    }
    return uri;
  }

  /** A method the answer names, which the JDK's HTTP client must be able to send to {@code uri}. */
  private static void requireSendable(String method, URI uri) {
    try {
      HttpRequest.newBuilder(uri).method(method, BodyPublishers.noBody());
    } catch (IllegalArgumentException | NullPointerException e) {
      throw FhirboxException.client("the $upload-url answer asks for a method the client cannot send: '"
          + method + "'", null);
    }
  }

  /**
   * A header the server's answer asks for; one the JDK's HTTP client refuses to set (a restricted
   * one such as {@code Host} or {@code Content-Length}, which it writes itself, or a malformed
   * name or value) is the server's fault, named without its value.
   */
  private static Call serverHeader(Call call, String name, String value) {
    try {
      HttpRequest.newBuilder(call.uri()).header(name, value);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw FhirboxException.client("the $upload-url answer asks for a header the HTTP client may not send: '"
          + name + "'", null);
    }
    return call.header(name, value);
  }

  /** A parameter the {@code $upload-url} answer must have: one missing is the server's fault, not the caller's. */
  private static Type required(Parameters out, String name) {
    Parameters.ParametersParameterComponent p = out.getParameter(name);
    if (p == null || p.getValue() == null) {
      throw FhirboxException.client("the $upload-url answer has no " + name, null);
    }
    return p.getValue();
  }

  private static String value(Parameters.ParametersParameterComponent p, String name) {
    return p.getPart().stream().filter(x -> x.getName().equals(name)).findFirst()
        .orElseThrow(() -> FhirboxException.client("a part of the upload URL answer has no " + name, null))
        .getValue().primitiveValue();
  }

  private static String sha256(Upload upload) {
    try (InputStream in = new DigestInputStream(upload.open(), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (IOException e) {
      throw FhirboxException.client("cannot read the content: " + LocalFiles.readReason(e), new UncheckedIOException(e));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The status already said it worked; the body, only a note, is read up to a bound ({@link Transport#skip}). */
  private static void drain(HttpResponse<InputStream> resp) {
    Transport.discard(resp);
  }
}
