package org.fhirbox.fhir;

import java.util.List;
import java.util.Map;
import org.fhirbox.model.BinaryContent;
import org.hl7.fhir.r4.model.Attachment;

/**
 * The Attachments of a written resource as the write path found them, so that the steps after it
 * (ingestion jobs, signing the response) need not walk the resource again.
 *
 * @param own the resource's own Attachments, contained resources included, in terser order
 * @param all {@code own} plus those inside Bundle entries and Parameters values
 * @param binaries each normalised {@code Binary/...} url to the content row the writing
 *     transaction read for it
 */
public record FoundAttachments(List<Attachment> own, List<Attachment> all, Map<String, BinaryContent> binaries) {
  public FoundAttachments {
    own = List.copyOf(own);
    all = List.copyOf(all);
    binaries = Map.copyOf(binaries);
  }
}
