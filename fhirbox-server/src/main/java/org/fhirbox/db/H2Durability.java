package org.fhirbox.db;

import java.util.Locale;

/**
 * Makes an embedded H2 database write every commit to its file before the commit returns.
 *
 * <p>By default H2's MVStore keeps committed changes in memory and writes them from a background
 * thread every {@code WRITE_DELAY} (500 ms): a killed process loses what was committed, and
 * acknowledged, in that window. With {@code WRITE_DELAY=0} the store's auto-commit delay is 0
 * and the end of every transaction that changed something stores a new chunk (a write to the
 * file, so into the operating system's page cache) before {@code Connection.commit()} returns.
 * Concurrent commits share that write: one waits for the store lock, finds its changes already
 * stored by the other, and returns. There is no fsync per commit, so the guarantee is against a
 * process crash, not a power loss (see README, Durability and failures).
 */
final class H2Durability {
  private H2Durability() {
  }

  /**
   * {@code url} with {@code ;WRITE_DELAY=0} added, unless it sets {@code WRITE_DELAY} itself (an
   * operator who chooses a delay accepts losing that window of commits to a crash).
   */
  static String withCommitsWritten(String url) {
    if (url.toUpperCase(Locale.ROOT).contains(";WRITE_DELAY=") || url.startsWith("jdbc:h2:mem:")) {
      return url;
    }
    return url + ";WRITE_DELAY=0";
  }
}
