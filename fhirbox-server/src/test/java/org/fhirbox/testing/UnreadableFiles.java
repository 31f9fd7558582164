package org.fhirbox.testing;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** A file that exists but that this process cannot open for reading, for tests of "permission denied". */
public final class UnreadableFiles {
  private UnreadableFiles() {}

  /**
   * A file made in {@code dir} with its read permission removed where that binds (not as root), else
   * a write-only kernel attribute (sysfs refuses to open one for reading, even to root: a bus's
   * {@code drivers_probe}, a device's {@code rescan}). Fails when neither is at hand: the test
   * must not pass without its case.
   */
  public static Path make(Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("secret.jpg"), "x");
    if (file.toFile().setReadable(false, false) && !Files.isReadable(file)) {
      return file;
    }
    List<Path> candidates = new ArrayList<>();
    try (DirectoryStream<Path> buses = Files.newDirectoryStream(Path.of("/sys/bus"))) {
      buses.forEach(bus -> candidates.add(bus.resolve("drivers_probe")));
    } catch (IOException | SecurityException none) {
      // no sysfs buses: try the devices below
    }
    try (Stream<Path> found = Files.find(Path.of("/sys/devices"), 4,
        (p, a) -> a.isRegularFile() && p.getFileName().toString().equals("rescan"))) {
      found.forEach(candidates::add);
    } catch (IOException | SecurityException none) {
      // no sysfs devices
    }
    for (Path p : candidates) {
      if (Files.isRegularFile(p) && !opens(p)) {
        return p;
      }
    }
    throw new IllegalStateException("no file this process cannot read: not found under /sys, and chmod does not"
        + " bind (running as root)");
  }

  private static boolean opens(Path p) {
    try (var in = Files.newInputStream(p)) {
      return true;
    } catch (IOException denied) {
      return false;
    }
  }
}
