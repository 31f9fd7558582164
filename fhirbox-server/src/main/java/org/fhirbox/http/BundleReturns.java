package org.fhirbox.http;

import java.util.List;
import java.util.Set;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.BundleEntryResponseComponent;

/**
 * {@code Prefer: return=} on a batch or transaction: each write entry's answer is shaped as a single
 * write's would be (FHIR R4 http.html#ops), since R4 leaves whether a response entry holds the
 * resulting resource to the client's preference (http.html#transaction-response). {@code minimal}
 * leaves the written resource out, {@code OperationOutcome} puts an informational outcome in
 * {@code response.outcome} instead. A read or search entry keeps its resource, which is what it asked
 * for, and a failed entry keeps its outcome.
 */
final class BundleReturns {
  private static final Set<String> WRITES = Set.of("POST", "PUT", "PATCH");

  private BundleReturns() {
  }

  /** Shapes {@code response}, the answer to {@code request}, entry by entry, by {@code ex}'s preference. */
  static void apply(Exchange ex, Bundle request, Bundle response) {
    String preference = ex.applyReturnPreference();
    if (preference.equals("representation")) {
      return;
    }
    List<BundleEntryComponent> asked = request.getEntry();
    List<BundleEntryComponent> answered = response.getEntry();
    for (int i = 0; i < Math.min(asked.size(), answered.size()); i++) {
      BundleEntryComponent entry = answered.get(i);
      String method = asked.get(i).getRequest().hasMethod() ? asked.get(i).getRequest().getMethod().toCode() : "";
      if (!WRITES.contains(method) || !entry.hasResource() || !entry.getResponse().getStatus().startsWith("2")) {
        continue;
      }
      entry.setResource(null);
      if (preference.equals("operationoutcome")) {
        entry.getResponse().setOutcome(ErrorMapper.info(diagnostics(method, entry.getResponse())));
      }
    }
  }

  /** As a single write's {@code return=OperationOutcome} says it, from the entry's status and location. */
  private static String diagnostics(String method, BundleEntryResponseComponent response) {
    String location = response.hasLocation() ? response.getLocation() : "the resource";
    int history = location.indexOf("/_history/");
    String named = history < 0 ? location : location.substring(0, history) + " version "
        + location.substring(history + "/_history/".length());
    if (response.getStatus().startsWith("201")) {
      return "created " + named;
    }
    return method.equals("POST") ? named + " matches ifNoneExist; nothing was created" : "updated " + named;
  }
}
