package org.fhirbox.fhir;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.fhirbox.core.FhirException;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;

/**
 * Who may read a Binary's content — raw, as JSON, by {@code $presigned-url}, or by having an
 * Attachment signed: read access to Binary and, when the Binary has a {@code securityContext},
 * read access to that resource (same project, not deleted; when the caller reads that resource's
 * type only through {@code patient/} scopes, in the launch patient's compartment). When the caller's Binary reads are
 * limited to its launch patient ({@code patient/} scopes), the Binary must also be in that
 * patient's compartment ({@link PatientCompartment#containsBinary}); one that is not is answered
 * as if it did not exist (404), as any resource outside the compartment is. Every read path asks
 * here, including the ones that return a Binary's metadata inside a Bundle (batch and transaction
 * {@code GET}, the three history levels, search): {@link #canReadVersion}.
 */
public final class BinaryAccess {
  /** What a caller may do with one Binary version. */
  public enum Verdict {
    READ,
    /** 403: the scopes or the securityContext refuse it. */
    FORBIDDEN,
    /** 404: outside the compartment the caller's {@code patient/} scopes are limited to. */
    HIDDEN
  }

  /** The most Binaries one read follows through their securityContexts ({@link #throughBinary}). */
  private static final int CONTEXT_HOPS = 16;
  private final ResourceStore store;
  private final PatientCompartment compartment;

  public BinaryAccess(ResourceStore store, PatientCompartment compartment) {
    this.store = store;
    this.compartment = compartment;
  }

  /**
   * 403 unless {@code principal} may read resources of the type {@code securityContext} (a
   * reference like {@code Patient/123}, its form already checked) names. A writer files a Binary
   * only under a type it may read: it could never read the Binary back ({@link #verdict}), and
   * would put content in a record it cannot see. Asked before whether that resource exists, and
   * the answer names the type only, so that it is the same whatever exists.
   */
  public static void requireContextTypeReadable(Principal principal, String securityContext) {
    int slash = securityContext.indexOf('/');
    String type = slash <= 0 ? securityContext : securityContext.substring(0, slash);
    if (!principal.access().allows(type, Interaction.READ)) {
      throw FhirException.forbidden("Binary.securityContext names a resource of type " + type + ", which the access"
          + " token may not read: a Binary is filed only under a resource its writer may read");
    }
  }

  /**
   * 403 when {@code securityContext} names a Binary of the caller's project that exists and that the
   * caller may not read ({@link #verdict}): the Binary written would be no more readable to its
   * writer than one filed under a type it may not read ({@link #requireContextTypeReadable}). A
   * Binary that does not exist is left to the write's own check (400).
   */
  public void requireContextBinaryReadable(ResourceStore.Tx tx, Principal principal, String securityContext) {
    if (!securityContext.startsWith("Binary/")) {
      return;
    }
    String id = securityContext.substring("Binary/".length());
    Optional<StoredResource> named = tx.current(principal.project(), "Binary", id, false).filter(s -> !s.deleted());
    if (named.isPresent() && verdict(tx, principal, named.get()) != Verdict.READ) {
      throw FhirException.forbidden("Binary.securityContext names " + securityContext + ", which the access token"
          + " may not read: a Binary is filed only under a resource its writer may read");
    }
  }

  public boolean canRead(ResourceStore.Tx tx, Principal principal, BinaryContent content) {
    return verdict(tx, principal, content) == Verdict.READ;
  }

  /** Whether {@code principal} may read {@code content}, and if not, how to say so. */
  public Verdict verdict(ResourceStore.Tx tx, Principal principal, BinaryContent content) {
    return verdict(tx, principal, content, Set.of());
  }

