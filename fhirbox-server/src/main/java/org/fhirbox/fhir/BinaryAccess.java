package org.fhirbox.fhir;

import org.fhirbox.core.FhirException;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.db.BinaryContent;
import org.fhirbox.db.ResourceStore;

/**
 * Who may read a Binary's content — raw, as JSON, by {@code $presigned-url}, or by having an
 * Attachment signed: read access to Binary and, when the Binary has a {@code securityContext},
 * read access to that resource (same project, not deleted). Every read path asks here.
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

  /** 403 unless {@link #canRead}. */
  public void requireRead(Principal principal, BinaryContent content) {
    if (!store.read(tx -> canRead(tx, principal, content))) {
      throw FhirException.forbidden("no read access to Binary/" + content.binaryId()
          + (content.securityContext() == null ? "" : " or to its securityContext " + content.securityContext()));
    }
  }
}
