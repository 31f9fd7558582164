package org.fhirbox.client;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.util.List;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Resource;

/**
 * Whether a resource as the server now holds it is what a write sent. A conditional {@code PUT}
 * whose answer was lost is sent again with the same {@code If-Match}; when the first attempt was
 * stored, the repeat gets 412 from the version that attempt made. The client then reads the
 * resource and takes the write as done when it holds what was sent, ignoring what the server sets
 * on every write: {@code meta}, an Attachment's {@code url} form (stored as {@code Binary/{id}},
 * read back as a signed URL) and the {@code size}, {@code hash} and {@code contentType} it fills
 * from the Binary when absent.
 */
final class StoredWrite {
  private StoredWrite() {
  }

  static boolean holds(FhirContext fhir, Resource stored, Resource sent) {
    Resource have = comparable(stored);
    Resource wanted = comparable(sent);
    FhirTerser terser = fhir.newTerser();
    List<Attachment> haveAttachments = terser.getAllPopulatedChildElementsOfType(have, Attachment.class);
    List<Attachment> wantedAttachments = terser.getAllPopulatedChildElementsOfType(wanted, Attachment.class);
    if (haveAttachments.size() != wantedAttachments.size()) {
      return false;
    }
    for (int i = 0; i < haveAttachments.size(); i++) {
      Attachment h = haveAttachments.get(i);
      Attachment w = wantedAttachments.get(i);
      h.setUrl(binaryOrUrl(h.getUrl()));
      w.setUrl(binaryOrUrl(w.getUrl()));
      if (!w.hasSize()) {
        h.setSizeElement(null);
      }
      if (!w.hasHash()) {
        h.setHashElement(null);
      }
      if (!w.hasContentType()) {
        h.setContentTypeElement(null);
      }
    }
    return have.equalsDeep(wanted);
  }

  private static Resource comparable(Resource r) {
    Resource copy = r.copy();
    copy.setMeta(null);
    copy.setId(r.getIdElement().getIdPart());
    return copy;
  }

  private static String binaryOrUrl(String url) {
    return url == null ? null : Downloader.binaryId(url).map(id -> "Binary/" + id).orElse(url);
  }
}
