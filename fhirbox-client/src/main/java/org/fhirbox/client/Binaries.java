package org.fhirbox.client;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Media;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/** Uploads (FHIR R4 binary.html#rest: raw body to {@code POST /Binary}) and linking them to resources. */
final class Binaries {
  private final Transport transport;
  private final Codec codec;
  private final Endpoints endpoints;
  private final Resources resources;
  private final TusUploader resumable;

  Binaries(Transport transport, Codec codec, Endpoints endpoints, Resources resources, TusUploader resumable) {
    this.transport = transport;
    this.codec = codec;
    this.endpoints = endpoints;
    this.resources = resources;
    this.resumable = resumable;
  }

  /**
   * A created Binary with what the client measured while sending it; {@code sha1} is null for a
   * resumable upload, whose bytes may have reached the server in several runs (the server fills
   * the Attachment's hash from the Binary when the resource is written).
   */
  record Uploaded(Binary binary, long size, byte[] sha1) {}

  /** Files at or above the resumable threshold go with tus, the rest in one {@code POST}. */
  Uploaded upload(Upload upload) {
    upload.requireReadable();
    return resumable.handles(upload) ? resumable.upload(upload) : post(upload);
  }

  /** Files, whatever their size, with tus. */
  Uploaded uploadResumably(Upload upload) {
    if (upload.file() == null) {
      upload.closeStream(); // never read, yet its upload is over, as after any failed one
      throw new IllegalArgumentException("a resumable upload needs a file: it is read again from where the server stopped");
    }
    upload.requireReadable();
    return resumable.upload(upload);
  }

  private Uploaded post(Upload upload) {
    String query = upload.filename() == null ? ""
        : "?_filename=" + URLEncoder.encode(upload.filename(), StandardCharsets.UTF_8);
    URI uri = endpoints.fhir("Binary" + query);
    MeteredPublisher body = new MeteredPublisher(upload.publisher(), upload.progress());
    Call call = Call.of("POST", uri)
        .body(body, upload.replayable())
        .header("Content-Type", upload.contentType())
        .header("Accept", Codec.FHIR_JSON);
    if (upload.securityContext() != null) {
      call = call.header("X-Security-Context", upload.securityContext());
    }
    LocalFiles.Stamp before = upload.file() == null ? null : LocalFiles.stamp(upload.file());
    try {
      Binary binary = codec.read(transport.exchange(call), Binary.class, call);
      LocalFiles.Stamp after = before == null ? null : LocalFiles.stamp(upload.file());
      if (after != null && !after.equals(before)) {
        // the body was read as the file changed: its first bytes may be the old content, the rest the new
        throw changedWhileUploaded(resources, upload.file(), binary.getIdElement().getIdPart());
      }
      return new Uploaded(binary, body.bytes(), body.sha1());
    } finally {
      upload.closeStream(); // read once, whatever the outcome
    }
  }

  /** The Binary holds old and new bytes of the file: it is deleted, or the error says it could not be. */
  static FhirboxException changedWhileUploaded(Resources resources, Path file, String id) {
    String changed = file + " changed while it was uploaded, so Binary/" + id + " would mix its old and new bytes";
    try {
      resources.delete("Binary", id);
    } catch (FhirboxException e) {
      return FhirboxException.client(changed + ", and it could not be deleted (" + e.getMessage()
          + "): delete Binary/" + id + " and upload the file again", e);
    }
    return FhirboxException.client(changed + "; it was deleted: upload the file again", null);
  }

  /**
   * The Binary an upload created, as the server reads it. A client that may create Binaries but
   * not read them ({@code system/Binary.c}) gets 403 (or 404 where the server hides what it may
   * not see): the upload succeeded all the same, so it gets the Binary the upload named, with what
   * the client sent (id, version when known, content type, security context), as the answer to a
   * raw {@code POST} gives such a client the created Binary without a read.
   */
  static Binary readCreated(Resources resources, String id, String version, Upload upload) {
    try {
      return resources.read(Binary.class, id, version);
    } catch (FhirboxException e) {
      if (e.status() != 403 && e.status() != 404) {
        throw e;
      }
      Binary b = new Binary();
      b.setIdElement(new IdType("Binary", id, version));
      if (version != null) {
        b.getMeta().setVersionId(version);
      }
      b.setContentType(upload.contentType());
      if (upload.securityContext() != null) {
        b.setSecurityContext(new Reference(upload.securityContext()));
      }
      return b;
    }
  }

