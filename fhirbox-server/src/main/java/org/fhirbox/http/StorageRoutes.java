package org.fhirbox.http;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.core.FhirException;
import org.fhirbox.binary.BinaryReads;
import org.fhirbox.binary.DirectUploads;
import org.fhirbox.binary.Thumbnails;
import org.fhirbox.fhir.QueryLimits;
import org.fhirbox.fhir.Written;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.model.StoredResource;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.signing.UploadUrlSigner;
import org.fhirbox.storage.BlobStore;

/**
 * {@code GET|HEAD /storage/{id}/{versionId}?Expires&KeyId&Signature[&Download]}: the signature is
 * the credential (no Authorization header), so {@code <img>} and {@code <video>} work.
 * {@code GET|HEAD /storage/{id}/{versionId}/thumbnail?Expires&KeyId&Signature}: the version's
 * thumbnail ({@link Thumbnails}), made on each request that its {@code ETag} does not answer.
 * {@code PUT /storage/upload/{id}?...&Signature}: a presigned direct upload, and {@code POST} to
 * such a URL with {@code Blob}: the confirmation of one that went to S3 ({@link DirectUploads}).
 */
public final class StorageRoutes {
  private final StorageUrlSigner signer;
  private final BinaryReads reads;
  private final BlobStore blobs;
  private final StorageResponder responder;
  private final Clock clock;
  private final DirectUploads uploads;
  private final ResourceOutput output;
  private final Thumbnails thumbnails;
  private final long maxBinaryBytes;

  /** @param maxBinaryBytes {@code FHIRBOX_MAX_BINARY_BYTES}, which an upload URL's {@code PUT} may not exceed */
  public StorageRoutes(StorageUrlSigner signer, BinaryReads reads, BlobStore blobs, StorageResponder responder,
      Clock clock, DirectUploads uploads, ResourceOutput output, Thumbnails thumbnails, long maxBinaryBytes) {
    this.thumbnails = thumbnails;
    this.maxBinaryBytes = maxBinaryBytes;
    this.uploads = uploads;
    this.output = output;
    this.signer = signer;
    this.reads = reads;
    this.blobs = blobs;
    this.responder = responder;
    this.clock = clock;
  }

  public void handle(Exchange ex, List<String> segments) throws IOException {
    // A storage URL holds its signature: a page or PDF opened from it must not hand it on in a
    // Referer, on any answer (errors keep the header too, see ErrorMapper).
    ex.response().setHeader("Referrer-Policy", "no-referrer");
    // Whatever a browser shows from this route runs in an opaque origin, never the web app's: the
    // content, and an error a navigation gets as XML (application/fhir+xml, rendered as a document).
    ex.response().setHeader("Content-Security-Policy", "sandbox");
    boolean uploadPath = segments.size() == 2 && segments.get(0).equals(UploadUrlSigner.PATH_SEGMENT);
    if (uploadPath && ex.method().equals("PUT")) {
      upload(ex, segments.get(1));
      return;
    }
    if (uploadPath && ex.method().equals("POST")) {
      Written w = uploads.complete(segments.get(1), signedQuery(ex), new ExchangeFacts(ex));
      written(ex, w, w.created() ? "created Binary/" + w.stored().id() + " version " + w.stored().versionId()
          : "Binary/" + w.stored().id() + " version " + w.stored().versionId() + " was confirmed before");
      return;
    }
    if (uploadPath && ex.params().containsKey("Project")) {
      // An upload URL (a download URL has no Project, and may be one of a Binary whose id is "upload").
      // RFC 9110 §15.5.6: a 405 lists the methods the target does allow.
      throw FhirException.methodNotAllowed(ex.method() + " is not allowed on an upload URL: it takes the bytes "
          + "with PUT, or confirms an upload to S3 with POST", ex.params().containsKey("Blob") ? "POST" : "PUT");
    }
    if (!ex.method().equals("GET") && !ex.method().equals("HEAD")) {
      throw FhirException.methodNotAllowed(ex.method() + " is not allowed on a storage URL; use GET or HEAD"
          + " (an upload URL takes PUT)", "GET", "HEAD");
    }
    boolean thumbnail = segments.size() == 3 && segments.get(2).equals(StorageUrlSigner.THUMBNAIL);
    if (segments.size() != 2 && !thumbnail) {
      throw FhirException.notFound("not a storage URL");
    }
    StorageUrlSigner.Verified v = verified(ex, segments);
    long version = Long.parseLong(v.versionId());
    // whole seconds from now, the part second passed counted as one, so the answer is never fresh
    // after the URL's signature ends (RFC 9111 §5.2.2.1 counts max-age from the answer's making)
    Instant now = clock.instant();
    long maxAge = Math.max(0, v.expires().getEpochSecond() - now.getEpochSecond() - (now.getNano() > 0 ? 1 : 0));
    if (v.thumbnail()) {
      reads.sendSigned(v.binaryId(), version, v.shareLink(), v.contextVersions(), new ExchangeFacts(ex),
          content -> thumbnail(ex, content, maxAge));
      return;
    }
    reads.sendSigned(v.binaryId(), version, v.shareLink(), v.contextVersions(), new ExchangeFacts(ex), content ->
        responder.respond(ex.request(), ex.response(), content, blobs, v.downloadFilename(), maxAge));
  }

