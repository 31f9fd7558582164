package org.fhirbox.binary;

import java.util.Locale;
import java.util.Set;
import org.fhirbox.core.FhirException;

/**
 * What content may be stored: a size limit and deny lists of executable media types and file
 * name extensions (checked on the declared Content-Type and on {@code _filename}).
 */
public record BinaryPolicy(long maxBytes, Set<String> deniedTypes, Set<String> deniedExtensions) {

  public void check(String contentType, String filename) {
    String base = baseType(contentType);
    if (deniedTypes.contains(base)) {
      throw FhirException.badRequest("content type '" + base + "' is not accepted (executable content)");
    }
    if (filename != null) {
      int dot = filename.lastIndexOf('.');
      String ext = dot >= 0 ? filename.substring(dot + 1).toLowerCase(Locale.ROOT).trim() : "";
      if (!ext.isEmpty() && deniedExtensions.contains(ext)) {
        throw FhirException.badRequest("files with extension '." + ext + "' are not accepted (executable content)");
      }
    }
  }

  /** {@code Image/JPEG; charset=x} → {@code image/jpeg}. */
  public static String baseType(String contentType) {
    if (contentType == null) {
      return "application/octet-stream";
    }
    int semi = contentType.indexOf(';');
    String b = (semi >= 0 ? contentType.substring(0, semi) : contentType).trim().toLowerCase(Locale.ROOT);
    return b.isEmpty() ? "application/octet-stream" : b;
  }
}
