package org.fhirbox.fhir;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchValue;
import org.fhirbox.model.StoredResource;
import org.fhirbox.storage.BlobInfo;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Versioned resource reads and writes on top of {@link ResourceStore}: assigns ids, versions and
 * meta, normalises Attachments, maintains the search index, and keeps Binary content rows in
 * step with Binary versions. Every method takes the transaction it runs in, so a Bundle can
 * put many writes into one.
 */
public final class ResourceRepository {
  private static final Logger LOG = LoggerFactory.getLogger(ResourceRepository.class);
  private final FhirCodec codec;
  private final Set<String> resourceTypes;
  private final AttachmentNormalizer normalizer;
  private final SearchIndexer indexer;
  private final Clock clock;
  private final List<WriteListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Told about every stored version inside the writing transaction, so that follow-up work
   * (an ingestion job, an index) commits or rolls back with the write. {@code gate} is the
   * writer's: what it may attach, and whether it may have Binaries created.
   */
  public interface WriteListener {
    void written(ResourceStore.Tx tx, String project, Written written, AttachmentNormalizer.Gate gate);
  }

  public ResourceRepository(FhirCodec codec, AttachmentNormalizer normalizer, SearchIndexer indexer, Clock clock) {
    this.codec = codec;
    this.resourceTypes = Set.copyOf(codec.context().getResourceTypes());
    this.normalizer = normalizer;
    this.indexer = indexer;
    this.clock = clock;
  }

  /** Registers a listener (wiring time only). */
  public void addWriteListener(WriteListener listener) {
    listeners.add(listener);
  }

  public FhirCodec codec() {
    return codec;
  }

  /** 400 unless {@code type} is an R4 resource type. */
  public String requireType(String type) {
    if (type == null || !resourceTypes.contains(type)) {
      throw FhirException.badRequest("unknown resource type '" + (type == null ? "" : type) + "'");
    }
    return type;
  }

  public boolean isType(String type) {
    return resourceTypes.contains(type);
  }

  /**
   * 400 unless {@code reference} can serve as a Binary's {@code securityContext}: a relative
   * {@code Type/id} of an R4 resource type. Access checks resolve it in the caller's project
   * ({@link BinaryAccess}); an absolute URL, a version, a fragment or a path such as
   * {@code ../../x} never resolves, and would leave the Binary unreadable to everyone.
   */
  public String requireSecurityContextForm(String reference) {
    String ref = reference == null ? "" : reference.trim();
    int slash = ref.indexOf('/');
    if (slash <= 0 || !isType(ref.substring(0, slash)) || !ResourceIds.isValid(ref.substring(slash + 1))) {
      throw FhirException.badRequest("Binary.securityContext must be a reference like Patient/123 to a resource of "
          + "this project, got '" + (ref.length() > 80 ? ref.substring(0, 80) : ref) + "'",
          "Binary.securityContext");
    }
    return ref;
  }

  /**
   * 400 unless {@code reference} (see {@link #requireSecurityContextForm}) names a resource of
   * {@code project} that exists and is not deleted. Writers check when their unit of work ends:
   * a transaction Bundle after all its entries, so a Binary may name a resource the same Bundle
   * creates (even one whose Attachment names that Binary). A context deleted later makes the
   * Binary unreadable again, as it would any resource's compartment.
   */
  public void requireSecurityContextExists(ResourceStore.Tx tx, String project, String reference) {
    String ref = requireSecurityContextForm(reference);
    int slash = ref.indexOf('/');
    boolean exists = tx.current(project, ref.substring(0, slash), ref.substring(slash + 1), false)
        .map(r -> !r.deleted()).orElse(false);
    if (!exists) {
      throw FhirException.badRequest("Binary.securityContext names " + ref + ", which does not exist in this "
          + "project; the Binary could never be read", "Binary.securityContext");
    }
  }

  /** {@link #requireSecurityContextExists} for a written resource; nothing for other types or no context. */
  public void requireSecurityContextExists(ResourceStore.Tx tx, String project, Resource written) {
    if (written instanceof Binary b && b.hasSecurityContext()) {
      requireSecurityContextExists(tx, project, b.getSecurityContext().getReference());
    }
  }

  /** The Binaries the Attachments of a stored {@code resource} name ({@link AttachmentNormalizer#referenced}). */
  public Set<String> referencedBinaries(ResourceStore.Tx tx, String project, Resource resource) {
    return normalizer.referenced(tx, project, resource);
  }

