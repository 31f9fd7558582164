package org.fhirbox.fhir;

import org.fhirbox.auth.Principal;
import org.hl7.fhir.r4.model.Resource;

/** Runs on every resource on its way out (Bundles included; filters descend into them). */
public interface OutgoingFilter {
  void apply(Principal principal, Resource resource, String baseUrl);
}
