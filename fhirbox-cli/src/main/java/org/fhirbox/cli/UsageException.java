package org.fhirbox.cli;

/** A request the command cannot carry out as asked: reported as one line, exit code 2. */
final class UsageException extends RuntimeException {
  UsageException(String message) {
    super(message);
  }
}
