package org.fhirbox.cli;

import java.util.concurrent.Callable;
import org.fhirbox.client.FhirboxClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code fhirbox search TYPE [QUERY]}: one page as a Bundle, or every match as NDJSON. */
@Command(name = "search", mixinStandardHelpOptions = true,
    description = {"Search resources of a type and print the first page as a Bundle.",
        "With --all, follow next links and print every match, one resource JSON per line."})
final class SearchCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ClientOptions options;

  @Parameters(index = "0", paramLabel = "TYPE", description = "resource type, e.g. Patient")
  String type;

  @Parameters(index = "1", arity = "0..1", paramLabel = "QUERY", description = "FHIR search query, e.g. 'family=Smith&_count=50'; form-encoded: + is a space, %%2B a plus")
  String query;

  @Option(names = "--all", description = "follow next links and print every match, one per line (NDJSON)")
  boolean all;

  @Override
  public Integer call() {
    FhirboxClient client = options.client();
    var javaType = ResourceRef.javaType(client.fhirContext(), type);
    JsonOutput json = new JsonOutput(client.fhirContext(), spec.commandLine().getOut());
    if (all) {
      client.search(javaType, query).forEach(json::line);
    } else {
      json.resource(client.searchBundle(javaType, query));
    }
    return 0;
  }
}
