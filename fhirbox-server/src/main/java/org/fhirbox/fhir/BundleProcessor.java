package org.fhirbox.fhir;

import ca.uhn.fhir.util.FhirTerser;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.fhirbox.core.FhirException;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;
import org.fhirbox.storage.BlobInfo;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.BundleType;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Single writes of JSON/XML resources and batch/transaction Bundles (FHIR R4 http.html#transaction).
 * A transaction runs in one database transaction: all entries or none. Its {@code urn:uuid:}
 * (and other fullUrl) references, including an {@code Attachment.url} naming a Binary created in
 * the same Bundle, are rewritten to the ids assigned here.
 */
public final class BundleProcessor {
  private final ResourceStore store;
  private final ResourceRepository repository;
  private final BinaryData binaryData;
  private final BinaryAccess access;
  private final FhirTerser terser;

  public BundleProcessor(ResourceStore store, ResourceRepository repository, BinaryData binaryData,
      BinaryAccess access) {
    this.store = store;
    this.repository = repository;
    this.binaryData = binaryData;
    this.access = access;
    this.terser = repository.codec().context().newTerser();
  }

  public Written createSingle(String project, Resource resource) {
    BlobInfo blob = blobFor(resource);
    return withBlob(blob, () -> store.inTransaction(tx -> requireContext(tx, project,
        repository.create(tx, project, resource, blob, null))));
  }

  public Written updateSingle(String project, String type, String id, Resource resource, Long ifMatch) {
    BlobInfo blob = resource instanceof Binary b && b.hasData() ? blobFor(resource) : null;
    return withBlob(blob, () -> store.inTransaction(tx -> requireContext(tx, project,
        repository.update(tx, project, type, id, resource, ifMatch, blob, null))));
  }

  private <T> T withBlob(BlobInfo blob, java.util.function.Supplier<T> work) {
    try {
      return work.get();
    } catch (RuntimeException e) {
      binaryData.discard(blob);
      throw e;
    }
  }

  /** The blob for a Binary resource's inline data (empty data for none); null for other types. */
  private BlobInfo blobFor(Resource resource) {
    if (!(resource instanceof Binary b)) {
      return null;
    }
    byte[] data = b.hasData() ? b.getData() : new byte[0];
    return binaryData.store(data, b.hasContentType() ? b.getContentType() : "application/octet-stream");
  }

  public Bundle process(Principal principal, Bundle bundle, String fhirBase) {
    Bundle out;
    if (bundle.getType() == BundleType.TRANSACTION) {
      out = transaction(principal, bundle, fhirBase);
    } else if (bundle.getType() == BundleType.BATCH) {
      out = batch(principal, bundle, fhirBase);
    } else {
      throw FhirException.badRequest("Bundle.type must be batch or transaction to be processed, got "
          + (bundle.getType() == null ? "none" : bundle.getType().toCode()), "Bundle.type");
    }
    // FHIR R4 Bundle.entry.fullUrl is "the Absolute URL for the resource" (bundle.html#bundle-unique),
    // as in search and history Bundles; response.location may stay relative (http.html#transaction-response).
    for (BundleEntryComponent e : out.getEntry()) {
      if (e.hasFullUrl()) {
        e.setFullUrl(fhirBase + "/" + e.getFullUrl());
      }
    }
    return out;
  }

  private Bundle batch(Principal principal, Bundle bundle, String fhirBase) {
    Bundle out = new Bundle().setType(BundleType.BATCHRESPONSE);
    out.setId(ResourceIds.newId());
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      BundleEntryComponent entry = bundle.getEntry().get(i);
      BundleEntryComponent result;
      List<BlobInfo> blobs = new ArrayList<>();
      try {
        EntryRequest req = EntryRequest.of(entry, i, fhirBase, repository);
        Resource res = entry.getResource();
        if (res instanceof Binary && (req.method() == HTTPVerb.POST || req.method() == HTTPVerb.PUT)) {
          blobs.add(blobFor(res));
        }
        BlobInfo blob = blobs.isEmpty() ? null : blobs.get(0);
        result = store.inTransaction(tx -> requireContexts(tx, principal, List.of(req),
            new BundleEntryComponent[] {execute(tx, principal, req, res, blob, null)})[0]);
      } catch (FhirException e) {
        blobs.forEach(binaryData::discard);
        result = new BundleEntryComponent();
        result.getResponse().setStatus(e.status() + " " + reason(e.status()))
            .setOutcome(e.toOperationOutcome());
      }
      out.addEntry(result);
    }
    return out;
  }

  private Bundle transaction(Principal principal, Bundle bundle, String fhirBase) {
    List<EntryRequest> requests = new ArrayList<>();
    Map<String, String> assigned = new HashMap<>();
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      BundleEntryComponent entry = bundle.getEntry().get(i);
      EntryRequest req = EntryRequest.of(entry, i, fhirBase, repository);
      if (req.method() == HTTPVerb.POST) {
        String id = ResourceIds.newId();
        req = req.withId(id);
        if (entry.hasFullUrl()) {
          if (assigned.put(entry.getFullUrl(), req.type() + "/" + id) != null) {
            throw FhirException.badRequest("entry " + i + ": fullUrl " + entry.getFullUrl() + " occurs twice",
                "Bundle.entry[" + i + "].fullUrl");
          }
        }
      }
      requests.add(req);
    }
    for (BundleEntryComponent entry : bundle.getEntry()) {
      if (entry.hasResource()) {
        rewriteReferences(entry.getResource(), assigned);
      }
    }
    // FHIR R4 http.html#trules: DELETE, then POST, then PUT/PATCH, then GET.
    List<EntryRequest> ordered = new ArrayList<>(requests);
    ordered.sort(Comparator.comparingInt(r -> switch (r.method()) {
      case DELETE -> 0;
      case POST -> 1;
      case PUT, PATCH -> 2;
      default -> 3;
    }));
    Map<Integer, BlobInfo> blobs = new HashMap<>();
    try {
      for (EntryRequest r : requests) {
        Resource res = bundle.getEntry().get(r.index()).getResource();
        if (res instanceof Binary && (r.method() == HTTPVerb.POST || r.method() == HTTPVerb.PUT)) {
          blobs.put(r.index(), blobFor(res));
        }
      }
      BundleEntryComponent[] results = store.inTransaction(tx -> {
        BundleEntryComponent[] res = new BundleEntryComponent[requests.size()];
        for (EntryRequest r : ordered) {
          res[r.index()] = execute(tx, principal, r, bundle.getEntry().get(r.index()).getResource(),
              blobs.get(r.index()), r.assignedId());
        }
        // After every entry: a Binary may name a resource this Bundle creates after it.
        return requireContexts(tx, principal, requests, res);
      });
      Bundle out = new Bundle().setType(BundleType.TRANSACTIONRESPONSE);
      out.setId(ResourceIds.newId());
      for (BundleEntryComponent e : results) {
        out.addEntry(e);
      }
      return out;
    } catch (RuntimeException e) {
      blobs.values().forEach(binaryData::discard);
      throw e;
    }
  }

  private Written requireContext(ResourceStore.Tx tx, String project, Written w) {
    repository.requireSecurityContextExists(tx, project, w.resource());
    return w;
  }

  /** {@code results[i]} answers {@code requests.get(i)}; the Binaries written must name existing resources. */
  private BundleEntryComponent[] requireContexts(ResourceStore.Tx tx, Principal principal,
      List<EntryRequest> requests, BundleEntryComponent[] results) {
    for (int i = 0; i < results.length; i++) {
      EntryRequest r = requests.get(i);
      if (results[i].getResponse().hasLocation()) {
        try {
          repository.requireSecurityContextExists(tx, principal.project(), results[i].getResource());
        } catch (FhirException e) {
          throw atEntry(r, e);
        }
      }
    }
    return results;
  }

  private void rewriteReferences(Resource resource, Map<String, String> assigned) {
    if (assigned.isEmpty()) {
      return;
    }
    for (Reference ref : ResourceTree.elements(terser, resource, Reference.class)) {
      String target = ref.hasReference() ? assigned.get(ref.getReference()) : null;
      if (target != null) {
        ref.setReference(target);
      }
    }
    for (Attachment a : ResourceTree.elements(terser, resource, Attachment.class)) {
      String target = a.hasUrl() ? assigned.get(a.getUrl()) : null;
      if (target != null) {
        a.setUrl(target);
      }
    }
  }

  private BundleEntryComponent execute(ResourceStore.Tx tx, Principal principal, EntryRequest r, Resource res,
      BlobInfo blob, String assignedId) {
    String project = principal.project();
    BundleEntryComponent out = new BundleEntryComponent();
    try {
      switch (r.method()) {
        case POST -> {
          principal.require(r.type(), Interaction.CREATE);
          requireBody(r, res);
          Written w = assignedId == null ? repository.create(tx, project, res, blob, null)
              : repository.create(tx, project, res, assignedId, blob, null);
          written(out, w);
        }
        case PUT -> {
          principal.require(r.type(), Interaction.UPDATE);
          requireBody(r, res);
          Written w = repository.update(tx, project, r.type(), r.id(), res, r.ifMatch(), blob, null);
          written(out, w);
        }
        case DELETE -> {
          principal.require(r.type(), Interaction.DELETE);
          StoredResource gone = repository.delete(tx, project, r.type(), r.id(), r.ifMatch()).orElseThrow();
          out.getResponse().setStatus("200 OK").setEtag("W/\"" + gone.versionId() + "\"");
        }
        case GET -> {
          principal.require(r.type(), Interaction.READ);
          StoredResource s = r.version() == null ? repository.read(tx, project, r.type(), r.id())
              : repository.vread(tx, project, r.type(), r.id(), r.version());
          access.requireReadVersion(tx, principal, s);
          java.util.Optional<Resource> found = repository.readable(s);
          if (found.isEmpty()) {
            // one unreadable stored version costs this entry, not the Bundle
            out.getResponse().setStatus("500 Internal Server Error")
                .setOutcome(ResourceRepository.unreadableOutcome(s));
            return out;
          }
          out.setFullUrl(r.type() + "/" + r.id()).setResource(found.get());
          out.getResponse().setStatus("200 OK").setEtag("W/\"" + s.versionId() + "\"")
              .setLastModified(java.util.Date.from(s.lastUpdated()));
        }
        default -> throw FhirException.badRequest("entry " + r.index() + ": method " + r.method().toCode()
            + " is not supported in a Bundle", "Bundle.entry[" + r.index() + "].request.method");
      }
    } catch (FhirException e) {
      throw atEntry(r, e);
    }
    return out;
  }

  /** The same failure, its diagnostics prefixed with the entry they are about. */
  private static FhirException atEntry(EntryRequest r, FhirException e) {
    return new FhirException(e.kind(), e.issues().stream().map(i -> new FhirException.Issue(i.severity(),
        i.type(), "Bundle.entry[" + r.index() + "]: " + i.diagnostics(), i.expression())).toList(),
        e.headers(), e);
  }

  private static void requireBody(EntryRequest r, Resource res) {
    if (res == null) {
      throw FhirException.badRequest("entry " + r.index() + " has no resource");
    }
    if (!res.fhirType().equals(r.type())) {
      throw FhirException.badRequest("entry " + r.index() + " holds a " + res.fhirType() + " but its request URL names "
          + r.type());
    }
  }

  private static void written(BundleEntryComponent out, Written w) {
    StoredResource s = w.stored();
    out.setFullUrl(s.type() + "/" + s.id()).setResource(w.resource());
    out.getResponse().setStatus(w.created() ? "201 Created" : "200 OK")
        .setLocation(s.type() + "/" + s.id() + "/_history/" + s.versionId())
        .setEtag("W/\"" + s.versionId() + "\"")
        .setLastModified(java.util.Date.from(s.lastUpdated()));
  }

  static String reason(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 409 -> "Conflict";
      case 410 -> "Gone";
      case 412 -> "Precondition Failed";
      case 413 -> "Payload Too Large";
      case 422 -> "Unprocessable Entity";
      default -> "Error";
    };
  }
}