  /** {@link #verdict}, for a Binary reached through the securityContexts of the Binaries {@code below}. */
  private Verdict verdict(ResourceStore.Tx tx, Principal principal, BinaryContent content, Set<String> below) {
    if (!canReadIgnoringContext(principal, content)) {
      return Verdict.FORBIDDEN;
    }
    String ctx = content.securityContext();
    String type = contextType(content);
    String id = null;
    if (ctx != null) {
      if (type == null) {
        return Verdict.FORBIDDEN;
      }
      id = ctx.substring(type.length() + 1);
      if (!principal.access().allows(type, Interaction.READ)) {
        return Verdict.FORBIDDEN;
      }
    }
    if (compartment.limited(principal, "Binary", Interaction.READ)) {
      if (principal.patient().isEmpty()) {
        return Verdict.FORBIDDEN;
      }
      return compartment.containsBinary(tx, content, principal.patient().get()) ? Verdict.READ : Verdict.HIDDEN;
    }
    if (ctx == null) {
      return Verdict.READ;
    }
    if (compartment.limited(principal, type, Interaction.READ)) {
      // a wider Binary grant, but the context's type only through patient/ scopes: the context
      // must be in the launch patient's compartment, or the Binary is as absent as it is
      if (principal.patient().isEmpty()) {
        return Verdict.FORBIDDEN;
      }
      return compartment.containsCurrent(tx, content.project(), type, id, principal.patient().get())
          ? Verdict.READ : Verdict.HIDDEN;
    }
    Optional<StoredResource> named = tx.current(principal.project(), type, id, false).filter(r -> !r.deleted());
    if (named.isEmpty()) {
      return Verdict.FORBIDDEN;
    }
    return type.equals("Binary") ? throughBinary(tx, principal, content, named.get(), below) : Verdict.READ;
  }

  /**
   * A securityContext naming another Binary: reading that Binary takes what its own securityContext
   * asks (FHIR R4 binary.html#security: the Binary is as sensitive as the resource it names), else
   * content filed under it would be read by a caller who may not read it. A chain that comes back
   * to a Binary version already on it (one filed under itself) adds no resource to read: every
   * version of the cycle is judged on the way. Longer chains than {@link #CONTEXT_HOPS} are refused, so that one
   * read costs a bounded number of lookups.
   */
  private Verdict throughBinary(ResourceStore.Tx tx, Principal principal, BinaryContent content, StoredResource named,
      Set<String> below) {
    Set<String> chain = new HashSet<>(below);
    chain.add(content.binaryId() + "/_history/" + content.versionId());
    if (chain.contains(named.id() + "/_history/" + named.versionId())) {
      return Verdict.READ;
    }
    if (chain.size() >= CONTEXT_HOPS) {
      return Verdict.FORBIDDEN;
    }
    return tx.binaryContent(named.project(), named.id(), named.versionId())
        .map(c -> verdict(tx, principal, c, chain) == Verdict.READ ? Verdict.READ : Verdict.FORBIDDEN)
        .orElse(Verdict.FORBIDDEN);
  }

  /**
   * The types whose read {@link #verdict} asks for {@code content}: its securityContext's, and where
   * that names a Binary, the types that Binary's current version asks for in turn, in chain order
   * ({@link #contextChain}). Empty for a Binary without one.
   */
  public List<String> contextTypes(ResourceStore.Tx tx, BinaryContent content) {
    return contextChain(tx, content).types();
  }

  /**
   * Whether the resource {@code content}'s securityContext names is current and not deleted, and,
   * where that is a Binary, the same of that Binary's current version in turn, as its read asks
   * ({@link #verdict}; {@link #contextChain}). True for a Binary without a securityContext.
   */
  public boolean contextExists(ResourceStore.Tx tx, BinaryContent content) {
    return contextChain(tx, content).exists();
  }

  /**
   * The versions of the resources along {@code content}'s securityContext chain ({@link #contextChain})
   * as they stand now, in chain order: what a share link is bound to ({@link #contextSince}); 0 for
   * one that is not there now (deleted, or never made); empty for a Binary without a securityContext.
   */
  public List<Long> contextVersions(ResourceStore.Tx tx, BinaryContent content) {
    return contextChain(tx, content).steps().stream().map(Step::version).toList();
  }

