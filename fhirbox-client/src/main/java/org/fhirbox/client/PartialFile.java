package org.fhirbox.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * A {@code FILE.part} left by an earlier run, with the validator ({@code ETag} or
 * {@code Last-Modified}) and total length of the response its bytes came from, as recorded in
 * the sidecar {@code FILE.part.validator}:
 *
 * <pre>
 * fhirbox-partial 1
 * validator "e3b0c442..."
 * length 1048576
 * </pre>
 *
 * A length of -1 means the total was not known.
 */
record PartialFile(long size, String validator, long total) {
  private static final String MAGIC = "fhirbox-partial 1";

  /** Bytes a file name may have (NAME_MAX of ext4, XFS, btrfs, tmpfs, APFS, NTFS in UTF-16 aside). */
  private static final int NAME_MAX = 255;
  /** What the part's name is kept to when {@code FILE.part.validator.tmp} would be longer than that. */
  private static final int SHORT_STEM = 200;

  /**
   * {@code FILE.part} beside {@code target}; for a name that the file system takes but whose
   * {@code .part.validator.tmp} would not fit in {@link #NAME_MAX} bytes, the name's first 200
   * bytes (whole characters), a {@code ~}, 16 hex digits of the name's SHA-256, and {@code .part}:
   * the same in every run, so an interrupted download of it resumes as any other.
   */
  static Path partOf(Path target) {
    String name = target.toAbsolutePath().getFileName().toString();
    if (utf8Length(name + ".part.validator.tmp") <= NAME_MAX) {
      return target.toAbsolutePath().resolveSibling(name + ".part");
    }
    String stem = name;
    while (utf8Length(stem) > SHORT_STEM) {
      stem = stem.substring(0, stem.offsetByCodePoints(stem.length(), -1));
    }
    byte[] digest;
    try {
      digest = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    String tag = HexFormat.of().formatHex(digest, 0, 8);
    return target.toAbsolutePath().resolveSibling(stem + "~" + tag + ".part");
  }

  private static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  static Path sidecarOf(Path part) {
    return part.resolveSibling(part.getFileName() + ".validator");
  }

  /** The part and its sidecar when both are there, readable and consistent; else empty (start over). */
  static Optional<PartialFile> read(Path part, Path sidecar) {
    try {
      if (!Files.isRegularFile(part, LinkOption.NOFOLLOW_LINKS)
          || !Files.isRegularFile(sidecar, LinkOption.NOFOLLOW_LINKS)) {
        return Optional.empty();
      }
      List<String> lines = Files.readAllLines(sidecar, StandardCharsets.UTF_8);
      if (lines.size() != 3 || !lines.get(0).equals(MAGIC)
          || !lines.get(1).startsWith("validator ") || !lines.get(2).startsWith("length ")) {
        return Optional.empty();
      }
      String validator = lines.get(1).substring("validator ".length()).strip();
      long total = Long.parseLong(lines.get(2).substring("length ".length()).strip());
      long size = Files.size(part);
      if (validator.isEmpty() || validator.startsWith("W/") || total < -1 || size == 0
          || (total >= 0 && size >= total)) {
        return Optional.empty();
      }
      return Optional.of(new PartialFile(size, validator, total));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Writes the sidecar atomically (a temporary sibling moved over it), so a reader never sees half of it. */
  static void write(Path sidecar, String validator, long total) throws IOException {
    Path tmp = sidecar.resolveSibling(sidecar.getFileName() + ".tmp");
    // a new file, never one through a link left in its place (the link itself is removed)
    Files.deleteIfExists(tmp);
    Files.writeString(tmp, MAGIC + "\nvalidator " + validator + "\nlength " + total + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    try {
      Files.move(tmp, sidecar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, sidecar, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Keeps the sidecar in step with the response being written into the part file. */
  static final class Checkpoint extends Downloader.Progress {
    private final Path sidecar;
    /** Whether the sidecar describes the part file, so a failed run should keep both. */
    boolean recorded;

    Checkpoint(Path sidecar) {
      this.sidecar = sidecar;
    }

    @Override
    void started(String validator, long total) throws IOException {
      recorded = false;
      Files.deleteIfExists(sidecar);
      if (validator != null && !validator.contains("\n") && !validator.contains("\r")) {
        write(sidecar, validator, total);
        recorded = true;
      }
    }
  }
}