  /**
   * The download or thumbnail URL's signature, checked. One without a signature is 401, but not
   * when the request carries an {@code Authorization} header: a storage URL takes none (the
   * signature is its credential), so no other token would open it (RFC 9110 §15.5.2 lets a client
   * repeat a 401 with new credentials), and a client that fetches a new token and sends the request
   * again on each 401, as Medplum's does, would never stop. That request is 403 (§15.5.4: not to be
   * repeated), with the same diagnostic.
   */
  private StorageUrlSigner.Verified verified(Exchange ex, List<String> segments) {
    try {
      return signer.verify(ex.method(), "/storage/" + String.join("/", segments), signedQuery(ex));
    } catch (FhirException e) {
      if (e.status() != 401 || ex.header("Authorization") == null) {
        throw e;
      }
      throw FhirException.forbidden(e.issues().get(0).diagnostics()
          + "; a storage URL takes no Authorization header, its signature is its credential");
    }
  }

  /**
   * The thumbnail, or 304 when {@code If-None-Match} names it: its entity tag is the content's
   * with the thumbnail's size and {@link Thumbnails#RENDITION}, so it changes only with the content or
   * the way thumbnails are made. A tag the client names came from a thumbnail made before, so that
   * 304 is sent without making it again; {@code If-None-Match: *} and {@code If-Match} hold only for
   * a thumbnail there is (RFC 9110 §13.2.1: content that gives none is 422 whatever they say), so
   * they are judged once it is made: an {@code If-Match} that does not name it is 412 (§13.1.1).
   *
   * @return false for the 304, which carries no content
   */
  private boolean thumbnail(Exchange ex, BinaryContent content, long maxAge) throws IOException {
    EntityTag tag = new EntityTag(false, content.blobKey().value() + "-thumbnail-" + Thumbnails.SIZE + "-"
        + Thumbnails.RENDITION);
    String etag = tag.toString();
    HttpServletResponse response = ex.response();
    Optional<Boolean> ifMatch = StorageResponder.ifMatchHolds(ex.request(), tag);
    // parsed and compared as the content's is, not found as text in the field
    boolean notModified = StorageResponder.ifNoneMatchHolds(ex.request(), tag).orElse(false);
    Thumbnails.Thumbnail t = null;
    if (ifMatch.isPresent() || (notModified && StorageResponder.ifNoneMatchIsAny(ex.request()))) {
      t = thumbnails.make(content);
      if (!ifMatch.orElse(true)) {
        throw FhirException.preconditionFailed("If-Match does not match the thumbnail's entity tag");
      }
    }
    if (notModified) {
      response.setHeader("ETag", etag);
      response.setHeader("Cache-Control", "private, max-age=" + maxAge);
      response.setStatus(304);
      // sent now, without a Content-Length: the container would otherwise say 0, which RFC 9110
      // §8.6 forbids (the thumbnail's length is known only once it is made)
      response.flushBuffer();
      return false;
    }
    if (t == null) {
      t = thumbnails.make(content);
    }
    response.setStatus(200);
    response.setHeader("ETag", etag);
    response.setHeader("Cache-Control", "private, max-age=" + maxAge);
    response.setHeader("X-Content-Type-Options", "nosniff");
    response.setContentType(t.contentType());
    response.setContentLength(t.bytes().length);
    if (!ex.method().equals("HEAD")) {
      response.getOutputStream().write(t.bytes());
    }
    return true;
  }

  /**
   * Stores the body as the reserved Binary (201) or as the next version of the Binary the URL
   * replaces (200, as Medplum answers), with its {@code Location} and {@code ETag}, and an
   * OperationOutcome naming it (the uploader holds no token to read the Binary with).
   *
   * <p>A URL that names a size was issued within the size limit, and another declared length is
   * refused (400) once the URL is checked. The replacing one ({@code $presigned-url?upload=true})
   * names none: there a declared length over the limit is refused (413) before a byte is read, as
   * for a raw {@code POST /Binary}, rather than up to the limit stored before the body is found too
   * large. A URL stripped of its size fails its signature anyway, so this decides only which refusal.
   */
  private void upload(Exchange ex, String binaryId) throws IOException {
    Map<String, String> query = signedQuery(ex);
    if (!query.containsKey("Size")) {
      ex.refuseDeclaredLengthAbove(maxBinaryBytes);
    }
    RequestBody body = ex.requestBody();
    Written w = ex.readingBody(() -> uploads.receive(binaryId, query, ex.contentType(),
        ex.request().getContentLengthLong(), ex.header("Content-Encoding"), body, new ExchangeFacts(ex)));
    written(ex, w);
  }

  /**
   * The query of a signed URL, one value per name. A name given twice is refused (403) rather than
   * its first value taken: this server never issues such a URL, and a cache, proxy or log that takes
   * another of the values than the signer checked (a later {@code Expires}) would read another URL
   * than the one verified.
   */
  private static Map<String, String> signedQuery(Exchange ex) {
    Map<String, String> query = new HashMap<>();
    ex.params().forEach((name, values) -> {
      if (values.size() > 1) {
        throw FhirException.forbidden("a signed URL names the parameter " + QueryLimits.shorten(name)
            + " more than once; use the URL as it was issued");
      }
      query.put(name, values.get(0));
    });
    return query;
  }

  private void written(Exchange ex, Written w) throws IOException {
    written(ex, w, (w.created() ? "created" : "updated") + " Binary/" + w.stored().id() + " version "
        + w.stored().versionId());
  }

  private void written(Exchange ex, Written w, String info) throws IOException {
    StoredResource s = w.stored();
    String location = ex.fhirBase() + "/Binary/" + s.id() + "/_history/" + s.versionId();
    ex.response().setHeader("Location", location);
    ex.response().setHeader("ETag", "W/\"" + s.versionId() + "\"");
    output.writeRaw(ex, w.created() ? 201 : 200, ErrorMapper.info(info));
  }
}
