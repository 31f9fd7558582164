package org.fhirbox.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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
