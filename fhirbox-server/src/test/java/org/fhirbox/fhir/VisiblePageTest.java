package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.fhirbox.db.Page;
import org.fhirbox.model.PagePosition;
import org.fhirbox.model.StoredResource;
import org.junit.jupiter.api.Test;

/** Pages of the visible rows of one list, read as the database reads them: newest first, after a position. */
class VisiblePageTest {
  /** Rows r0 (newest) to r{n-1}; a hidden row's id starts with {@code h}. */
  private static List<StoredResource> rows(String... ids) {
    return IntStream.range(0, ids.length).mapToObj(i -> new StoredResource("p", "Observation", ids[i], 1,
        Instant.ofEpochMilli(1000 - i), false, "{}")).toList();
  }

  /** Pages of {@code count} from {@code all}, following each page's next position to the end. */
  private static List<Page> walk(List<StoredResource> all, int count, List<Integer> reads) {
    List<Page> pages = new ArrayList<>();
    PagePosition after = null;
    do {
      PagePosition from = after;
      Page page = VisiblePage.read(count, 0, from, 8, (n, offset, at) -> {
        reads.add(n);
        int start = at == null ? offset : indexAfter(all, at);
        List<StoredResource> got = all.subList(Math.min(start, all.size()), Math.min(start + n + 1, all.size()));
        boolean more = got.size() > n;
        return new Page(more ? got.subList(0, n) : got, more);
      }, s -> !s.id().startsWith("h"));
      pages.add(page);
      after = page.next();
      assertThat(pages).hasSizeLessThan(100);
    } while (after != null);
    return pages;
  }

  private static int indexAfter(List<StoredResource> all, PagePosition at) {
    for (int i = 0; i < all.size(); i++) {
      if (PagePosition.of(all.get(i)).equals(at)) {
        return i + 1;
      }
    }
    throw new AssertionError("no such row");
  }

  private static List<String> ids(List<Page> pages) {
    return pages.stream().flatMap(p -> p.items().stream()).map(StoredResource::id).toList();
  }

  @Test
  void everyVisibleRowOnceInOrderAndEveryPositionOneListed() {
    List<StoredResource> all = rows("h1", "a", "h2", "h3", "b", "c", "h4", "h5", "h6", "d", "h7");
    for (int count = 1; count <= 5; count++) {
      List<Page> pages = walk(all, count, new ArrayList<>());
      assertThat(ids(pages)).as("count " + count).containsExactly("a", "b", "c", "d");
      for (Page p : pages) {
        if (p.next() != null) {
          assertThat(p.next()).isEqualTo(PagePosition.of(p.items().get(p.items().size() - 1)));
          assertThat(p.items()).hasSize(count);
        }
      }
      // rows left out after the last visible one make no page of their own
      assertThat(pages.get(pages.size() - 1).items()).isNotEmpty();
    }
  }

  @Test
  void onlyHiddenRowsMakeOneEmptyPageWithoutANext() {
    List<Page> pages = walk(rows("h1", "h2", "h3", "h4", "h5"), 1, new ArrayList<>());
    assertThat(pages).hasSize(1);
    assertThat(pages.get(0).items()).isEmpty();
    assertThat(pages.get(0).hasMore()).isFalse();
  }

  @Test
  void readsOneRowMoreThanThePageThenDoubleUpToTheLargest() {
    List<StoredResource> all = new ArrayList<>(rows("a"));
    all.addAll(IntStream.range(0, 40).mapToObj(i -> new StoredResource("p", "Observation", "h" + i, 1,
        Instant.ofEpochMilli(500 - i), false, "{}")).toList());
    List<Integer> reads = new ArrayList<>();
    walk(all, 1, reads);
    assertThat(reads).startsWith(2, 4, 8, 8);
    List<Integer> plain = new ArrayList<>();
    walk(rows("a", "b", "c"), 3, plain);
    assertThat(plain).containsExactly(4);
  }

  @Test
  void aCountOfZeroReadsNothing() {
    Page page = VisiblePage.read(0, 0, null, 8, (n, offset, at) -> {
      throw new AssertionError("read");
    }, s -> true);
    assertThat(page.items()).isEmpty();
    assertThat(page.hasMore()).isFalse();
  }

  @Test
  void aPageThatSpentItsReadsEndsAtItsLastEntryAndTheNextReadsOnFromIt() {
    List<StoredResource> all = new ArrayList<>(rows("a"));
    all.addAll(IntStream.range(0, 200).mapToObj(i -> new StoredResource("p", "Observation", "h" + i, 1,
        Instant.ofEpochMilli(900 - i), false, "{}")).toList());
    all.add(new StoredResource("p", "Observation", "b", 1, Instant.ofEpochMilli(1), false, "{}"));
    List<Page> pages = walk(all, 2, new ArrayList<>());
    assertThat(ids(pages)).containsExactly("a", "b");
    assertThat(pages.get(0).items()).extracting(StoredResource::id).containsExactly("a");
    // its reads spent on rows left out, the first page ends at its one entry; the second reads on from it
    assertThat(pages.get(0).next()).isEqualTo(PagePosition.of(all.get(0)));
  }
}
