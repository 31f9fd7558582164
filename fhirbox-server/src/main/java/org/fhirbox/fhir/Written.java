package org.fhirbox.fhir;

import org.fhirbox.db.StoredResource;
import org.hl7.fhir.r4.model.Resource;

/** The outcome of a write: what was stored, the resource as stored, and whether it was new. */
public record Written(StoredResource stored, Resource resource, boolean created) {}
