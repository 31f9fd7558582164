package org.fhirbox.cli;

import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.StrictErrorHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.fhirbox.client.FhirboxClient;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Resource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code fhirbox create FILE|-}: create a resource from its JSON. */
@Command(name = "create", mixinStandardHelpOptions = true,
    description = "Create a resource from a FHIR JSON file (or - for stdin) and print it as stored.")
final class CreateCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ClientOptions options;

  @Parameters(index = "0", paramLabel = "FILE|-", description = "the resource as FHIR JSON; - reads stdin")
  String source;

  @Override
  public Integer call() throws IOException {
    FhirboxClient client = options.client();
    IBaseResource parsed;
    try {
      // strict: the lenient default drops an element R4 does not know (a misspelt one) with a log
      // line, and the resource would be created without it; the server refuses one as well
      parsed = client.fhirContext().newJsonParser().setParserErrorHandler(new StrictErrorHandler())
          .parseResource(read());
    } catch (DataFormatException e) {
      throw new UsageException((source.equals("-") ? "stdin" : source) + " is not a FHIR JSON resource: "
          + e.getMessage());
    }
    if (!(parsed instanceof Resource resource)) {
      throw new UsageException(source + " is not an R4 resource");
    }
    new JsonOutput(client.fhirContext(), spec.commandLine().getOut()).resource(client.createResource(resource));
    return 0;
  }

  private String read() throws IOException {
    if (source.equals("-")) {
      InputStream in = options.main().stdin;
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    return Files.readString(InputFile.regular(Path.of(source)), StandardCharsets.UTF_8);
  }
}
