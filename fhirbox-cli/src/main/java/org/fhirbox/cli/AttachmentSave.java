package org.fhirbox.cli;

import org.fhirbox.client.FhirboxClient;
import org.fhirbox.client.FhirboxException;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Resource;

/**
 * Saves a resource with an uploaded Attachment put in, with {@code If-Match}. The upload may
 * have taken long, and a resource changed meanwhile (412) is read again and the Attachment put
 * into that, a few times; when saving fails for good, the error names the Binary, which exists
 * by then and is in no resource.
 */
final class AttachmentSave {
  /** Saves tried before giving up: the first and three after a concurrent change. */
  static final int ATTEMPTS = 4;

  private AttachmentSave() {}

  static Resource save(FhirboxClient client, ResourceRef ref, AttachmentPath path, Resource read,
      Attachment attachment, int attempts) {
    String binary = FhirboxClient.binaryId(attachment.getUrl()).map(id -> "Binary/" + id)
        .orElse(attachment.getUrl());
    Resource current = read;
    try {
      for (int attempt = 1; ; attempt++) {
        path.attach(current, attachment.copy());
        try {
          return client.updateResource(current);
        } catch (FhirboxException e) {
          if (e.status() != 412 || attempt >= attempts) {
            throw e;
          }
          current = client.readResource(ref.javaType(client.fhirContext()), ref.id());
        }
      }
    } catch (FhirboxException e) {
      throw new NotAttached("uploaded " + binary + " but could not save it into " + ref.reference() + ": "
          + FailureHandler.message(e) + "; attach " + binary + " again, or delete it", e);
    }
  }

  /** The upload is stored, the resource not changed. */
  static final class NotAttached extends RuntimeException {
    NotAttached(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
