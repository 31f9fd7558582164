package org.fhirbox.http;

import java.io.IOException;
import java.io.OutputStream;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.fhirbox.FhirException;
import org.fhirbox.auth.Principal;
import org.fhirbox.binary.BinaryContent;
import org.fhirbox.binary.BinaryService;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.StoredResource;
import org.fhirbox.fhir.Written;
import org.fhirbox.storage.BlobStore;

/** The Binary-specific parts of the REST API (FHIR R4 binary.html#rest). */
public final class BinaryRoutes {
  private final BinaryService binaries;
  private final ResourceStore store;
  private final BlobStore blobs;

  public BinaryRoutes(BinaryService binaries, ResourceStore store, BlobStore blobs) {
    this.binaries = binaries;
    this.store = store;
    this.blobs = blobs;
  }

  /** A body that is not FHIR JSON/XML is the content itself. */
  public boolean isRawBody(Exchange ex) {
    return ex.bodyFormat().isEmpty();
  }

  private BinaryService.Upload upload(Exchange ex) throws IOException {
    return new BinaryService.Upload(ex.request().getInputStream(), ex.request().getContentType(),
        ex.header("Content-Encoding"), ex.header("X-Security-Context"), ex.param("_filename").orElse(null));
  }

  public Written createRaw(Exchange ex, Principal principal) throws IOException {
    return binaries.create(principal.project(), upload(ex));
  }

  public Written updateRaw(Exchange ex, Principal principal, String id, Long ifMatch) throws IOException {
    return binaries.update(principal.project(), id, upload(ex), ifMatch);
  }

  /** Read access to a Binary's content: hook for the securityContext rule. */
  public void checkReadable(Principal principal, StoredResource binary) {
    // Project isolation is given by the store; securityContext checks are added with auth.
  }

  public BinaryContent content(Principal principal, StoredResource s) {
    return store.read(tx -> tx.binaryContent(principal.project(), s.id(), s.versionId()))
        .orElseThrow(() -> FhirException.notFound("Binary/" + s.id() + " has no content"));
  }

  /** Streams the raw bytes of a Binary version. */
  public void writeRaw(Exchange ex, Principal principal, StoredResource s) throws IOException {
    checkReadable(principal, s);
    BinaryContent c = content(principal, s);
    var resp = ex.response();
    resp.setStatus(200);
    resp.setContentType(c.contentType());
    resp.setContentLengthLong(c.size());
    resp.setHeader("ETag", "W/\"" + s.versionId() + "\"");
    resp.setHeader("Last-Modified", DateTimeFormatter.RFC_1123_DATE_TIME.format(c.lastUpdated().atZone(ZoneOffset.UTC)));
    resp.setHeader("X-Content-Type-Options", "nosniff");
    if (c.securityContext() != null) {
      resp.setHeader("X-Security-Context", c.securityContext());
    }
    if (ex.method().equals("HEAD")) {
      return;
    }
    try (OutputStream out = resp.getOutputStream()) {
      blobs.read(c.blobKey(), 0, c.size(), out);
    }
  }

  /** {@code /Binary/{id}/$operation}. */
  public void operation(Exchange ex, Principal principal, String id, String name) throws IOException {
    throw FhirException.notFound("unknown operation " + name + " on Binary");
  }
}
