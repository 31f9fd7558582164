package org.fhirbox.db;

import java.util.List;

/**
 * A type-level search, already validated. Clauses are AND-ed; a clause's values are OR-ed.
 * {@code descending} orders by last update, newest first.
 */
public record SearchQuery(String project, String type, List<SearchClause> clauses, boolean descending,
    int count, int offset) {}
