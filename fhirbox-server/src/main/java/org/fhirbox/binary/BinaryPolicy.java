package org.fhirbox.binary;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.core.FhirException;

/**
 * What content may be stored: a size limit and deny lists of media types and file name
 * extensions, by default those of executable content, to which an operator may add others
 * (checked on the declared Content-Type, on {@code _filename} and on the name a
 * {@code $presigned-url} download is offered under). A file name is judged as the downloader's
 * file system will save it ({@link #savedNames}), not as written. A refusal calls the entry
 * executable content only when it is one of {@link FhirboxConfig#EXECUTABLE_TYPES} or
 * {@link FhirboxConfig#EXECUTABLE_EXTENSIONS}.
 */
public record BinaryPolicy(long maxBytes, Set<String> deniedTypes, Set<String> deniedExtensions) {

  public BinaryPolicy {
    deniedTypes = Set.copyOf(deniedTypes);
    // "EXE" and ".exe" in the configuration mean the same as "exe".
    deniedExtensions = deniedExtensions.stream()
        .map(e -> e.trim().toLowerCase(Locale.ROOT))
        .map(e -> e.startsWith(".") ? e.substring(1) : e)
        .filter(e -> !e.isEmpty())
        .collect(Collectors.toUnmodifiableSet());
  }

  public void check(String contentType, String filename) {
    String base = baseType(contentType);
    if (deniedTypes.contains(base)) {
      throw FhirException.badRequest("content type '" + base + "' is not accepted: it is on this server's deny list"
          + (FhirboxConfig.EXECUTABLE_TYPES.contains(base) ? " (executable content)" : ""));
    }
    checkFilename(filename);
  }

  /** 400 when {@code filename}, saved by a downloader, would end in a denied extension; null passes. */
  public void checkFilename(String filename) {
    if (filename == null) {
      return;
    }
    for (String name : savedNames(filename)) {
      int dot = name.lastIndexOf('.');
      String ext = dot >= 0 ? name.substring(dot + 1) : "";
      if (!ext.isEmpty() && deniedExtensions.contains(ext)) {
        throw FhirException.badRequest("files with extension '." + ext + "' are not accepted: it is on this server's"
            + " deny list" + (FhirboxConfig.EXECUTABLE_EXTENSIONS.contains(ext) ? " (executable content)" : "")
            + (name.equals(filename) ? "" : "; '" + abbreviate(withoutControlOrFormat(filename)) + "' is saved as '"
                + abbreviate(name) + "'"));
      }
    }
  }

  /**
   * The names, in lower case, under which a download offered as {@code filename} can end up on
   * disk. Content-Disposition keeps the last path segment and drops control and format
   * characters (as {@code ContentDisposition} does); Windows then removes trailing dots and
   * spaces ({@code a.exe.} and {@code a.exe } are {@code a.exe}), NTFS reads {@code a.exe::$DATA}
   * or {@code a.exe:x} as a stream of {@code a.exe}, and a client that keeps C strings stops at
   * a NUL ({@code a.exe%00.txt} in {@code filename*}). Any of these with a denied extension is refused.
   */
  static Set<String> savedNames(String filename) {
    String last = filename.substring(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1);
    Set<String> names = new LinkedHashSet<>();
    String cleaned = withoutControlOrFormat(last);
    names.add(windowsName(cleaned));
    int colon = cleaned.indexOf(':');
    if (colon >= 0) {
      names.add(windowsName(cleaned.substring(0, colon)));
    }
    for (int i = 0; i < last.length(); i++) {
      if (Character.isISOControl(last.charAt(i))) {
        names.add(windowsName(withoutControlOrFormat(last.substring(0, i))));
        break;
      }
    }
    return names;
  }

  private static String withoutControlOrFormat(String s) {
    StringBuilder out = new StringBuilder(s.length());
    s.codePoints()
        .filter(c -> !Character.isISOControl(c) && Character.getType(c) != Character.FORMAT)
        .forEach(out::appendCodePoint);
    return out.toString();
  }

  /** Trailing dots and white space removed (Win32 path normalisation), lower case: NTFS ignores case. */
  private static String windowsName(String s) {
    int end = s.length();
    while (end > 0 && (s.charAt(end - 1) == '.' || Character.isWhitespace(s.charAt(end - 1))
        || Character.isSpaceChar(s.charAt(end - 1)))) {
      end--;
    }
    return s.substring(0, end).strip().toLowerCase(Locale.ROOT);
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
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
