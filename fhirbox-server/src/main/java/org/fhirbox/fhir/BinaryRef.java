package org.fhirbox.fhir;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A reference to a Binary as stored in an Attachment: {@code Binary/{id}} or, pinned to one
 * version, {@code Binary/{id}/_history/{vid}} ({@code versionId} null when unpinned).
 */
public record BinaryRef(String id, Long versionId) {
  private static final Pattern RELATIVE =
      Pattern.compile("Binary/([A-Za-z0-9\\-.]{1,64})(?:/_history/([1-9][0-9]{0,17}))?");

  /** Parses exactly {@code Binary/{id}} or {@code Binary/{id}/_history/{vid}}. */
  public static Optional<BinaryRef> tryParseRelative(String s) {
    if (s == null) {
      return Optional.empty();
    }
    Matcher m = RELATIVE.matcher(s);
    if (!m.matches()) {
      return Optional.empty();
    }
    return Optional.of(new BinaryRef(m.group(1), m.group(2) == null ? null : Long.parseLong(m.group(2))));
  }

  /** The stored form. */
  public String reference() {
    return versionId == null ? "Binary/" + id : "Binary/" + id + "/_history/" + versionId;
  }
}