  /** What became of a securityContext chain since a share link was bound to its versions ({@link #contextSince}). */
  public enum ContextSince {
    /** Every resource bound is there as the same resource, at that version or a later one. */
    SAME,
    /** A resource bound has a deletion after the version bound, also where one was created again under its id. */
    DELETED,
    /** A Binary bound now has another securityContext than at the version bound: the chain leads elsewhere. */
    MOVED
  }

  /**
   * Checks {@code content}'s securityContext chain, step by step as {@link #contextChain} walks it
   * now, against {@code versions} ({@link #contextVersions} when a share link was made; a shorter
   * list binds only its first steps): {@link ContextSince#DELETED} once a resource on it has a
   * deletion after its version, also when one was created again under its id, which may be another
   * patient's record; {@link ContextSince#MOVED} once a Binary on it has another securityContext
   * than at its version, so that the next step would be checked against another resource's version.
   * The caller has checked that {@code content}'s own securityContext is the one the link was made
   * under.
   */
  public ContextSince contextSince(ResourceStore.Tx tx, BinaryContent content, List<Long> versions) {
    List<Step> steps = contextChain(tx, content).steps();
    for (int i = 0; i < Math.min(steps.size(), versions.size()); i++) {
      Step step = steps.get(i);
      long bound = versions.get(i);
      if (tx.deletedAfter(content.project(), step.type(), step.id(), bound)) {
        return ContextSince.DELETED;
      }
      if (step.reached() != null && step.version() != bound && !filedAlike(tx, step, bound)) {
        return ContextSince.MOVED;
      }
    }
    return ContextSince.SAME;
  }

  /** Whether the Binary of {@code step} had, at version {@code bound}, the securityContext it has now. */
  private static boolean filedAlike(ResourceStore.Tx tx, Step step, long bound) {
    return tx.binaryContent(step.reached().project(), step.id(), bound)
        .map(c -> Objects.equals(c.securityContext(), step.reached().securityContext())).orElse(false);
  }

  /**
   * One resource along a securityContext chain: its type, id and current version (0: not there),
   * and for a Binary, the content of that version, whose securityContext is the next step.
   */
  private record Step(String type, String id, long version, BinaryContent reached) {}

  /** The resources along a securityContext chain, and whether every one of them is there. */
  private record ContextChain(List<Step> steps, boolean exists) {
    List<String> types() {
      return steps.stream().map(Step::type).toList();
    }
  }

  /**
   * Follows {@code content}'s securityContext, and where it names a Binary, that Binary's current
   * version's in turn, as {@link #verdict} does: a chain that comes back to a Binary version already
   * on it ends there (every resource on it seen), one longer than {@link #CONTEXT_HOPS} Binaries, or
   * that names no resource in the form {@code Type/id}, counts as gone.
   */
  private static ContextChain contextChain(ResourceStore.Tx tx, BinaryContent content) {
    List<Step> steps = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    BinaryContent c = content;
    while (true) {
      String type = contextType(c);
      if (type == null) {
        return new ContextChain(steps, c.securityContext() == null);
      }
      if (!seen.add(c.binaryId() + "/_history/" + c.versionId())) {
        return new ContextChain(steps, true);
      }
      if (seen.size() > CONTEXT_HOPS) {
        return new ContextChain(steps, false);
      }
      String id = c.securityContext().substring(type.length() + 1);
      Optional<StoredResource> named = tx.current(c.project(), type, id, false).filter(r -> !r.deleted());
      long version = named.map(StoredResource::versionId).orElse(0L);
      if (named.isEmpty() || !type.equals("Binary")) {
        steps.add(new Step(type, id, version, null));
        return new ContextChain(steps, named.isPresent());
      }
      Optional<BinaryContent> next = tx.binaryContent(c.project(), id, version);
      steps.add(new Step(type, id, version, next.orElse(null)));
      if (next.isEmpty()) {
        return new ContextChain(steps, false);
      }
      c = next.get();
    }
  }

