package org.fhirbox.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.fhirbox.client.FhirboxClient;
import org.fhirbox.client.ProgressListener;
import org.fhirbox.client.ResumableUploads;
import org.fhirbox.client.Upload;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Resource;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fhirbox upload FILE}: streams a file into a new Binary, optionally attaching it to a resource. */
@Command(name = "upload", mixinStandardHelpOptions = true,
    description = {"Upload a file as a Binary and print it as JSON.",
        "With --attach-to and --path, put it into that resource as an Attachment (appended to lists such as "
            + "Patient.photo, set on single elements such as Media.content), save the resource with If-Match, "
            + "and print the updated resource instead; a resource changed during the upload is read again and "
            + "the Attachment put into that (up to 4 saves), and a save that fails for good names the uploaded "
            + "Binary. A progress bar shows on a terminal for long transfers."})
final class UploadCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ClientOptions options;

  @Parameters(index = "0", paramLabel = "FILE", description = "the file to upload (streamed, never loaded whole)")
  Path file;

  @Option(names = "--content-type", paramLabel = "TYPE",
      description = "content type (default: guessed from the file name, else application/octet-stream)")
  String contentType;

  @Option(names = "--filename", paramLabel = "NAME", description = "file name to record (default: FILE's name)")
  String filename;

  @Option(names = "--security-context", paramLabel = "REF",
      description = "resource that guards reading the Binary, e.g. Patient/123 (default with --attach-to: that resource)")
  String securityContext;

  @Option(names = "--direct",
      description = "upload through a presigned URL ($upload-url): the file's SHA-256 is read first, then the bytes "
          + "go without credentials to the URL the server gives (the S3 bucket itself in its s3 mode)")
  boolean direct;

  @Option(names = "--resumable",
      description = "upload with tus in pieces whatever the file's size (files of 64 MiB and more always go so): "
          + "a dropped connection or a server restart is resumed by itself, and running the same upload again "
          + "after an interruption goes on where it stopped (its URL is kept in $XDG_CACHE_HOME/fhirbox/uploads, "
          + "default ~/.cache/fhirbox/uploads, until the Binary exists)")
  boolean resumable;

  @Option(names = "--chunk-size", paramLabel = "BYTES", defaultValue = "16777216",
      description = "bytes per piece of a resumable upload (default ${DEFAULT-VALUE})")
  long chunkSize;

  @ArgGroup(exclusive = false)
  AttachTo attachTo;

  static final class AttachTo {
    @Option(names = "--attach-to", required = true, paramLabel = "TYPE/ID", description = "resource to attach the upload to")
    String reference;

    @Option(names = "--path", required = true, paramLabel = "ELEMENT",
        description = "Attachment element in it: photo (Patient), content (Media), content.attachment (DocumentReference)")
    String path;
  }

  @Override
  public Integer call() throws Exception {
    InputFile.regular(file);
    if (direct && resumable) {
      throw new UsageException("--direct and --resumable are two different ways to upload: choose one");
    }
    if (chunkSize < 1) {
      throw new UsageException("--chunk-size must be at least 1 byte");
    }
    requireGiven("--content-type", contentType, "a type such as image/jpeg");
    requireGiven("--filename", filename, "a name such as scan.pdf");
    requireGiven("--security-context", securityContext, "a reference such as Patient/123");
    requireHeaderText("--content-type", contentType);
    requireHeaderText("--security-context", securityContext);
    FhirboxClient plain = options.client();
    ResumableUploads settings = ResumableUploads.DEFAULT.withChunkSize(chunkSize)
        .withStateDirectory(stateDirectory());
    FhirboxClient client = plain.newBuilder()
        .resumableUploads(resumable ? settings.withThreshold(0) : settings)
        .build();
    JsonOutput out = new JsonOutput(client.fhirContext(), spec.commandLine().getOut());
    ProgressBar bar = ProgressBar.on(spec.commandLine().getErr(), options.main().terminal, "upload  ");
    boolean tus = !direct && (resumable || Files.size(file) >= settings.threshold());
    Upload upload = Upload.of(file, contentType == null ? ContentTypes.guess(file) : contentType)
        .withProgress(tus ? new ResumeNotice(spec.commandLine().getErr(), bar) : bar);
    if (filename != null) {
      upload = upload.withFilename(filename);
    }
    if (attachTo == null) {
      Binary binary = upload(client, upload.withSecurityContext(securityContext), bar);
      out.binary(binary);
      return 0;
    }
    ResourceRef ref = ResourceRef.parse(attachTo.reference);
    // Resolve the path and read the resource before uploading: a mistake must not leave an orphan Binary.
    AttachmentPath path = AttachmentPath.resolve(client.fhirContext(), ref.type(), attachTo.path);
    Resource resource = client.readResource(ref.javaType(client.fhirContext()), ref.id());
    Attachment attachment;
    try {
      Upload guarded = upload.withSecurityContext(securityContext == null ? ref.reference() : securityContext);
      attachment = direct ? attachment(client.uploadViaUrl(guarded)) : client.createAttachment(guarded);
    } finally {
      bar.finish();
    }
    out.resource(AttachmentSave.save(client, ref, path, resource, attachment, AttachmentSave.ATTEMPTS));
    return 0;
  }

  /**
   * A flag given empty or blank (often a shell variable that is not set) is a usage error naming it:
   * the upload would otherwise go on without what it names, a security context above all (with
   * --attach-to, without the one it defaults to), which leaves the Binary unguarded.
   */
  private static void requireGiven(String flag, String value, String example) {
    if (value != null && value.isBlank()) {
      throw new UsageException(flag + " is empty: give " + example + ", or leave the flag out");
    }
  }

  /**
   * A flag sent as a header value (Content-Type, X-Security-Context) must be printable ASCII: a line
   * break would end the header (the HTTP client refuses it with a message naming no flag), and
   * other bytes arrive as '?' (RFC 9110 §5.5: field values are ASCII in practice).
   */
  private static void requireHeaderText(String flag, String value) {
    if (value != null && !value.chars().allMatch(c -> c == '\t' || (c >= 0x20 && c < 0x7f))) {
      throw new UsageException(flag + " must be printable ASCII, as a header value is; got '"
          + value.replaceAll("[\\r\\n]", " ") + "'");
    }
  }

  /** The user's cache directory (XDG Base Directory), where unfinished uploads are remembered. */
  private Path stateDirectory() {
    String cache = options.main().env.get("XDG_CACHE_HOME");
    Path base = cache != null && !cache.isBlank() && Path.of(cache).isAbsolute() ? Path.of(cache)
        : Path.of(options.main().env.getOrDefault("HOME", System.getProperty("user.home")), ".cache");
    return base.resolve("fhirbox").resolve("uploads");
  }

  /**
   * Says once, on stderr, that an earlier run's upload goes on, and from where: a resumable
   * upload's first progress report is the offset it starts from.
   */
  private static final class ResumeNotice implements ProgressListener {
    private final PrintWriter err;
    private final ProgressListener next;
    private boolean first = true;

    ResumeNotice(PrintWriter err, ProgressListener next) {
      this.err = err;
      this.next = next;
    }

    @Override
    public void onProgress(long done, long total) {
      if (first) {
        first = false;
        if (done > 0 && done < total) {
          err.printf("fhirbox: resuming an interrupted upload at %d of %d bytes%n", done, total);
          err.flush();
        }
      }
      next.onProgress(done, total);
    }
  }

  /** The server fills size and hash from the Binary when the resource is saved. */
  private Attachment attachment(Binary binary) {
    return new Attachment().setContentType(binary.getContentType())
        .setUrl("Binary/" + binary.getIdElement().getIdPart())
        .setTitle(filename != null ? filename : file.getFileName().toString());
  }

  private Binary upload(FhirboxClient client, Upload upload, ProgressBar bar) {
    try {
      return direct ? client.uploadViaUrl(upload) : client.createBinary(upload);
    } finally {
      bar.finish();
    }
  }
}
