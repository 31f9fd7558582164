package org.fhirbox.db;

/**
 * One indexed token or reference value of one resource, as stored: {@code system} is null when the
 * value has none (a literal reference), and for a canonical reference holds the version it names.
 */
public record IndexedValue(String id, String system, String code) {}