  /**
   * Whether deciding {@link #canRead} needs the database: a securityContext does, and so does any
   * Binary when the caller's Binary reads are limited to a patient's compartment.
   */
  public boolean needsLookup(Principal principal, BinaryContent content) {
    return content.securityContext() != null || compartment.limited(principal, "Binary", Interaction.READ);
  }

  /** {@link #canRead} for content that does not {@link #needsLookup}: same project, Binary read scope. */
  public boolean canReadIgnoringContext(Principal principal, BinaryContent content) {
    return principal.project().equals(content.project()) && principal.access().allows("Binary", Interaction.READ);
  }

  /**
   * {@link #canRead} for a stored version of any type, as it appears in a Bundle: true for every
   * type but Binary (whose type-level access the caller checked); for a Binary, the content row
   * of that version, or for a deletion the version it deleted, so a deletion tells no more than
   * the Binary did.
   */
  public boolean canReadVersion(ResourceStore.Tx tx, Principal principal, StoredResource s) {
    return verdict(tx, principal, s) == Verdict.READ;
  }

  /** {@link #verdict(ResourceStore.Tx, Principal, BinaryContent)} for a stored version ({@link #canReadVersion}). */
  public Verdict verdict(ResourceStore.Tx tx, Principal principal, StoredResource s) {
    if (!s.type().equals("Binary")) {
      return Verdict.READ;
    }
    long version = s.deleted() ? s.versionId() - 1 : s.versionId();
    return tx.binaryContent(s.project(), s.id(), version).map(c -> verdict(tx, principal, c))
        .orElse(Verdict.FORBIDDEN);
  }

  /** 403 unless {@link #canReadVersion}; 404 for a Binary outside the caller's patient compartment. */
  public void requireReadVersion(ResourceStore.Tx tx, Principal principal, StoredResource s) {
    Verdict v = verdict(tx, principal, s);
    if (v == Verdict.HIDDEN) {
      throw notKnown(s.id());
    }
    if (v != Verdict.READ) {
      throw noRead(s);
    }
  }

  private static FhirException noRead(StoredResource s) {
    return FhirException.forbidden("no read access to " + s.type() + "/" + s.id()
        + " or to the resource named by its securityContext");
  }

  /**
   * The check before any new version of {@code Binary/{id}} (raw PUT, tus or upload URL, FHIR JSON
   * update single or in a Bundle): new bytes, or the kept bytes under a new securityContext, follow
   * the current version's securityContext, as its reads do (FHIR R4 binary.html#security), so the
   * writer gets the answer a read of the current version gets (403, or 404 outside its patient
   * compartment); else a writer that may not see a patient's content could replace it and, naming
   * no context, leave it unprotected. Nothing is checked for a Binary that does not exist or is
   * deleted: the write answers for it.
   *
   * <p>One exception: when the current securityContext names a resource that was deleted or is
   * gone, no one may read the current version, and a caller whose Binary reads are not limited to
   * a patient moves it by naming a new securityContext ({@code named}) whose resource it may read,
   * as the new version is then judged ({@link #verdict}); else a Binary filed under a merged-away
   * patient could never be filed again. A move that keeps the bytes (a JSON update without
   * {@code data}) hands the caller bytes that were filed under that resource, so it also needs
   * what reading them took while it existed ({@link #couldReadWhileContextExisted}); a caller without
   * it moves the Binary with new bytes only, and the old ones stay out of everyone's reach.
   *
   * @param named the securityContext the new version names, or null
   * @param keepsBytes whether the new version keeps the current version's bytes
   * @return the current version, when it exists and is not deleted
   */
  public Optional<StoredResource> requireReplaceable(ResourceStore.Tx tx, Principal principal, String id,
      String named, boolean keepsBytes) {
    Optional<StoredResource> current = tx.current(principal.project(), "Binary", id, false).filter(s -> !s.deleted());
    current.ifPresent(s -> {
      Optional<BinaryContent> gone = named == null || compartment.limited(principal, "Binary", Interaction.READ)
          || verdict(tx, principal, s) == Verdict.READ ? Optional.empty()
          : tx.binaryContent(s.project(), s.id(), s.versionId()).filter(c -> contextGone(tx, c));
      if (gone.isEmpty() || keepsBytes && !couldReadWhileContextExisted(principal, gone.get())) {
        requireReadVersion(tx, principal, s);
      } else if (verdict(tx, principal, withContext(gone.get(), named)) != Verdict.READ) {
        throw FhirException.forbidden("no read access to " + named + ", the securityContext named for Binary/" + id
            + ", whose current securityContext names a resource that no longer exists");
      }
    });
    return current;
  }

