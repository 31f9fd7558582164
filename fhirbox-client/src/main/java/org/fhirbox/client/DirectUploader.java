package org.fhirbox.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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

  DirectUploader(Transport transport, Codec codec, Endpoints endpoints, Resources resources) {
    this.transport = transport;
    this.codec = codec;
    this.endpoints = endpoints;
    this.resources = resources;
  }

  Binary upload(Upload upload) {
    if (!upload.replayable()) {
      throw new IllegalArgumentException("uploadViaUrl needs bytes or a file: their SHA-256 is read before sending");
    }
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
    Call ask = Call.of("POST", endpoints.fhir("Binary/$upload-url"))
        .body(BodyPublishers.ofString(codec.encode(in)), true)
        .header("Content-Type", Codec.FHIR_JSON)
        .header("Accept", Codec.FHIR_JSON);
    Parameters out = codec.read(transport.exchange(ask), Parameters.class, ask);
    String id = ((Reference) out.getParameter("binary").getValue()).getReferenceElement().getIdPart();
    Call put = Call.of(out.getParameter("method").getValue().primitiveValue(),
            URI.create(out.getParameter("url").getValue().primitiveValue()))
        .authenticated(false)
        .body(new MeteredPublisher(upload.publisher(), upload.progress()), true);
    for (Parameters.ParametersParameterComponent h : out.getParameter("headers").getPart()) {
      put = put.header(h.getName(), h.getValue().primitiveValue());
    }
    drain(transport.exchange(put));
    Parameters.ParametersParameterComponent complete = out.getParameter("complete");
    if (complete != null) {
      Type url = complete.getPart().stream().filter(p -> p.getName().equals("url")).findFirst()
          .map(Parameters.ParametersParameterComponent::getValue).orElseThrow();
      drain(transport.exchange(Call.of("POST", URI.create(url.primitiveValue())).authenticated(false)
          .body(BodyPublishers.noBody(), true)));
    }
    return resources.read(Binary.class, id, null);
  }

  private static String sha256(Upload upload) {
    try (InputStream in = new DigestInputStream(upload.open(), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (IOException e) {
      throw FhirboxException.client("cannot read the content: " + e.getMessage(), new UncheckedIOException(e));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void drain(HttpResponse<InputStream> resp) {
    try (InputStream body = resp.body()) {
      body.transferTo(OutputStream.nullOutputStream());
    } catch (IOException ignored) {
      // the status already said it worked; the body is only a note
    }
  }
}
