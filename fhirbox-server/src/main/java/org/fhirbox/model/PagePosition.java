package org.fhirbox.model;

import java.util.Optional;

/**
 * Where a page of a search or of history ended: the last entry's lastUpdated, type, id and
 * version. The next page starts right after it in the page's order, so a write between two pages
 * neither repeats nor skips an entry that was there all along, as an offset would when entries
 * before it move (an update moves a resource to the front of {@code -_lastUpdated}, a delete
 * takes one away). In a link it is {@code millis~Type~id~version}: none of its parts holds a
 * {@code ~}.
 */
public record PagePosition(long lastUpdated, String type, String id, long versionId) {

  public static PagePosition of(StoredResource s) {
    return new PagePosition(s.lastUpdated().toEpochMilli(), s.type(), s.id(), s.versionId());
  }

  /** The form a link carries. */
  public String token() {
    return lastUpdated + "~" + type + "~" + id + "~" + versionId;
  }

  /** A position from {@link #token}; empty when {@code token} is not one. */
  public static Optional<PagePosition> parse(String token) {
    String[] parts = token.trim().split("~", -1);
    if (parts.length != 4 || parts[1].isEmpty() || parts[2].isEmpty() || parts[2].length() > 64) {
      return Optional.empty();
    }
    try {
      return Optional.of(new PagePosition(Long.parseLong(parts[0]), parts[1], parts[2], Long.parseLong(parts[3])));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