  /**
   * Whether {@code principal} could read {@code content}, whose securityContext names a resource
   * that no longer exists, while that resource did: Binary read, and read of that resource's type
   * without a patient limit. A caller with that grant read every resource of the type, and so these
   * bytes, before the deletion; moving them under a new securityContext gives it nothing more. One
   * whose grant on that type is limited to a patient's compartment cannot be told whether the
   * resource was in it (a deleted resource is in no compartment), and is refused.
   */
  private boolean couldReadWhileContextExisted(Principal principal, BinaryContent content) {
    String type = contextType(content);
    return canReadIgnoringContext(principal, content) && principal.access().allows(type, Interaction.READ)
        && !compartment.limited(principal, type, Interaction.READ);
  }

  /**
   * The check before a delete of {@code Binary/{id}} (single, conditional, or in a Bundle): deleting
   * a Binary takes what reading it takes ({@link #verdict}), else a caller that may not see a
   * patient's content could remove it. Binary read is required before anything is looked up, so
   * that a caller without it is 403 whether the Binary exists or not, as its read is
   * ({@link #requireDeleteGrant}, which the caller asks first too). Then, for {@code current}, the
   * Binary's row read locked until the delete: 403 for a Binary the caller may not read, as its read answers;
   * false, to be answered as for a Binary that never existed, for one outside the caller's patient
   * compartment and for a deletion of a version the caller could not read, both of which a read
   * answers 404 as for one never made ({@link #requireVisible}); else true.
   */
  public boolean requireDeletable(ResourceStore.Tx tx, Principal principal, Optional<StoredResource> current) {
    requireDeleteGrant(principal);
    if (current.isEmpty()) {
      return true;
    }
    Verdict v = verdict(tx, principal, current.get());
    if (v == Verdict.FORBIDDEN && !current.get().deleted()) {
      throw noRead(current.get());
    }
    return v == Verdict.READ;
  }

  /**
   * 403 unless {@code principal} may read Binaries, the grant a delete of a Binary takes before
   * anything is looked up ({@link #requireDeletable}), by id or by condition: a refusal that
   * depended on what exists, such as a patient compartment's 404, would tell a caller that may not
   * read Binaries which ids exist.
   */
  public static void requireDeleteGrant(Principal principal) {
    principal.require("Binary", Interaction.READ);
  }

  /** Whether the resource {@code content}'s securityContext names was deleted or is gone. */
  private static boolean contextGone(ResourceStore.Tx tx, BinaryContent content) {
    String type = contextType(content);
    return type != null && tx.current(content.project(), type,
        content.securityContext().substring(type.length() + 1), false).map(StoredResource::deleted).orElse(true);
  }

  /** The type {@code content}'s securityContext names ({@code Patient} of {@code Patient/123}); null for none. */
  private static String contextType(BinaryContent content) {
    String ctx = content.securityContext();
    int slash = ctx == null ? -1 : ctx.indexOf('/');
    return slash > 0 ? ctx.substring(0, slash) : null;
  }

