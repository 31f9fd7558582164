package org.fhirbox.model;

import java.time.Instant;

/** One stored version of a resource. {@code json} is null when the version is a delete. */
public record StoredResource(
    String project, String type, String id, long versionId, Instant lastUpdated, boolean deleted, String json) {}
