package org.fhirbox.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.auth.Principal;
import org.fhirbox.binary.BinaryContent;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.signing.BinaryUrlSigner;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Resource;

/**
 * Read time: every Attachment whose url is {@code Binary/{id}} (or a pinned version) and that the
 * caller may read becomes a short-lived signed URL. An Attachment the caller may not read keeps
 * {@code Binary/{id}}. Runs on every outgoing resource via {@link OutgoingFilter}.
 */
public final class AttachmentSigner implements OutgoingFilter {
  private final FhirTerser terser;
  private final ResourceStore store;
  private final BinaryAccess access;
  private final BinaryUrlSigner signer;

  public AttachmentSigner(FhirContext ctx, ResourceStore store, BinaryAccess access, BinaryUrlSigner signer) {
    this.terser = ctx.newTerser();
    this.store = store;
    this.access = access;
    this.signer = signer;
  }

  @Override
  public void apply(Principal principal, Resource resource, String baseUrl) {
    List<Attachment> attachments = ResourceTree.elements(terser, resource, Attachment.class);
    if (attachments.isEmpty()) {
      return;
    }
    Map<String, Optional<String>> signed = new HashMap<>();
    store.read(tx -> {
      for (Attachment a : attachments) {
        if (!a.hasUrl()) {
          continue;
        }
        Optional<BinaryRef> ref = BinaryRef.tryParseRelative(a.getUrl());
        if (ref.isEmpty()) {
          continue;
        }
        signed.computeIfAbsent(a.getUrl(), k -> sign(tx, principal, ref.get(), baseUrl))
            .ifPresent(a::setUrl);
      }
      return null;
    });
  }

  private Optional<String> sign(ResourceStore.Tx tx, Principal principal, BinaryRef ref, String baseUrl) {
    Optional<BinaryContent> content = ref.versionId() == null
        ? tx.currentBinaryContent(principal.project(), ref.id())
        : tx.binaryContent(principal.project(), ref.id(), ref.versionId());
    return content.filter(c -> access.canRead(tx, principal, c)).map(c -> signer.sign(baseUrl, c, null));
  }

  /** The signed URL of one Binary version, if the caller may read it. */
  public Optional<String> signedUrl(ResourceStore.Tx tx, Principal principal, String id, long version,
      String baseUrl) {
    Optional<BinaryContent> content = tx.binaryContent(principal.project(), id, version);
    if (content.isEmpty() || !access.canRead(tx, principal, content.get())) {
      return Optional.empty();
    }
    return Optional.of(signer.sign(baseUrl, content.get(), null));
  }

  /** A signed URL that asks for an attachment download with the given file name. */
  public String signedDownloadUrl(BinaryContent content, String baseUrl, String filename) {
    return signer.sign(baseUrl, content, filename);
  }
}