  private static BinaryContent withContext(BinaryContent c, String securityContext) {
    return new BinaryContent(c.project(), c.binaryId(), c.versionId(), c.blobKey(), c.size(), c.sha256Hex(),
        c.sha1Hex(), c.contentType(), c.filename(), securityContext, c.lastUpdated());
  }

  /**
   * The versions of {@code items} the caller may read, in order. FHIR R4 security.html leaves it
   * to the server to filter what a client may not see out of search and history results rather
   * than refuse the whole request; Binaries withheld here are simply absent from the page.
   */
  public List<StoredResource> readable(Principal principal, List<StoredResource> items) {
    if (items.stream().noneMatch(s -> s.type().equals("Binary"))) {
      return items;
    }
    return store.read(tx -> readable(tx, principal, items));
  }

  /** {@link #readable(Principal, List)} inside the caller's transaction. */
  public List<StoredResource> readable(ResourceStore.Tx tx, Principal principal, List<StoredResource> items) {
    if (items.stream().noneMatch(s -> s.type().equals("Binary"))) {
      return items;
    }
    return items.stream().filter(s -> canReadVersion(tx, principal, s)).toList();
  }

  /**
   * Whether {@link #readable} may leave Binaries out of {@code principal}'s search results: false
   * only for a caller that reads every type without a patient limit, whose reads a
   * {@code securityContext} refuses only where the resource it names was deleted since (or is an
   * AuditEvent, for a caller that is no admin).
   */
  public boolean mayWithhold(Principal principal) {
    return !principal.access().allows("*", Interaction.READ)
        || principal.access().limitedToPatient("*", Interaction.READ);
  }

  /** 403 unless {@link #canRead}; 404 for a Binary outside the caller's patient compartment. */
  public void requireRead(Principal principal, BinaryContent content) {
    refuseUnlessRead(store.read(tx -> verdict(tx, principal, content)), content);
  }

  /**
   * {@link #requireRead(Principal, BinaryContent)}, then {@code then} in the same transaction (one
   * snapshot of the database), so that what it reads is the state the check passed on.
   */
  public <T> T requireRead(Principal principal, BinaryContent content, ResourceStore.Work<T> then) {
    return store.readSnapshot(tx -> {
      refuseUnlessRead(verdict(tx, principal, content), content);
      return then.run(tx);
    });
  }

  private static void refuseUnlessRead(Verdict v, BinaryContent content) {
    if (v == Verdict.HIDDEN) {
      throw notKnown(content.binaryId());
    }
    if (v != Verdict.READ) {
      throw FhirException.forbidden("no read access to Binary/" + content.binaryId()
          + (content.securityContext() == null ? "" : " or to its securityContext " + content.securityContext()));
    }
  }

  /**
   * 404, worded as for a Binary that never existed, before a lookup could tell 410 from 404: for a
   * caller whose Binary reads are limited to a patient, when {@code Binary/{id}} (at
   * {@code version}, or its current version when null) exists outside the compartment, deleted or
   * not (403 without a patient context); for any caller, when that is a deletion and the caller
   * could not read the version it deleted ({@link #verdict}), so a deletion tells no more than the
   * Binary did. Nothing else: the lookup and the read check answer the rest.
   */
  public void requireVisible(ResourceStore.Tx tx, Principal principal, String id, Long version) {
    ResourceIds.requireValid(id);
    compartment.limit(principal, "Binary", Interaction.READ)
        .ifPresent(patient -> compartment.requireVisible(tx, principal.project(), patient, "Binary", id, version));
    Optional<StoredResource> s = version == null ? tx.current(principal.project(), "Binary", id, false)
        : tx.version(principal.project(), "Binary", id, version);
    if (s.isPresent() && s.get().deleted() && verdict(tx, principal, s.get()) != Verdict.READ) {
      throw notKnown(id);
    }
  }

  /** The answer for a Binary that does not exist, word for word, so that one outside the compartment looks alike. */
  static FhirException notKnown(String id) {
    return FhirException.notFound("Binary/" + id + " is not known");
  }
}
