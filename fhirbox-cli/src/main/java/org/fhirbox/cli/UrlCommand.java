package org.fhirbox.cli;

import java.util.concurrent.Callable;
import org.fhirbox.client.FhirboxClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code fhirbox url REF}: a signed URL for a Binary ({@code $presigned-url}). */
@Command(name = "url", mixinStandardHelpOptions = true,
    description = "Print a signed URL for a Binary: anyone holding it can fetch the content until it expires.")
final class UrlCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ClientOptions options;

  @Parameters(index = "0", paramLabel = "REF", description = "Binary/ID, or any URL of the Binary")
  String reference;

  @Option(names = "--download", description = "ask browsers to save the content (Content-Disposition: attachment)")
  boolean download;

  @Override
  public Integer call() {
    if (FhirboxClient.binaryId(reference).isEmpty()) {
      throw new UsageException("not a Binary reference or URL: '" + DownloadCommand.withoutQuery(reference) + "'");
    }
    FhirboxClient client = options.client();
    new JsonOutput(client.fhirContext(), spec.commandLine().getOut()).text(client.presignedUrl(reference, download));
    return 0;
  }
}
