package org.fhirbox.db;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirbox.model.PagePosition;

/**
 * History at system (type and id null), type (id null) or instance level, newest first.
 * {@code since} is inclusive and may be null; {@code scope} null lists every type.
 */
public record HistoryQuery(String project, String type, String id, Instant since, int count, int offset,
    Scope scope, PagePosition after) {

  /** History from {@code offset} (no position to start after). */
  public HistoryQuery(String project, String type, String id, Instant since, int count, int offset, Scope scope) {
    this(project, type, id, since, count, offset, scope, null);
  }

  /** History of everything the other fields select. */
  public HistoryQuery(String project, String type, String id, Instant since, int count, int offset) {
    this(project, type, id, since, count, offset, null, null);
  }

  /** This history's page of {@code count} from {@code offset}, or from after {@code after} when it is not null. */
  public HistoryQuery page(int count, int offset, PagePosition after) {
    return new HistoryQuery(project, type, id, since, count, offset, scope, after);
  }

  /**
   * The versions a caller may see: every version of the types in {@code open}, and of each type in
   * {@code limited} the versions of the resources whose current version matches its clauses (a
   * compartment criterion on the search index) or is a deletion, which the index no longer holds
   * and the caller judges version by version. Versions of any other type are left out; with
   * {@code except} not null, every type in neither it nor {@code limited} is open instead.
   */
  public record Scope(Set<String> open, Map<String, List<SearchClause>> limited, Set<String> except) {
    public Scope {
      open = Set.copyOf(open);
      limited = Map.copyOf(limited);
      except = except == null ? null : Set.copyOf(except);
    }

    /** Every version of {@code open} and, in {@code limited}, those its clauses keep. */
    public Scope(Set<String> open, Map<String, List<SearchClause>> limited) {
      this(open, limited, null);
    }

    /**
     * Every version of every type but those in {@code except} and in {@code limited}, and of
     * {@code limited} those its clauses keep: a few types named instead of the many listed.
     */
    public static Scope allBut(Set<String> except, Map<String, List<SearchClause>> limited) {
      return new Scope(Set.of(), limited, except);
    }
  }
}
