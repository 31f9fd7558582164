package org.fhirbox.client;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;

/**
 * Why a local file could not be read or written, in words: the JDK's file exceptions carry the
 * path as their message and the reason apart ("Permission denied"), so a message built from
 * {@code getMessage()} would name the path twice and never say why.
 */
final class LocalFiles {
  private LocalFiles() {
  }

  /** Why reading failed: "no such file", "permission denied", "is a directory", or the system's reason. */
  static String readReason(IOException e) {
    return reason(e, "no such file");
  }

  /** Why creating or writing a file failed: a missing file there is a missing directory above it. */
  static String writeReason(IOException e) {
    return reason(e, "no such directory");
  }

  private static String reason(IOException e, String missing) {
    if (e instanceof NoSuchFileException) {
      return missing;
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileSystemException f && f.getReason() != null && !f.getReason().isBlank()) {
      String r = f.getReason();
      return r.substring(0, 1).toLowerCase(Locale.ROOT) + r.substring(1);
    }
    String m = e.getMessage();
    if ("Is a directory".equals(m)) {
      return "is a directory"; // a read of a directory opened as a file: no FileSystemException
    }
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }

  /**
   * Fails unless {@code file} can be opened for reading: checked before an upload sends anything,
   * so that a file that cannot be read leaves no request, no resumable upload and no state behind.
   */
  static void requireReadable(Path file) {
    if (Files.isDirectory(file)) {
      throw FhirboxException.client("cannot read " + file + ": is a directory", null);
    }
    if (!Files.exists(file)) {
      throw FhirboxException.client("cannot read " + file + ": no such file", null);
    }
    if (!Files.isRegularFile(file)) {
      return; // a pipe would block an open until a writer came: it is read as the upload goes
    }
    try (FileChannel ignored = FileChannel.open(file, StandardOpenOption.READ)) {
      // opened: readable
    } catch (IOException e) {
      throw FhirboxException.client("cannot read " + file + ": " + readReason(e), e);
    }
  }

  /**
   * What changes when a file's content does: size, modification time, and where the file system
   * has them its inode and change time (which no copying tool sets back, unlike the modification time).
   */
  record Stamp(long size, String modified, String key, String changed) {
    static Stamp of(Path file) throws IOException {
      BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
      String changed = file.getFileSystem().supportedFileAttributeViews().contains("unix")
          ? String.valueOf(Files.getAttribute(file, "unix:ctime")) : "";
      return new Stamp(attrs.size(), attrs.lastModifiedTime().toString(), String.valueOf(attrs.fileKey()), changed);
    }
  }

  /** {@code file}'s {@link Stamp}, or null when it cannot be looked at (removed since, as an open file may be). */
  static Stamp stamp(Path file) {
    try {
      return Stamp.of(file);
    } catch (IOException | UnsupportedOperationException e) {
      return null;
    }
  }
}