  Attachment attachment(Upload upload) {
    Uploaded u = upload(upload);
    Attachment a = new Attachment();
    a.setContentType(u.binary().hasContentType() ? u.binary().getContentType() : upload.contentType());
    String signed = (String) u.binary().getUserData(Codec.SIGNED_URL);
    a.setUrl(signed != null ? signed : "Binary/" + u.binary().getIdElement().getIdPart());
    if (upload.filename() != null) {
      a.setTitle(upload.filename());
    }
    if (u.size() <= Integer.MAX_VALUE) {
      a.setSize((int) u.size()); // R4 Attachment.size is an unsignedInt
    }
    if (u.sha1() != null) {
      a.setHash(u.sha1());
    }
    return a;
  }

  Media media(Media template, Upload upload) {
    upload.requireReadable(); // before the placeholder is created
    Media media = template.copy();
    boolean noStatus = !media.hasStatus();
    if (noStatus) {
      media.setStatus(Media.MediaStatus.PREPARATION);
    }
    media.setContent(placeholder(upload));
    Media created = createPlaceholder(media, upload);
    String context = "Media/" + created.getIdElement().getIdPart();
    created.setContent(attachmentFor(created, upload.withSecurityContext(context)));
    if (noStatus) {
      created.setStatus(Media.MediaStatus.COMPLETED);
    }
    return resources.update(created, true);
  }

  DocumentReference documentReference(DocumentReference template, Upload upload) {
    upload.requireReadable(); // before the placeholder is created
    DocumentReference doc = template.copy();
    if (!doc.hasStatus()) {
      doc.setStatus(org.hl7.fhir.r4.model.Enumerations.DocumentReferenceStatus.CURRENT);
    }
    if (doc.getContent().isEmpty()) {
      doc.addContent();
    }
    doc.getContentFirstRep().setAttachment(placeholder(upload));
    DocumentReference created = createPlaceholder(doc, upload);
    String context = "DocumentReference/" + created.getIdElement().getIdPart();
    created.getContentFirstRep().setAttachment(attachmentFor(created, upload.withSecurityContext(context)));
    return resources.update(created, true);
  }

  /** Creates the resource an upload will name as its security context; a stream refused with it is closed. */
  private <T extends Resource> T createPlaceholder(T resource, Upload upload) {
    try {
      return resources.create(resource);
    } catch (RuntimeException e) {
      upload.closeStream(); // never read: its upload does not start
      throw e;
    }
  }

  /**
   * The upload for {@code placeholder}, which this call created for it. When the upload fails the
   * placeholder is deleted, so that a refused or broken upload leaves no resource without content
   * (a Media in {@code preparation}) behind, and a retry of the whole call no second one; the
   * upload's error is thrown as it is, or, when the delete fails too, one that names the resource.
   */
  private Attachment attachmentFor(Resource placeholder, Upload upload) {
    try {
      return attachment(upload);
    } catch (FhirboxException e) {
      String ref = placeholder.fhirType() + "/" + placeholder.getIdElement().getIdPart();
      try {
        resources.delete(placeholder.fhirType(), placeholder.getIdElement().getIdPart());
      } catch (FhirboxException notDeleted) {
        FhirboxException named = new FhirboxException(e.status(), e.operationOutcome(), e.getMessage()
            + "; " + ref + ", created for the upload, could not be deleted (" + notDeleted.getMessage()
            + "): delete it", e);
        named.addSuppressed(notDeleted);
        throw named;
      }
      throw e;
    }
  }

  /** Says what is coming until the upload exists (Media.content is 1..1, DocumentReference.content 1..*). */
  private static Attachment placeholder(Upload upload) {
    Attachment a = new Attachment().setContentType(upload.contentType());
    if (upload.filename() != null) {
      a.setTitle(upload.filename());
    }
    return a;
  }
}
