package org.fhirbox.db;

import java.time.Instant;

/**
 * History at system (type and id null), type (id null) or instance level, newest first.
 * {@code since} is inclusive and may be null.
 */
public record HistoryQuery(String project, String type, String id, Instant since, int count, int offset) {}
