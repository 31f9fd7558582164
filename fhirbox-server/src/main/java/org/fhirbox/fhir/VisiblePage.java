package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.List;
import org.fhirbox.db.Page;
import org.fhirbox.model.PagePosition;
import org.fhirbox.model.StoredResource;

/**
 * A page of only the entries a caller may see, where the rows a query reads include some it may
 * not (Binaries whose {@code securityContext} it may not read, AuditEvents, versions outside its
 * patient's compartment), and where the next page starts: after the last entry the page lists.
 *
 * <p>A {@code next} link names its position in the clear ({@link PagePosition#token}), so the
 * position is never that of a row left out: its lastUpdated, type, id, version and sort values
 * would tell the caller of a resource it may not know of. Reading on past left-out rows until the
 * page is full makes the position an entry the caller was shown, and no page that lists nothing
 * has a {@code next} link; a next page starting after a listed entry reads the rows left out after
 * it again (and leaves them out again), lists each entry the caller may see once and in order,
 * and ends, since every page with a {@code next} link lists at least one entry. A position the
 * server encrypted or signed would hide the row too, but needs a key every node shares and rotates
 * together, and a short or empty page would still show where rows were left out.
 */
final class VisiblePage {
  /**
   * Rows one request reads at most, in reads of at most {@code maxRead}, before it ends a page that
   * lists at least one entry early (with a {@code next} link after its last entry).
   */
  static final int BUDGET_READS = 8;

  /** One read of the rows in the page's order: {@code count} of them from {@code offset}, or after {@code after}. */
  @FunctionalInterface
  interface Reader {
    Page read(int count, int offset, PagePosition after);
  }

  /** Whether the caller may see one row a read gave. */
  @FunctionalInterface
  interface Filter {
    boolean visible(StoredResource row);
  }

  private VisiblePage() {}

  /**
   * Up to {@code count} visible entries from {@code offset} or after {@code after} (as the request
   * asked), and whether a visible one follows. The first read takes one row more than the page, so
   * that a page of which nothing is left out costs one read, as an unfiltered one does; each
   * further read starts after the last row read and takes twice as many rows, up to {@code maxRead}.
   *
   * <p>Once {@link #BUDGET_READS} times {@code maxRead} rows are read, a page that lists an entry
   * ends there, its {@code next} link after that entry: the next page reads on from it, so nothing
   * is skipped, and may list nothing, without a {@code next} link. A page that lists nothing yet
   * reads on to its first visible row or the end: ended there, it could only say "more follows"
   * with a position, and the only position it has is a row left out, which would tell of it; a
   * warning without a {@code next} link would end the caller's walk early without it knowing.
   */
  static Page read(int count, int offset, PagePosition after, int maxRead, Reader reader, Filter filter) {
    if (count <= 0) {
      // _count=0 lists nothing and has no next link (PagedBundles): nothing to read
      return new Page(List.of(), false, List.of());
    }
    List<StoredResource> kept = new ArrayList<>();
    List<PagePosition> positions = new ArrayList<>();
    long budget = (long) BUDGET_READS * Math.max(maxRead, count + 1);
    long readRows = 0;
    int batch = count + 1;
    Page rows = reader.read(batch, offset, after);
    while (true) {
      List<StoredResource> items = rows.items();
      for (int i = 0; i < items.size() && kept.size() <= count; i++) {
        if (filter.visible(items.get(i))) {
          kept.add(items.get(i));
          positions.add(rows.positions().get(i));
        }
      }
      readRows += items.size();
      if (kept.size() > count || !rows.hasMore() || items.isEmpty()) {
        break;
      }
      if (readRows >= budget && !kept.isEmpty()) {
        return new Page(kept, true, positions);
      }
      batch = Math.max(1, Math.min(batch * 2, maxRead));
      rows = reader.read(batch, 0, rows.positions().get(items.size() - 1));
    }
    int shown = Math.min(count, kept.size());
    return new Page(kept.subList(0, shown), kept.size() > count, positions.subList(0, shown));
  }
}
