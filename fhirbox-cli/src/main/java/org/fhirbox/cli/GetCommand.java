package org.fhirbox.cli;

import java.util.concurrent.Callable;
import org.fhirbox.client.FhirboxClient;
import org.hl7.fhir.r4.model.Binary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code fhirbox get TYPE/ID[/_history/V]}: read a resource. */
@Command(name = "get", mixinStandardHelpOptions = true,
    description = "Read a resource (or one version of it) and print it as JSON.")
final class GetCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ClientOptions options;

  @Parameters(index = "0", paramLabel = "TYPE/ID[/_history/V]", description = "e.g. Patient/123 or Patient/123/_history/2")
  String reference;

  @Override
  public Integer call() {
    FhirboxClient client = options.client();
    ResourceRef ref = ResourceRef.parse(reference);
    var type = ref.javaType(client.fhirContext());
    var resource = ref.version() == null
        ? client.readResource(type, ref.id())
        : client.readVersion(type, ref.id(), ref.version());
    JsonOutput out = new JsonOutput(client.fhirContext(), spec.commandLine().getOut());
    if (resource instanceof Binary binary) {
      out.binary(binary); // with the signed url the server sent, as upload prints it
    } else {
      out.resource(resource);
    }
    return 0;
  }
}
