package org.fhirbox.cli;

import java.io.File;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.fhirbox.client.FhirboxClient;
import org.fhirbox.client.FhirboxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code fhirbox download REF|URL}: the content of a Binary into a file or stdout.
 *
 * <p>Into a file, the SDK writes {@code FILE.part} and moves it into place only when complete, so
 * FILE is never left half-written; a connection that breaks mid-transfer is resumed within the
 * run with a Range request guarded by If-Range. A run that fails or is killed leaves
 * {@code FILE.part} and {@code FILE.part.validator} (the response's ETag or Last-Modified and the
 * total length), and the next run to the same FILE resumes from there, or starts over if the
 * content changed.
 *
 * <p>A file name the command picks (the server's Content-Disposition name, else the Binary id)
 * never replaces an existing file and never starts with a dot: anyone who may create a Binary
 * chooses its name, and must not be able to replace, say, {@code ~/.bashrc} of whoever downloads
 * it into their home directory, also when the file appears during the download; an existing
 * {@code NAME.part} is resumed only when its sidecar shows it is an unfinished download, and is
 * otherwise left as it is (the download fails). A {@code -o FILE}
 * the user typed replaces FILE, as {@code cp} does. {@code FILE.part} is locked while written
 * and never followed if it is a symbolic link.
 */
@Command(name = "download", mixinStandardHelpOptions = true,
    description = {"Download a Binary's content (Binary/ID, a FHIR URL, or a signed URL; a signed URL, or one "
        + "outside the server's FHIR base, needs no credentials and is sent none).",
        "Prints the file written. The file appears only when complete: it is written as FILE.part "
            + "first, then moved into place. A broken connection resumes with a Range request.",
        "An interrupted download (failed or killed) leaves FILE.part and FILE.part.validator (the "
            + "content's ETag, else Last-Modified, and its length); running download again to the same "
            + "FILE resumes where it stopped (Range + If-Range, even with a new signed URL), and starts "
            + "over if the content changed.",
        "A name the command picks (the server's file name, else the id) never replaces an existing file, "
            + "also one created during the download (the download fails instead), and has its leading dots, "
            + "control and invisible format characters removed, cut to 200 bytes; -o FILE replaces FILE.",
        "FILE.part is locked while written: a second download to the same FILE fails at once. For a FILE "
            + "name over 236 bytes, FILE.part is its first 200 bytes, ~, a hash of the name, and .part."})
final class DownloadCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ClientOptions options;

  @Parameters(index = "0", paramLabel = "REF|URL", description = "Binary/ID, Binary/ID/_history/V, or a URL")
  String source;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE",
      description = "where to write: a file (replaced if it exists), a directory, - for stdout, or a device or"
          + " pipe such as /dev/null (written into, never replaced); one ending in / must be a directory"
          + " (default: the server's file name for the content, else the Binary id; never replacing a file)")
  String output;

  @Override
  public Integer call() throws Exception {
    if (output != null && output.isBlank()) {
      // often an unset shell variable: Path.of("") is the working directory, where a name would be picked
      throw new UsageException("-o is empty: give a file, a directory or - for stdout, or leave it out"
          + " to save under the server's file name here");
    }
    if (output != null && (output.endsWith("/") || output.endsWith(File.separator))
        && !Files.isDirectory(Path.of(output))) {
      // Path.of drops the trailing separator: the directory meant would become a file of that name
      throw new UsageException("no such directory: " + output);
    }
    URI uri;
    try {
      uri = URI.create(source.trim());
    } catch (IllegalArgumentException e) {
      String why = e.getCause() instanceof URISyntaxException bad ? bad.getReason() : e.getMessage();
      throw new UsageException("'" + withoutQuery(source) + "' is no reference or URL: " + why);
    }
    if (uri.isAbsolute() && !uri.getScheme().equalsIgnoreCase("http") && !uri.getScheme().equalsIgnoreCase("https")) {
      throw new UsageException("'" + withoutQuery(source) + "' is no reference or http(s) URL");
    }
    if (!uri.isAbsolute() && uri.getRawAuthority() == null && FhirboxClient.binaryId(source).isEmpty()) {
      throw new UsageException("not a Binary reference or URL: '" + withoutQuery(source) + "'");
    }
    // the SDK sends credentials only under the FHIR base: any other URL needs none configured
    // (a relative reference is under it: no second client is made for it)
    FhirboxClient anonymous = uri.isAbsolute() || signed(source) ? options.anonymousClient() : null;
    boolean foreign = uri.isAbsolute() && !uri.toString().startsWith(anonymous.fhirBase());
    if (uri.isAbsolute() && !foreign && FhirboxClient.binaryId(source).isEmpty()) {
      // under the FHIR base only a Binary is content: a Patient's URL would save its JSON
      throw new UsageException("not a Binary reference or URL: '" + withoutQuery(source) + "'");
    }
    FhirboxClient client = signed(source) || foreign ? anonymous : options.client();
    ProgressBar bar = ProgressBar.on(spec.commandLine().getErr(), options.main().terminal, "download");
    try {
      if ("-".equals(output)) {
        OutputStream out = options.main().stdout;
        client.download(source, out, bar);
        out.flush();
        return 0;
      }
      Path target = output == null ? null : Path.of(output);
      boolean picked = target == null || Files.isDirectory(target);
      if (picked) {
        String name = defaultName(client);
        target = target == null ? Path.of(name) : target.resolve(name);
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          throw new FileAlreadyExistsException(target.toString(), null, "already exists, and a name the download"
              + " picks never replaces a file (pass -o FILE to replace it)");
        }
      }
      if (picked) {
        client.downloadNew(source, target, bar); // fails if the name is taken meanwhile too
      } else {
        client.download(source, target, bar);
      }
      bar.finish();
      new JsonOutput(client.fhirContext(), spec.commandLine().getOut()).text(target.toString());
      return 0;
    } finally {
      bar.finish();
    }
  }

  /**
   * An absolute URL with a {@code Signature} (fhirbox's {@code /storage} URLs) or
   * {@code X-Amz-Signature} query parameter: it is its own authorization, so it is fetched
   * without credentials and needs none configured.
   */
  static boolean signed(String source) {
    URI uri;
    try {
      uri = URI.create(source.trim());
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (!uri.isAbsolute() || uri.getRawQuery() == null) {
      return false;
    }
    return Arrays.stream(uri.getRawQuery().split("&"))
        .anyMatch(p -> p.startsWith("Signature=") || p.startsWith("X-Amz-Signature="));
  }

  /** {@code text} without a query, which may hold a signature, for messages. */
  static String withoutQuery(String text) {
    return text.replaceFirst("[?#].*", "?…");
  }

  /** The name in the server's Content-Disposition, else the Binary id; never a path. */
  private String defaultName(FhirboxClient client) {
    Optional<String> fromServer;
    try {
      fromServer = client.contentFilename(source).map(DownloadCommand::safeName);
    } catch (FhirboxException e) {
      fromServer = Optional.empty(); // the download itself reports what is wrong
    }
    return fromServer.filter(n -> !n.isEmpty())
        .or(() -> FhirboxClient.binaryId(source).map(DownloadCommand::safeName).filter(n -> !n.isEmpty()))
        .orElse("download");
  }

  /**
   * The last path segment without control characters, without invisible format characters (a
   * right-to-left override shows {@code scan\u202Efdp.exe} as "scanexe.pdf"), without leading dots,
   * so that a server cannot name a hidden file such as {@code .bashrc} (nor {@code .} or {@code ..}),
   * and cut to {@link #MAX_NAME_BYTES}; may be empty.
   */
  static String safeName(String name) {
    String last = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
    String cleaned = last.codePoints()
        .filter(c -> !Character.isISOControl(c) && Character.getType(c) != Character.FORMAT)
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString().strip();
    return shortened(cleaned.replaceFirst("^[.\\s]+", ""));
  }

  /**
   * File systems take names of up to 255 bytes, and the download writes {@code NAME.part.validator.tmp}
   * beside it: a longer name another host sends is cut, keeping a short extension.
   */
  static final int MAX_NAME_BYTES = 200;

  private static String shortened(String name) {
    if (utf8Length(name) <= MAX_NAME_BYTES) {
      return name;
    }
    int dot = name.lastIndexOf('.');
    String extension = dot > 0 && name.length() - dot <= 16 ? name.substring(dot) : "";
    String stem = name.substring(0, name.length() - extension.length());
    while (utf8Length(stem + extension) > MAX_NAME_BYTES) {
      stem = stem.substring(0, stem.offsetByCodePoints(stem.length(), -1));
    }
    return stem.strip() + extension;
  }

  private static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }
}
