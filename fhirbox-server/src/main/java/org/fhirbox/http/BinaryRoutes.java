package org.fhirbox.http;

import java.io.IOException;
import org.fhirbox.FhirException;
import org.fhirbox.auth.Principal;
import org.fhirbox.binary.BinaryContent;
import org.fhirbox.binary.BinaryService;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.StoredResource;
import org.fhirbox.fhir.AttachmentSigner;
import org.fhirbox.fhir.BinaryAccess;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.Written;
import org.fhirbox.storage.BlobStore;
import org.hl7.fhir.r4.model.Binary;

/** The Binary-specific parts of the REST API (FHIR R4 binary.html#rest). */
public final class BinaryRoutes {
  private final BinaryService binaries;
  private final ResourceStore store;
  private final BlobStore blobs;
  private final ResourceRepository repository;
  private final BinaryAccess access;
  private final AttachmentSigner signer;
  private final StorageResponder responder;
  private final ResourceOutput output;
  private final BinaryListener listener;

  /**
   * Told about Binary accesses after they succeeded (audit). Runs on the request thread after the
   * writing transaction committed, so an implementation must be quick and must not block.
   */
  public interface BinaryListener {
    /** The raw content was sent ({@code GET|HEAD Binary/{id}[/_history/{v}]} with a non-FHIR Accept). */
    default void read(Exchange ex, Principal principal, BinaryContent content) {
    }

    /** A signed URL was issued: by {@code $presigned-url}, or as the {@code url} of a Binary JSON read. */
    default void signed(Exchange ex, Principal principal, BinaryContent content) {
    }

    /** A Binary version was created or updated (raw, JSON, or in a batch/transaction Bundle). */
    default void written(Exchange ex, Principal principal, Binary binary, boolean created) {
    }
  }

  public BinaryRoutes(BinaryService binaries, ResourceStore store, BlobStore blobs, ResourceRepository repository,
      BinaryAccess access, AttachmentSigner signer, StorageResponder responder, ResourceOutput output,
      BinaryListener listener) {
    this.binaries = binaries;
    this.store = store;
    this.blobs = blobs;
    this.repository = repository;
    this.access = access;
    this.signer = signer;
    this.responder = responder;
    this.output = output;
    this.listener = listener;
  }

  /** Tells the listener that a Binary version was written and committed. */
  public void written(Exchange ex, Principal principal, Binary binary, boolean created) {
    listener.written(ex, principal, binary, created);
  }

  /** Tells the listener that a Binary was read as JSON or XML (its JSON carries a signed url). */
  public void readAsResource(Exchange ex, Principal principal, BinaryContent content) {
    listener.signed(ex, principal, content);
  }

  /** A body that is not FHIR JSON/XML is the content itself. */
  public boolean isRawBody(Exchange ex) {
    return ex.bodyFormat().isEmpty();
  }

  private BinaryService.Upload upload(Exchange ex) throws IOException {
    return new BinaryService.Upload(ex.request().getInputStream(), ex.contentType(),
        ex.header("Content-Encoding"), ex.header("X-Security-Context"), ex.param("_filename").orElse(null));
  }

  public Written createRaw(Exchange ex, Principal principal) throws IOException {
    refuseDeclaredTooLarge(ex);
    return drainingOnError(ex, () -> binaries.create(principal.project(), upload(ex)));
  }

  public Written updateRaw(Exchange ex, Principal principal, String id, Long ifMatch) throws IOException {
    refuseDeclaredTooLarge(ex);
    return drainingOnError(ex, () -> binaries.update(principal.project(), id, upload(ex), ifMatch));
  }

  /**
   * 413 before a byte of the body is read when its Content-Length already exceeds the limit. An
   * encoded body may be a little larger than its content: deflate's stored blocks add 5 bytes per
   * 64 KiB (RFC 1951 §3.2.4), gzip 18 bytes of frame (RFC 1952), so it is allowed 0.1% + 1 KiB more.
   */
  private void refuseDeclaredTooLarge(Exchange ex) {
    long max = binaries.policy().maxBytes();
    String encoding = ex.header("Content-Encoding");
    boolean encoded = encoding != null && !encoding.isBlank() && !encoding.trim().equalsIgnoreCase("identity");
    ex.refuseDeclaredLengthAbove(encoded ? max + max / 1000 + 1024 : max);
  }

  /** A refused upload (413, 400) is partly drained so the client can read why. */
  private static Written drainingOnError(Exchange ex, IoSupplier<Written> work) throws IOException {
    try {
      return work.get();
    } catch (FhirException e) {
      ex.drain(Exchange.DRAIN_LIMIT);
      throw e;
    }
  }

  private interface IoSupplier<T> {
    T get() throws IOException;
  }

  public BinaryContent content(Principal principal, StoredResource s) {
    BinaryContent c = store.read(tx -> tx.binaryContent(principal.project(), s.id(), s.versionId()))
        .orElseThrow(() -> FhirException.notFound("Binary/" + s.id() + " has no content"));
    access.requireRead(principal, c);
    return c;
  }

  /**
   * Streams the raw bytes of a Binary version (FHIR R4 binary.html#rest: a non-FHIR Accept gets
   * the content). Range requests work here too.
   */
  public void writeRaw(Exchange ex, Principal principal, StoredResource s) throws IOException {
    BinaryContent c = content(principal, s);
    if (c.securityContext() != null) {
      ex.response().setHeader("X-Security-Context", c.securityContext());
    }
    responder.respond(ex.request(), ex.response(), c, blobs, null, 0);
    listener.read(ex, principal, c);
  }

  /** {@code GET /Binary/{id}/$presigned-url}: a Parameters resource with the signed {@code url}. */
  public void operation(Exchange ex, Principal principal, String id, String name) throws IOException {
    if (!name.equals("$presigned-url")) {
      throw FhirException.notFound("unknown operation " + name + " on Binary");
    }
    if (!ex.method().equals("GET") && !ex.method().equals("POST")) {
      throw FhirException.methodNotAllowed("$presigned-url answers GET and POST");
    }
    principal.require("Binary", org.fhirbox.auth.AccessPolicy.Interaction.READ);
    StoredResource s = store.read(tx -> repository.read(tx, principal.project(), "Binary", id));
    BinaryContent c = content(principal, s);
    String download = ex.param("download").orElse(null);
    String url = signer.signedDownloadUrl(c, ex.baseUrl(),
        download == null ? null : download.isBlank() || download.equals("true")
            ? (c.filename() == null ? id : c.filename()) : download);
    listener.signed(ex, principal, c);
    org.hl7.fhir.r4.model.Parameters p = new org.hl7.fhir.r4.model.Parameters();
    p.addParameter().setName("url").setValue(new org.hl7.fhir.r4.model.UrlType(url));
    output.writeRaw(ex, 200, p);
  }
}
