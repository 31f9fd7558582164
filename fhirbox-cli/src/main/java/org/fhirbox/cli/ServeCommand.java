package org.fhirbox.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code fhirbox serve}: runs the server until SIGTERM. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Start the server (embedded default: H2 file and blob files under ./data).")
final class ServeCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    return 0;
  }
}
