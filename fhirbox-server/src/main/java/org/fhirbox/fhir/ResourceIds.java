package org.fhirbox.fhir;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.regex.Pattern;
import org.fhirbox.core.FhirException;

/** FHIR ids (R4 datatypes.html#id): 1-64 of [A-Za-z0-9\-.]. */
public final class ResourceIds {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
  private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,17}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private ResourceIds() {}

  public static boolean isValid(String id) {
    return id != null && ID.matcher(id).matches();
  }

  public static String requireValid(String id) {
    if (!isValid(id)) {
      throw FhirException.badRequest("'" + abbreviate(id) + "' is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)");
    }
    return id;
  }

  /**
   * 400 for an id of dots alone ({@code .}, {@code ..}, which R4's id pattern allows): in a URL it
   * is a dot segment, which clients and the server remove (RFC 3986 §5.2.4), so a resource created
   * with it could never be read, updated or deleted. Checked where a client's id creates a resource.
   */
  public static void requireAddressable(String id) {
    if (id.equals(".") || id.equals("..")) {
      throw FhirException.badRequest("'" + id + "' is not a valid FHIR id here: in a URL it is a dot segment"
          + " (RFC 3986 §5.2.4), so the resource could never be read; choose another id");
    }
  }

  /** A version id as we issue them: a positive decimal number. Anything else is not found. */
  public static long requireVersion(String vid) {
    if (vid == null || !VERSION.matcher(vid).matches()) {
      throw FhirException.notFound("version '" + abbreviate(vid) + "' does not exist");
    }
    return Long.parseLong(vid);
  }

  /**
   * The version an If-Match value names ({@code W/"3"}, {@code "3"} or {@code 3}), or
   * {@link ResourceRepository#IF_MATCH_ANY} for {@code *} (any current version), or null when it
   * names none we could have issued. Versions start at 1, so {@code W/"0"} and {@code W/"-1"} are
   * malformed rather than a wildcard: only {@code *} means "any version" (RFC 9110 §13.1.1).
   */
  public static Long ifMatch(String etag) {
    String v = etag.trim();
    if (v.equals("*")) {
      return ResourceRepository.IF_MATCH_ANY;
    }
    if (v.startsWith("W/")) {
      v = v.substring(2);
    }
    v = v.replace("\"", "").trim();
    return VERSION.matcher(v).matches() ? Long.parseLong(v) : null;
  }

  /**
   * A new server-assigned id: a UUID version 7 (RFC 9562 §5.7), 48 bits of Unix milliseconds then
   * 74 random bits. Ids issued later sort later, so a create appends at the right edge of every
   * index keyed by id instead of dirtying a random page of each (on H2 that had made the file grow
   * by ~9 KiB per create). The random part keeps ids unguessable; the time part says no more than
   * {@code meta.lastUpdated} already does.
   */
  public static String newId() {
    return newId(System.currentTimeMillis());
  }

  static String newId(long unixMillis) {
    byte[] r = new byte[10];
    RANDOM.nextBytes(r);
    long msb = (unixMillis & 0xFFFF_FFFF_FFFFL) << 16 | 0x7000L | (r[0] & 0x0FL) << 8 | (r[1] & 0xFFL);
    long lsb = 0;
    for (int i = 2; i < 10; i++) {
      lsb = lsb << 8 | (r[i] & 0xFFL);
    }
    lsb = (lsb & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L; // RFC 9562 variant 10
    return new UUID(msb, lsb).toString();
  }

  private static String abbreviate(String s) {
    return s == null ? "" : s.length() > 70 ? s.substring(0, 70) + "..." : s;
  }
}
