package org.fhirbox.http;

import java.io.IOException;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.fhirbox.core.FhirException;
import org.fhirbox.binary.BinaryReads;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.storage.BlobStore;

/**
 * {@code GET|HEAD /storage/{id}/{versionId}?Expires&KeyId&Signature[&Download]}: the signature is
 * the credential (no Authorization header), so {@code <img>} and {@code <video>} work.
 */
public final class StorageRoutes {
  private final StorageUrlSigner signer;
  private final BinaryReads reads;
  private final BlobStore blobs;
  private final StorageResponder responder;
  private final Clock clock;

  public StorageRoutes(StorageUrlSigner signer, BinaryReads reads, BlobStore blobs, StorageResponder responder,
      Clock clock) {
    this.signer = signer;
    this.reads = reads;
    this.blobs = blobs;
    this.responder = responder;
    this.clock = clock;
  }

  public void handle(Exchange ex, List<String> segments) throws IOException {
    if (!ex.method().equals("GET") && !ex.method().equals("HEAD")) {
      throw FhirException.methodNotAllowed("storage URLs answer GET and HEAD only");
    }
    if (segments.size() != 2) {
      throw FhirException.notFound("not a storage URL");
    }
    Map<String, String> query = new HashMap<>();
    ex.params().forEach((k, v) -> query.put(k, v.get(0)));
    StorageUrlSigner.Verified v = signer.verify(ex.method(),
        "/storage/" + segments.get(0) + "/" + segments.get(1), query);
    long version = Long.parseLong(v.versionId());
    long maxAge = Math.max(0, v.expires().getEpochSecond() - clock.instant().getEpochSecond());
    reads.sendSigned(v.binaryId(), version, new ExchangeFacts(ex), content ->
        responder.respond(ex.request(), ex.response(), content, blobs, v.downloadFilename(), maxAge));
  }
}
