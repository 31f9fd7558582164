package org.fhirbox.fhir;

import java.util.UUID;
import java.util.regex.Pattern;
import org.fhirbox.FhirException;

/** FHIR ids (R4 datatypes.html#id): 1-64 of [A-Za-z0-9\-.]. */
public final class ResourceIds {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
  private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,17}");

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

  /** A version id as we issue them: a positive decimal number. Anything else is not found. */
  public static long requireVersion(String vid) {
    if (vid == null || !VERSION.matcher(vid).matches()) {
      throw FhirException.notFound("version '" + abbreviate(vid) + "' does not exist");
    }
    return Long.parseLong(vid);
  }

  public static String newId() {
    return UUID.randomUUID().toString();
  }

  private static String abbreviate(String s) {
    return s == null ? "" : s.length() > 70 ? s.substring(0, 70) + "..." : s;
  }
}
