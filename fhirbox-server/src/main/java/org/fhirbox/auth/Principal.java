package org.fhirbox.auth;

/** Who is calling: the client, the project (tenant) it acts in, and what it may do. */
public record Principal(String clientId, String project, AccessPolicy access) {}
