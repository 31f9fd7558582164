package org.fhirbox.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** A file named on the command line to be read whole: a usage error says what it is when it is none. */
final class InputFile {
  private InputFile() {
  }

  /**
   * {@code file} when it is a regular file (or a link to one); otherwise a usage error that says
   * whether it is missing, a directory, or something else (a device such as /dev/null, a pipe,
   * a socket), since "no such file" for a file that is there sends the user looking elsewhere.
   */
  static Path regular(Path file) {
    if (Files.isRegularFile(file)) {
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
}
