package org.fhirbox.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * The web app's static files, read once from the classpath folder {@value #ROOT} (in the jar or
 * in {@code target/classes}) and kept in memory with their gzip form and a strong ETag (the
 * app is a few dozen KB). {@link #version()} is a hash over every file: the app's files are
 * served under {@code /app/v/<version>/}, so they can be cached for a year and a new build is
 * new URLs, while {@code index.html}, which names that version, is revalidated on each load.
 */
public final class AppAssets {
  static final String ROOT = "webapp";
  /** Where {@code index.html} names the folder of the current version. */
  static final String VERSION_MARK = "@VERSION@";
  private static final Map<String, String> TYPES = Map.of("html", "text/html;charset=utf-8",
      "js", "text/javascript;charset=utf-8", "css", "text/css;charset=utf-8", "svg", "image/svg+xml",
      "png", "image/png", "json", "application/json", "ico", "image/x-icon");

  /** One file: its bytes, their gzip form, a strong entity tag of each, and its type. */
  public record Asset(String contentType, byte[] plain, byte[] gzip, String etag) {
    String gzipEtag() {
      return etag.substring(0, etag.length() - 1) + "-gz\"";
    }
  }

  private final Map<String, Asset> files;
  private final Asset index;
  private final String version;

  private AppAssets(Map<String, Asset> files, Asset index, String version) {
    this.files = files;
    this.index = index;
    this.version = version;
  }

  /** Reads the app from the classpath of {@code loader}. */
  public static AppAssets load(ClassLoader loader) {
    URL marker = loader.getResource(ROOT + "/index.html");
    if (marker == null) {
      throw new IllegalStateException("the web app is missing from the classpath (" + ROOT + "/index.html)");
    }
    Map<String, byte[]> raw = new TreeMap<>();
    try {
      URI uri = marker.toURI();
      if (uri.getScheme().equals("jar")) {
        try (FileSystem jar = FileSystems.newFileSystem(uri, Map.of())) {
          read(jar.getPath("/" + ROOT), raw);
        }
      } else {
        read(Path.of(uri).getParent(), raw);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not read the web app", e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    MessageDigest all = sha256();
    raw.forEach((name, bytes) -> {
      all.update(name.getBytes(StandardCharsets.UTF_8));
      all.update((byte) 0);
      all.update(bytes);
    });
    String version = HexFormat.of().formatHex(all.digest()).substring(0, 16);
    Map<String, Asset> files = new TreeMap<>();
    // index.html is served only as the app's page, with its version filled in: the template
    // under a versioned path would never load and would be cached for a year
    raw.forEach((name, bytes) -> {
      if (!name.equals("index.html")) {
        files.put(name, asset(name, bytes));
      }
    });
    byte[] indexHtml = new String(raw.get("index.html"), StandardCharsets.UTF_8).replace(VERSION_MARK, version)
        .getBytes(StandardCharsets.UTF_8);
    return new AppAssets(Map.copyOf(files), asset("index.html", indexHtml), version);
  }

  private static void read(Path root, Map<String, byte[]> into) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
        into.put(root.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
      }
    }
  }

  private static Asset asset(String name, byte[] bytes) {
    String ext = name.substring(name.lastIndexOf('.') + 1);
    String type = TYPES.getOrDefault(ext, "application/octet-stream");
    return new Asset(type, bytes, gzip(bytes), "\"" + HexFormat.of().formatHex(sha256().digest(bytes)) + "\"");
  }

  private static byte[] gzip(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 3 + 64);
    try (GZIPOutputStream gz = new GZIPOutputStream(out) {
      {
        def.setLevel(Deflater.BEST_COMPRESSION);
      }
    }) {
      gz.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The hash over every file that names this build's asset folder. */
  public String version() {
    return version;
  }

  /** {@code index.html}, with {@link #version()} filled in. */
  public Asset index() {
    return index;
  }

  /** A file by its path under {@value #ROOT}, e.g. {@code js/main.js}. */
  public Optional<Asset> file(List<String> path) {
    return Optional.ofNullable(files.get(String.join("/", path)));
  }

  /** The file names, for tests. */
  public List<String> names() {
    return List.copyOf(files.keySet());
  }
}
