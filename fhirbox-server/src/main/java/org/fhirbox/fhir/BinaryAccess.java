package org.fhirbox.fhir;

import java.util.List;
import org.fhirbox.core.FhirException;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;

/**
 * Who may read a Binary's content — raw, as JSON, by {@code $presigned-url}, or by having an
 * Attachment signed: read access to Binary and, when the Binary has a {@code securityContext},
 * read access to that resource (same project, not deleted). Every read path asks here,
 * including the ones that return a Binary's metadata inside a Bundle (batch and transaction
 * {@code GET}, the three history levels, search): {@link #canReadVersion}.
 */
public final class BinaryAccess {
  private final ResourceStore store;

  public BinaryAccess(ResourceStore store) {
    this.store = store;
  }

  public boolean canRead(ResourceStore.Tx tx, Principal principal, BinaryContent content) {
    if (!canReadIgnoringContext(principal, content)) {
      return false;
    }
    String ctx = content.securityContext();
    if (ctx == null) {
      return true;
    }
    int slash = ctx.indexOf('/');
    if (slash <= 0) {
      return false;
    }
    String type = ctx.substring(0, slash);
    String id = ctx.substring(slash + 1);
    if (!principal.access().allows(type, Interaction.READ)) {
      return false;
    }
    return tx.current(principal.project(), type, id, false).map(r -> !r.deleted()).orElse(false);
  }

  /** Whether deciding {@link #canRead} needs the database: only a securityContext does. */
  public boolean needsLookup(BinaryContent content) {
    return content.securityContext() != null;
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
    if (!s.type().equals("Binary")) {
      return true;
    }
    long version = s.deleted() ? s.versionId() - 1 : s.versionId();
    return tx.binaryContent(s.project(), s.id(), version).map(c -> canRead(tx, principal, c)).orElse(false);
  }

  /** 403 unless {@link #canReadVersion}. */
  public void requireReadVersion(ResourceStore.Tx tx, Principal principal, StoredResource s) {
    if (!canReadVersion(tx, principal, s)) {
      throw FhirException.forbidden("no read access to " + s.type() + "/" + s.id()
          + " or to the resource named by its securityContext");
    }
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

  /** 403 unless {@link #canRead}. */
  public void requireRead(Principal principal, BinaryContent content) {
    if (!store.read(tx -> canRead(tx, principal, content))) {
      throw FhirException.forbidden("no read access to Binary/" + content.binaryId()
          + (content.securityContext() == null ? "" : " or to its securityContext " + content.securityContext()));
    }
  }
}
