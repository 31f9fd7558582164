package org.fhirbox.cli;

import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** A file named on the command line to be read whole: a usage error says what it is when it is none. */
final class InputFile {
  private InputFile() {
  }

  /**
   * {@code file} when it is a regular file (or a link to one) that can be opened for reading;
   * otherwise a usage error that says whether it is missing, a directory, something else (a
   * device such as /dev/null, a pipe, a socket), or not readable, since "no such file" for a file
   * that is there sends the user looking elsewhere. Checked before any request is sent.
   */
  static Path regular(Path file) {
    if (Files.isRegularFile(file)) {
      requireReadable(file);
      return file;
    }
    if (Files.isDirectory(file)) {
      throw new UsageException(file + " is a directory, not a regular file");
    }
    if (Files.exists(file)) {
      throw new UsageException(file + " is not a regular file");
    }
    throw new UsageException("no such file: " + file);
  }

  private static void requireReadable(Path file) {
    try (SeekableByteChannel ignored = Files.newByteChannel(file)) {
      // opened: readable
    } catch (AccessDeniedException e) {
      throw new UsageException("cannot read " + file + ": permission denied");
    } catch (NoSuchFileException e) {
      throw new UsageException("no such file: " + file); // removed since it was looked at
    } catch (FileSystemException e) {
      throw new UsageException("cannot read " + file + ": " + (e.getReason() == null ? "unreadable" : e.getReason()));
    } catch (IOException e) {
      throw new UsageException("cannot read " + file + ": " + e.getMessage());
    }
  }
}
