package org.fhirbox.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.fhirbox.client.FhirboxClient;
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
            + "and print the updated resource instead. A progress bar shows on a terminal for long transfers."})
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
    if (!Files.isRegularFile(file)) {
      throw new UsageException("no such file: " + file);
    }
    FhirboxClient client = options.client();
    JsonOutput out = new JsonOutput(client.fhirContext(), spec.commandLine().getOut());
    ProgressBar bar = ProgressBar.on(spec.commandLine().getErr(), options.main().terminal, "upload  ");
    Upload upload = Upload.of(file, contentType == null ? ContentTypes.guess(file) : contentType)
        .withProgress(bar);
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
    path.attach(resource, attachment);
    out.resource(client.updateResource(resource));
    return 0;
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
