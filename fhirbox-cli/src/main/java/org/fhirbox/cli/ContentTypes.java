package org.fhirbox.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/** Guesses a content type from a file name: the platform's guess first, then common health-data types. */
final class ContentTypes {
  static final String FALLBACK = "application/octet-stream";

  private static final Map<String, String> BY_EXTENSION = Map.ofEntries(
      Map.entry("jpg", "image/jpeg"), Map.entry("jpeg", "image/jpeg"), Map.entry("png", "image/png"),
      Map.entry("gif", "image/gif"), Map.entry("webp", "image/webp"), Map.entry("tif", "image/tiff"),
      Map.entry("tiff", "image/tiff"), Map.entry("heic", "image/heic"), Map.entry("pdf", "application/pdf"),
      Map.entry("dcm", "application/dicom"), Map.entry("txt", "text/plain"), Map.entry("csv", "text/csv"),
      Map.entry("json", "application/json"), Map.entry("xml", "application/xml"), Map.entry("zip", "application/zip"),
      Map.entry("mp4", "video/mp4"), Map.entry("mov", "video/quicktime"), Map.entry("webm", "video/webm"),
      Map.entry("mp3", "audio/mpeg"), Map.entry("wav", "audio/wav"), Map.entry("m4a", "audio/mp4"),
      Map.entry("ogg", "audio/ogg"));

  private ContentTypes() {
  }

  static String guess(Path file) {
    try {
      String probed = Files.probeContentType(file);
      if (probed != null && !probed.isBlank()) {
        return probed;
      }
    } catch (IOException e) {
      // no platform detector: the extension map decides
    }
    String name = file.getFileName() == null ? "" : file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    return BY_EXTENSION.getOrDefault(ext, FALLBACK);
  }
}