  /** Creates a new resource with a server-assigned id (FHIR R4 http.html#create). */
  public Written create(ResourceStore.Tx tx, String project, Resource resource, BlobInfo content,
      String filename) {
    return create(tx, project, resource, ResourceIds.newId(), content, filename);
  }

  /** Creates with a given id (the transaction assigns ids before it writes). */
  public Written create(ResourceStore.Tx tx, String project, Resource resource, String id, BlobInfo content,
      String filename) {
    return create(tx, project, resource, id, content, filename, AttachmentNormalizer.Gate.ANY);
  }

  /** {@link #create}, each Binary an Attachment names passing {@code gate}. */
  public Written create(ResourceStore.Tx tx, String project, Resource resource, String id, BlobInfo content,
      String filename, AttachmentNormalizer.Gate gate) {
    String type = requireType(resource.fhirType());
    return store(tx, project, type, id, resource, 1, null, content, filename, true, gate, false);
  }

  /**
   * {@code If-Match: *} as an update's or delete's {@code ifMatch}: any current representation
   * matches (RFC 9110 §13.1.1), so the resource must exist and not be deleted, whatever its version.
   */
  public static final long IF_MATCH_ANY = -1L;

  /**
   * Updates, or creates with the client's id when absent (FHIR R4 http.html#upsert).
   * {@code ifMatch} is the version the client last saw, or null.
   */
  public Written update(ResourceStore.Tx tx, String project, String type, String id, Resource resource,
      Long ifMatch, BlobInfo content, String filename) {
    return update(tx, project, type, id, resource, ifMatch, content, filename, AttachmentNormalizer.Gate.ANY);
  }

  /** {@link #update}, with every precondition the request carries ({@link WritePreconditions}). */
  public Written update(ResourceStore.Tx tx, String project, String type, String id, Resource resource,
      WritePreconditions preconditions, BlobInfo content, String filename) {
    return update(tx, project, type, id, resource, preconditions, content, filename, AttachmentNormalizer.Gate.ANY);
  }

  /** {@link #update}, each Binary an Attachment names passing {@code gate}. */
  public Written update(ResourceStore.Tx tx, String project, String type, String id, Resource resource,
      Long ifMatch, BlobInfo content, String filename, AttachmentNormalizer.Gate gate) {
    return update(tx, project, type, id, resource, WritePreconditions.ifMatch(ifMatch), content, filename, gate);
  }

  /** {@link #update}, with every precondition the request carries ({@link WritePreconditions}). */
  public Written update(ResourceStore.Tx tx, String project, String type, String id, Resource resource,
      WritePreconditions preconditions, BlobInfo content, String filename, AttachmentNormalizer.Gate gate) {
    return update(tx, project, type, id, resource, preconditions, content, filename, gate, false);
  }

  /**
   * {@link #update} with what a PATCH made of the current version, which {@code preconditions} name
   * by {@code If-Match}: the version it stores is recorded as made by PATCH (its history entry's
   * {@code request.method}, R4 Bundle.entry.request.method), which the versions alone would tell as
   * a PUT. A patch that changes nothing stores no version.
   */
  public Written patch(ResourceStore.Tx tx, String project, String type, String id, Resource patched,
      WritePreconditions preconditions, AttachmentNormalizer.Gate gate) {
    return update(tx, project, type, id, patched, preconditions, null, null, gate, true);
  }

