package org.fhirbox.cli;

import java.io.IOException;
import java.io.Reader;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.fhirbox.app.FhirboxServer;
import org.fhirbox.config.FhirboxConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code fhirbox serve}: runs the server until SIGTERM or SIGINT, then drains and exits 0. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {"Start the server.",
        "Default: H2 file database and blob files under ./data, port 8103.",
        "Every setting can also come from FHIRBOX_* environment variables or --config FILE."})
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--port", description = "HTTP port (FHIRBOX_PORT, default 8103; 0 picks a free one)")
  Integer port;

  @Option(names = "--data-dir",
      description = "data directory (FHIRBOX_DATA_DIR, default ./data); a new one is made readable by its owner only")
  Path dataDir;

  @Option(names = "--base-url", description = "public base URL (FHIRBOX_BASE_URL, default http://localhost:PORT/)")
  String baseUrl;

  @Option(names = "--config", description = "properties file with FHIRBOX_* keys")
  Path configFile;

  @Override
  public Integer call() throws Exception {
    if (configFile != null && !Files.exists(configFile)) {
      throw new UsageException("no such file: " + configFile); // the command line's mistake, as for upload FILE
    }
    // one that is there but cannot be read (a directory, permissions, not UTF-8, a malformed escape)
    // fails the start as a wrong setting does, naming the reason
    Map<String, String> overrides = new HashMap<>();
    if (port != null) {
      if (port < 0 || port > 65535) {
        // the flag's mistake, named as the flag rather than as the setting it stands for
        throw new UsageException("--port must be between 0 and 65535 (0 picks a free one), not " + port);
      }
      overrides.put("FHIRBOX_PORT", port.toString());
    }
    if (dataDir != null) {
      overrides.put("FHIRBOX_DATA_DIR", dataDir.toString());
    }
    if (baseUrl != null) {
      overrides.put("FHIRBOX_BASE_URL", baseUrl);
    }
    FhirboxConfig config = FhirboxConfig.load(System.getenv(), configFile, overrides);
    if (configFile != null) {
      warnIfOthersMayReadSecrets(configFile);
    }
    if (Files.exists(config.dataDir()) && !Files.isDirectory(config.dataDir())) {
      // the server's own failure would name the path alone (FileAlreadyExistsException)
      throw new IllegalArgumentException("FHIRBOX_DATA_DIR (--data-dir) " + config.dataDir() + " is no directory");
    }
    FhirboxServer server;
    try {
      createOwnerOnly(config.dataDir());
      server = new FhirboxServer(config);
    } catch (FileSystemException e) {
      // its own message names the path alone: "fhirbox: /srv/data/blobs" says neither what nor why
      throw new IllegalStateException("FHIRBOX_DATA_DIR (--data-dir) " + config.dataDir() + " cannot be used: "
          + why(e), e);
    }
    try {
      server.start();
    } catch (Exception e) {
      // the database is open by now: left so, the next start would find it not closed cleanly
      try {
        server.close();
      } catch (Exception closing) {
        e.addSuppressed(closing);
      }
      if (causedBy(e, BindException.class)) {
        // Jetty says "Failed to bind to /0.0.0.0:8103": which setting moves it is what the user needs
        throw new IllegalStateException("port " + config.port() + " is in use on " + config.get("FHIRBOX_BIND")
            + " by another process: stop it, or choose another with --port or FHIRBOX_PORT (0 picks a free one)", e);
      }
      throw e;
    }
    CountDownLatch stop = new CountDownLatch(1);
    Signal.handle(new Signal("TERM"), s -> stop.countDown());
    Signal.handle(new Signal("INT"), s -> stop.countDown());
    System.out.println("fhirbox ready at " + server.baseUrl() + " (FHIR base " + server.baseUrl() + "fhir/R4)");
    System.out.flush();
    stop.await();
    System.err.println("fhirbox: stopping, finishing in-flight requests");
    server.close();
    return 0;
  }

  /**
   * Warns, on stderr and without the values, when a config file that holds a secret (a password,
   * the bootstrap client's secret, signing or CloudFront keys) may be read by other accounts, as the
   * umask leaves a new file on most hosts. Not an error: the file may be guarded otherwise.
   */
  private static void warnIfOthersMayReadSecrets(Path file) {
    Set<PosixFilePermission> permissions;
    Properties settings = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      permissions = Files.getPosixFilePermissions(file);
      settings.load(in);
    } catch (UnsupportedOperationException | IOException | IllegalArgumentException e) {
      return; // no POSIX permissions here; a file that cannot be read failed the start already
    }
    boolean others = permissions.contains(PosixFilePermission.OTHERS_READ);
    if (!others && !permissions.contains(PosixFilePermission.GROUP_READ)) {
      return;
    }
    List<String> secrets = settings.stringPropertyNames().stream()
        .filter(k -> !settings.getProperty(k).isBlank() && isSecret(k.trim(), settings.getProperty(k)))
        .map(String::trim).sorted().toList();
    if (!secrets.isEmpty()) {
      System.err.println("fhirbox: warning: the config file " + file + " is readable by " + (others ? "others" : "its group")
          + " (" + PosixFilePermissions.toString(permissions) + ") and holds " + String.join(", ", secrets)
          + ": make it readable by its owner only (chmod 600)");
    }
  }

  private static boolean isSecret(String key, String value) {
    return key.endsWith("_SECRET") || key.endsWith("_PASSWORD") || key.equals("FHIRBOX_SIGNING_KEYS")
        || key.equals("FHIRBOX_CLOUDFRONT_PRIVATE_KEY")
        || key.equals("FHIRBOX_DATABASE_URL") && value.toLowerCase(Locale.ROOT).contains("password=");
  }

  /** What went wrong with which file, for this process's user to set right. */
  static String why(FileSystemException e) {
    String file = e.getFile() == null ? "a file in it" : e.getFile();
    if (e instanceof AccessDeniedException) {
      return "permission denied on " + file + " (to " + System.getProperty("user.name") + ", who runs the server)";
    }
    if (e instanceof FileAlreadyExistsException) {
      return file + " is a file where a directory belongs";
    }
    return file + ": " + (e.getReason() == null ? e.getClass().getSimpleName() : e.getReason());
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Creates the data directory, when it is not there yet, readable by its owner only: the database
   * and the blobs under it are health data, and the umask (022 on most hosts) would let every
   * account on the host list and read them. Its parents are created as the umask has it; an
   * existing directory keeps its permissions.
   */
  private static void createOwnerOnly(Path dir) throws IOException {
    if (Files.exists(dir)) {
      return;
    }
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    FileAttribute<?>[] ownerOnly = FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))}
        : new FileAttribute<?>[0];
    try {
      Files.createDirectory(dir, ownerOnly);
    } catch (FileAlreadyExistsException e) {
      // made meanwhile by another start: it keeps the permissions it was made with
    }
  }
}
