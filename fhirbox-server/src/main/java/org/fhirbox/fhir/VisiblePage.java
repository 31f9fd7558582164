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
  /** One read of the rows in the page's order: {@code count} of them from {@code offset}, or after {@code after}. */
  @FunctionalInterface
  interface Reader {
    Page read(int count, int offset, PagePosition after);
  }

  /** The rows, of those one read gave, that the caller may see, in their order. */
  @FunctionalInterface
  interface Filter {
    List<StoredResource> visible(List<StoredResource> rows);
  }

  private VisiblePage() {}

  /**
   * Up to {@code count} visible entries from {@code offset} or after {@code after} (as the request
   * asked), and whether a visible one follows. The first read takes one row more than the page, so
   * that a page of which nothing is left out costs one read, as an unfiltered one does; each
   * further read starts after the last row read and takes twice as many rows, up to {@code maxRead}.
   */
  static Page read(int count, int offset, PagePosition after, int maxRead, Reader reader, Filter filter) {
    List<StoredResource> kept = new ArrayList<>();
    List<PagePosition> positions = new ArrayList<>();
    int batch = count + 1;
    Page rows = reader.read(batch, offset, after);
    while (true) {
      for (StoredResource s : filter.visible(rows.items())) {
        kept.add(s);
        positions.add(rows.positionOf(s));
      }
      if (kept.size() > count || !rows.hasMore() || rows.items().isEmpty()) {
        break;
      }
      batch = Math.max(1, Math.min(batch * 2, maxRead));
      rows = reader.read(batch, 0, rows.positions().get(rows.items().size() - 1));
    }
    int shown = Math.min(count, kept.size());
    return new Page(kept.subList(0, shown), kept.size() > count, positions.subList(0, shown));
  }
}