  private Written update(ResourceStore.Tx tx, String project, String type, String id, Resource resource,
      WritePreconditions preconditions, BlobInfo content, String filename, AttachmentNormalizer.Gate gate,
      boolean patch) {
    Long ifMatch = preconditions.ifMatch();
    requireType(type);
    ResourceIds.requireValid(id);
    if (!type.equals(resource.fhirType())) {
      throw FhirException.badRequest("the body is a " + resource.fhirType() + " but the URL names " + type);
    }
    if (!resource.hasIdElement() || resource.getIdElement().getIdPart() == null) {
      throw FhirException.badRequest("the resource in an update must have an id equal to the URL's id '" + id + "'",
          type + ".id");
    }
    if (!id.equals(resource.getIdElement().getIdPart())) {
      throw FhirException.badRequest("id '" + resource.getIdElement().getIdPart()
          + "' in the body does not match id '" + id + "' in the URL", type + ".id");
    }
    Optional<StoredResource> current = tx.current(project, type, id, true);
    preconditions.requireForUpdate(current, type, id);
    long next = current.map(c -> c.versionId() + 1).orElse(1L);
    if (content == null && "Binary".equals(type) && current.isPresent()) {
      // A Binary JSON update without data keeps the previous version's bytes.
      BinaryContent prev = tx.binaryContent(project, id, current.get().versionId()).orElse(null);
      if (prev != null) {
        content = new BlobInfo(prev.blobKey(), prev.size(), prev.sha256Hex(), prev.sha1Hex());
        filename = filename == null ? prev.filename() : filename;
      }
    }
    if (content == null && "Binary".equals(type)) {
      throw FhirException.badRequest("Binary/" + id + " has no content to keep" + (current.isPresent()
          ? " (its current version is a deletion)" : "") + ": send the bytes in data, or as the body of a raw PUT",
          "Binary.data");
    }
    if (current.isEmpty() && "Binary".equals(type)
        && !tx.binaryContentAnyProject(id, 1).isEmpty()) {
      // Signed storage URLs name a Binary by id alone, so Binary ids are unique across projects.
      throw FhirException.conflict("Binary id '" + id + "' is already in use; choose another id");
    }
    if (current.isEmpty()) {
      ResourceIds.requireAddressable(id);
    }
    boolean created = current.isEmpty() || current.get().deleted();
    return store(tx, project, type, id, resource, next, current.orElse(null), content, filename, created, gate,
        patch && !created);
  }

