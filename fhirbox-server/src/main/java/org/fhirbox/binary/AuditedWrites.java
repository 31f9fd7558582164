package org.fhirbox.binary;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.fhirbox.audit.AuditedRequest;
import org.fhirbox.auth.Principal;
import org.fhirbox.fhir.EntrySearch;
import org.fhirbox.fhir.ResourceService;
import org.fhirbox.fhir.ResourceService.Deferred;
import org.fhirbox.fhir.WritePreconditions;
import org.fhirbox.fhir.Written;
import org.fhirbox.model.StoredResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * Resource writes as the routes ask for them: {@link ResourceService}'s create, update and
 * batch/transaction, then the Binary audit events they caused (a Binary sent as FHIR JSON or XML,
 * the Binary entries of a Bundle). The FHIR services sit below auditing in the package graph, so
 * this service, above both, records what they committed; a failed write records nothing.
 */
public final class AuditedWrites {
  private final ResourceService resources;
  private final BinaryService binaries;

  public AuditedWrites(ResourceService resources, BinaryService binaries) {
    this.resources = resources;
    this.binaries = binaries;
  }

  /**
   * {@link ResourceService#create}, audited when it created a Binary; a conditional create that
   * found its match wrote nothing and records nothing.
   */
  public Written create(Principal principal, String type, Deferred<Resource> body, String ifNoneExist,
      AuditedRequest request) throws IOException {
    Written w = resources.create(principal, type, body, ifNoneExist);
    return w.created() ? binaries.recorded(principal, request, w) : w;
  }

  /** {@link ResourceService#update}, audited when it wrote a Binary. */
  public Written update(Principal principal, String type, String id, Deferred<Resource> body,
      Supplier<WritePreconditions> preconditions, AuditedRequest request) throws IOException {
    return binaries.recorded(principal, request, resources.update(principal, type, id, body, preconditions));
  }

  /** {@link ResourceService#updateConditional}, audited when it wrote a Binary. */
  public Written updateConditional(Principal principal, String type, Map<String, List<String>> criteria,
      String shown, Deferred<Resource> body, Supplier<WritePreconditions> preconditions, AuditedRequest request)
      throws IOException {
    return binaries.recorded(principal, request,
        resources.updateConditional(principal, type, criteria, shown, body, preconditions));
  }

  /** {@link ResourceService#deleteConditional}, audited when it deleted a Binary. */
  public Optional<StoredResource> deleteConditional(Principal principal, String type,
      Map<String, List<String>> criteria, String shown, Supplier<WritePreconditions> preconditions,
      AuditedRequest request) {
    Optional<StoredResource> gone = resources.deleteConditional(principal, type, criteria, shown, preconditions);
    if (type.equals("Binary") && gone.isPresent()) {
      binaries.deleted(principal, request, gone.get().id(), gone.get().versionId());
    }
    return gone;
  }

  /** {@link ResourceService#process}, with an event for each Binary entry the Bundle wrote or deleted. */
  public Bundle process(Principal principal, Bundle bundle, String fhirBase, EntrySearch.Runner searches,
      AuditedRequest request) {
    return binaries.recorded(principal, request, bundle, resources.process(principal, bundle, fhirBase, searches));
  }

  /**
   * {@link ResourceService#delete}, audited when it deleted a Binary; a Binary that never existed
   * was not deleted, and records nothing.
   */
  public Optional<StoredResource> delete(Principal principal, String type, String id,
      Supplier<WritePreconditions> preconditions, AuditedRequest request) {
    Optional<StoredResource> gone = resources.delete(principal, type, id, preconditions);
    if (type.equals("Binary") && gone.isPresent()) {
      binaries.deleted(principal, request, id, gone.get().versionId());
    }
    return gone;
  }
}
