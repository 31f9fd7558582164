package org.fhirbox.fhir;

import org.fhirbox.model.StoredResource;
import org.hl7.fhir.r4.model.Resource;

/**
 * The outcome of a write: what was stored, the resource as stored, whether it was new, its
 * Attachments as the write found them, and its compact JSON with their Binary urls as slots (null
 * when the write could not encode it so; see {@link AttachmentSlots}).
 */
public record Written(StoredResource stored, Resource resource, boolean created, FoundAttachments attachments,
    AttachmentSlots json) {}