  /**
   * The lastUpdated of a new version: this node's clock, but never earlier than a millisecond after
   * the previous version's (written by a node whose clock may be ahead of this one's), so that the
   * versions of a resource are in the same order by time as by number: history, {@code _since} and
   * {@code meta.lastUpdated} never go backwards.
   */
  private Instant lastUpdated(StoredResource previous) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    if (previous == null || previous.lastUpdated() == null) {
      return now;
    }
    Instant floor = previous.lastUpdated().truncatedTo(ChronoUnit.MILLIS).plusMillis(1);
    return now.isBefore(floor) ? floor : now;
  }

  private static void stamp(Resource resource, long versionId, Instant lastUpdated) {
    resource.getMeta().setVersionId(Long.toString(versionId));
    // a new element: Meta.setLastUpdated would keep the precision and time zone the client sent;
    // in UTC, not the node's zone, so that nodes in other zones store the same text for the same
    // instant and an update that changes nothing is found equal whichever node wrote the last one
    InstantType at = new InstantType(Date.from(lastUpdated));
    at.setTimeZoneZulu(true);
    resource.getMeta().setLastUpdatedElement(at);
  }

  /**
   * The start of a stamped resource's compact JSON as HAPI's encoder writes it: resourceType, id
   * (validated, so never escaped), then Meta, whose first elements are versionId and lastUpdated.
   */
  private static String stampedHead(String type, String id, Resource stamped) {
    return "{\"resourceType\":\"" + type + "\",\"id\":\"" + id + "\",\"meta\":{\"versionId\":\""
        + stamped.getMeta().getVersionId() + "\",\"lastUpdated\":\""
        + stamped.getMeta().getLastUpdatedElement().getValueAsString() + "\"";
  }

  private static Instant stampedAt(Resource stamped) {
    return stamped.getMeta().getLastUpdated().toInstant();
  }

  /** The tag a subsetted resource carries (FHIR R4 search.html#summary). */
  public static final String SUBSETTED_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

  /**
   * 400 for a resource tagged {@code SUBSETTED}: one read with {@code _summary} or {@code _elements}
   * lacks elements, and R4 search.html#summary gives the tag so that it is not written over the whole
   * resource. Every write (create, update, patch, Bundle entry) stores through here.
   */
  private static void requireWhole(String type, Resource resource) {
    if (resource.hasMeta() && resource.getMeta().getTag(SUBSETTED_SYSTEM, "SUBSETTED") != null) {
      throw FhirException.badRequest("the " + type + " carries the tag SUBSETTED (" + SUBSETTED_SYSTEM
          + "): it is an incomplete copy read with _summary or _elements, and is never stored; read it whole, "
          + "change that, and send it without the tag", type + ".meta.tag");
    }
  }

  private Written store(ResourceStore.Tx tx, String project, String type, String id, Resource resource,
      long versionId, StoredResource previous, BlobInfo content, String filename, boolean created,
      AttachmentNormalizer.Gate gate, boolean patched) {
    requireWhole(type, resource);
    resource.setId(type + "/" + id);
    boolean mayBeSame = !created && previous != null && !previous.deleted() && !(resource instanceof Binary);
    // as the current version first, so that an update that changes nothing is found equal to it below
    if (mayBeSame) {
      stamp(resource, previous.versionId(), previous.lastUpdated());
    } else {
      stamp(resource, versionId, lastUpdated(previous));
    }
    FoundAttachments attachments = normalizer.normalize(tx, project, resource, gate);
    if (resource instanceof Binary b) {
      if (b.hasSecurityContext()) {
        b.getSecurityContext().setReference(requireSecurityContextForm(b.getSecurityContext().getReference()));
      }
      b.setData(null);
      if (!b.hasContentType()) {
        // raw content always has one: its Content-Type, or application/octet-stream without one
        throw FhirException.badRequest("Binary.contentType is required (1..1 in FHIR R4): name the media type of "
            + "the data", "Binary.contentType");
      }
      b.setIdElement(b.getIdElement().toUnqualifiedVersionless());
    }
    Optional<AttachmentSlots> slots = AttachmentSlots.encode(resource, attachments.all(), codec::toJson);
    String json = slots.map(AttachmentSlots::stored).orElseGet(() -> codec.toJson(resource));
    if (mayBeSame) {
      if (json.equals(previous.json())) {
        // An update that changes nothing makes no version (as HAPI FHIR and Medplum do): the answer
        // is the current version, its ETag unchanged, so a client's If-Match on it still holds.
        return new Written(previous, resource, false, attachments, slots.orElse(null));
      }
      String was = stampedHead(type, id, resource);
      stamp(resource, versionId, lastUpdated(previous));
      String head = stampedHead(type, id, resource);
      Optional<AttachmentSlots> restamped = slots.flatMap(s -> s.withHead(was.length(), head));
      if (json.startsWith(was) && restamped.isPresent() == slots.isPresent()) {
        // only the stamp differs from the JSON just encoded: a second encoding would cost as much as the first
        slots = restamped;
        json = slots.isPresent() ? slots.get().stored() : head + json.substring(was.length());
      } else {
        slots = AttachmentSlots.encode(resource, attachments.all(), codec::toJson);
        json = slots.map(AttachmentSlots::stored).orElseGet(() -> codec.toJson(resource));
      }
    }
    Instant now = stampedAt(resource);
    List<SearchValue> index = indexer.extract(resource, attachments.own());
    StoredResource stored = new StoredResource(project, type, id, versionId, now, false, json);
    tx.insert(stored, index, patched);
    if (resource instanceof Binary b) {
      BlobInfo c = java.util.Objects.requireNonNull(content, "a Binary version needs its content");
      tx.insertBinaryContent(new BinaryContent(project, id, versionId, c.key(), c.size(), c.sha256Hex(), c.sha1Hex(),
          b.getContentType(), filename, b.hasSecurityContext() ? b.getSecurityContext().getReference() : null, now));
    }
    Written written = new Written(stored, resource, created, attachments, slots.orElse(null));
    for (WriteListener l : listeners) {
      l.written(tx, project, written, gate);
    }
    return written;
  }

  /**
   * Deletes (a new version marked deleted): the deleted version, or empty when the resource never
   * existed, which changes nothing (FHIR R4 http.html#delete: deleting a resource that does not exist
   * succeeds, 200 or 204). Deleting what is already deleted changes nothing either. With
   * {@code If-Match}, 412 unless it is the current version (none when the resource never existed);
   * the other {@link WritePreconditions} as they say.
   */
  public Optional<StoredResource> delete(ResourceStore.Tx tx, String project, String type, String id,
      WritePreconditions preconditions) {
    requireType(type);
    ResourceIds.requireValid(id);
    return delete(tx, project, type, id, tx.current(project, type, id, true), preconditions);
  }

  /** {@link #delete} with {@code current}, the row of {@code type/id} the caller read locked (empty: none). */
  Optional<StoredResource> delete(ResourceStore.Tx tx, String project, String type, String id,
      Optional<StoredResource> current, WritePreconditions preconditions) {
    Long ifMatch = preconditions.ifMatch();
    if (current.isEmpty()) {
      return deleteNothing(type, id, preconditions);
    }
    WritePreconditions.requireAnyIfStar(ifMatch, current, type, id);
    if (ifMatch != null && ifMatch != IF_MATCH_ANY && current.get().versionId() != ifMatch) {
      throw FhirException.preconditionFailed("If-Match W/\"" + ifMatch + "\" does not match the current version W/\""
          + current.get().versionId() + "\"");
    }
    preconditions.requireAfterIfMatch(current, type, id);
    if (current.get().deleted()) {
      return current;
    }
    Instant now = lastUpdated(current.get());
    StoredResource gone = new StoredResource(project, type, id, current.get().versionId() + 1, now, true, null);
    tx.insert(gone, List.of());
    return Optional.of(gone);
  }

  /**
   * {@link #delete} of {@code type/id} as one that never existed, whether or not it did: empty, or
   * 412 for an {@code If-Match}, which needs a current version (RFC 9110 §13.1.1). For a resource
   * the caller is to be told no more of than of one never made.
   */
  public Optional<StoredResource> deleteNothing(String type, String id, WritePreconditions preconditions) {
    WritePreconditions.requireNoIfMatch(preconditions.ifMatch(), type + "/" + id + " does not exist");
    return Optional.empty();
  }

  /** The current version; 404 when it never existed, 410 when deleted. */
  public StoredResource read(ResourceStore.Tx tx, String project, String type, String id) {
    return read(tx, project, type, id, false);
  }

  /** {@link #read}; {@code lock}: its row locked until the transaction ends. */
  StoredResource read(ResourceStore.Tx tx, String project, String type, String id, boolean lock) {
    requireType(type);
    ResourceIds.requireValid(id);
    StoredResource r = tx.current(project, type, id, lock)
        .orElseThrow(() -> FhirException.notFound(type + "/" + id + " is not known"));
    if (r.deleted()) {
      throw FhirException.gone(type + "/" + id + " was deleted")
          .withHeader("ETag", "W/\"" + r.versionId() + "\"");
    }
    return r;
  }

  /** The current version even when deleted; 404 when it never existed. */
  public StoredResource readAny(ResourceStore.Tx tx, String project, String type, String id) {
    requireType(type);
    ResourceIds.requireValid(id);
    return tx.current(project, type, id, false)
        .orElseThrow(() -> FhirException.notFound(type + "/" + id + " is not known"));
  }

  /** One version; 404 when it does not exist, 410 when that version is a delete. */
  public StoredResource vread(ResourceStore.Tx tx, String project, String type, String id, long versionId) {
    requireType(type);
    ResourceIds.requireValid(id);
    StoredResource r = tx.version(project, type, id, versionId)
        .orElseThrow(() -> FhirException.notFound(type + "/" + id + "/_history/" + versionId + " is not known"));
    if (r.deleted()) {
      throw FhirException.gone(type + "/" + id + " version " + versionId + " is a deletion");
    }
    return r;
  }

  /**
   * The resource a stored version holds, or empty when its JSON cannot be read back (logged):
   * something stored before today's checks (a number beyond {@link DecimalLimits}, which Jackson
   * refuses on reading) must cost the caller one entry, never a whole search, history or Bundle.
   */
  public Optional<Resource> readable(StoredResource r) {
    try {
      return Optional.of(codec.fromJson(r.json()));
    } catch (RuntimeException e) {
      String why = e.getMessage() == null ? e.getClass().getSimpleName() : FhirCodec.clean(e.getMessage());
      LOG.warn("{}/{} version {} of project {} cannot be read back and is left out: {}", r.type(), r.id(),
          r.versionId(), r.project(), why.length() > 300 ? why.substring(0, 300) + "..." : why);
      return Optional.empty();
    }
  }

  /** The resource a stored version holds; a 500 naming the version when it cannot be read back. */
  public Resource toResource(StoredResource r) {
    return readable(r).orElseThrow(() -> new FhirException(IssueKind.EXCEPTION, describeUnreadable(r)
        + "; an administrator can find it in the server log"));
  }

  /**
   * The warning that stands in for an unreadable version: the entry of a search Bundle (search
   * mode {@code outcome}, FHIR R4 bundle.html#searchset) or the {@code response.outcome} of a
   * history or batch entry.
   */
  public static OperationOutcome unreadableOutcome(StoredResource r) {
    OperationOutcome oo = new OperationOutcome();
    oo.setId(ResourceIds.newId());
    oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.WARNING).setCode(IssueType.PROCESSING)
        .setDiagnostics(describeUnreadable(r) + " and was left out")
        .addExpression(r.type() + "/" + r.id() + "/_history/" + r.versionId());
    return oo;
  }

  private static String describeUnreadable(StoredResource r) {
    return r.type() + "/" + r.id() + " version " + r.versionId() + " is stored in a form that cannot be read back";
  }
}
