package org.fhirbox.client;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The URLs of unfinished resumable uploads, one file per upload in a directory, named by the
 * upload's fingerprint (a SHA-256 over what makes two uploads the same: server, client, file with its
 * inode and change time where the file system has them, size, modification time and what the
 * Binary will be). A file that changed gets another fingerprint, even when a copying tool set its
 * modification time back, so it is never continued with the bytes of its earlier self. A directory that cannot be written
 * only costs the ability to resume in another run; it never fails an upload.
 */
final class UploadStates {
  private static final String SUFFIX = ".tus";
  private final Path directory;

  UploadStates(Path directory) {
    this.directory = directory;
  }

  static String fingerprint(String... parts) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (String p : parts) {
        sha.update((p == null ? "\u0000" : p).getBytes(StandardCharsets.UTF_8));
        sha.update((byte) '\n');
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  Optional<URI> find(String fingerprint) {
    if (directory == null) {
      return Optional.empty();
    }
    try {
      String url = Files.readString(file(fingerprint), StandardCharsets.UTF_8).strip();
      return url.isEmpty() ? Optional.empty() : Optional.of(URI.create(url));
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * Written to a temporary file and renamed, so that a crash leaves the old URL or the new one.
   * A write or rename that fails removes the temporary file: nothing else would, since only
   * state files are ever read or removed.
   */
  void keep(String fingerprint, URI upload) {
    if (directory == null) {
      return;
    }
    Path tmp = null;
    try {
      Files.createDirectories(directory);
      tmp = Files.createTempFile(directory, fingerprint, ".tmp");
      Files.writeString(tmp, upload + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, file(fingerprint), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // resuming in another run is then not possible; this run still resumes by itself
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // a directory that refuses this too refuses every state file; nothing more to do
        }
      }
    }
  }

  void forget(String fingerprint) {
    if (directory == null) {
      return;
    }
    try {
      Files.deleteIfExists(file(fingerprint));
    } catch (IOException e) {
      // a stale entry is harmless: the server answers 404 for it and a new upload starts
    }
  }

  private Path file(String fingerprint) {
    return directory.resolve(fingerprint + SUFFIX);
  }
}
