package org.fhirbox.db;

import java.util.Locale;

/**
 * Sizes the embedded H2's page cache to the heap.
 *
 * <p>MVStore caches deserialised B-tree pages; without {@code CACHE_SIZE} the cache holds 16 MB,
 * which the search indexes of a few tens of thousands of resources outgrow. Every miss then
 * reads the page back from the file and deserialises it again, so the CPU each request costs
 * grows with the data: a 10-minute soak at 32 connections fell from 724 to 146 operations/s
 * between 10,000 and 50,000 Patients with the server's CPU flat. A quarter of the heap keeps the
 * working set of such a database in memory and leaves the rest to requests.
 */
final class H2Cache {
  private H2Cache() {
  }

  /**
   * {@code url} with {@code ;CACHE_SIZE=} (in KiB) set to a quarter of {@code maxHeapBytes}, at
   * least 16 MiB, unless the URL sets it itself.
   */
  static String sizedToHeap(String url, long maxHeapBytes) {
    if (url.toUpperCase(Locale.ROOT).contains(";CACHE_SIZE=") || url.startsWith("jdbc:h2:mem:")) {
      return url;
    }
    long kib = Math.max(16 * 1024, maxHeapBytes / 4 / 1024);
    return url + ";CACHE_SIZE=" + Math.min(kib, Integer.MAX_VALUE);
  }
}
