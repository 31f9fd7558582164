package org.fhirbox.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.fhirbox.auth.Principal;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.signing.BinaryUrlSigner;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.UnsignedIntType;

/**
 * Read time: every Attachment whose url is {@code Binary/{id}} (or a pinned version) and that the
 * caller may read becomes a short-lived signed URL. An Attachment the caller may not read keeps
 * {@code Binary/{id}}: one whose securityContext the caller may not read, and, for a caller whose
 * Binary reads are limited to a patient ({@code patient/} scopes), one outside that patient's
 * compartment ({@link BinaryAccess}). Runs on every outgoing resource, in {@code ResourceOutput}.
 */
public final class AttachmentSigner {
  private final FhirTerser terser;
  private final ResourceStore store;
  private final BinaryAccess access;
  private final BinaryUrlSigner signer;

  /**
   * What signing resolved: each {@code Binary/...} url to its signed URL (empty when the caller may
   * not read it or it is gone), and, for each url signed, the stored version it serves, whose size
   * and SHA-1 the Attachment is told ({@link #describe}). A presigned upload's SHA-1 is learnt
   * after its version is stored, under the same signed URL: equal {@code Signed} values, not equal
   * URLs alone, mean an equal output.
   */
  public record Signed(Map<String, Optional<String>> urls, Map<String, BinaryContent> served) {
    static final Signed NONE = new Signed(Map.of(), Map.of());
  }

  public AttachmentSigner(FhirContext ctx, ResourceStore store, BinaryAccess access, BinaryUrlSigner signer) {
    this.terser = ctx.newTerser();
    this.store = store;
    this.access = access;
    this.signer = signer;
  }

  /**
   * Signs every {@code Binary/...} Attachment url in {@code resource} (Bundle entries, contained
   * resources and Parameters included) that the caller may read, in place.
   *
   * @return what was resolved; {@link #resolve} of its urls gives an equal value for as long as
   *     the output would be the same
   */
  public Signed apply(Principal principal, Resource resource, String baseUrl) {
    return apply(principal, ResourceTree.elements(terser, resource, Attachment.class), Map.of(), baseUrl);
  }

  /** Whether an Attachment of {@code resource} names a Binary: what {@link #apply} would sign, unread and unchanged. */
  public boolean namesBinary(Resource resource) {
    return !binaryUrls(ResourceTree.elements(terser, resource, Attachment.class)).isEmpty();
  }

  /**
   * {@link #apply(Principal, Resource, String)} for a resource just written: its Attachments and
   * the content rows the writing transaction read for them are known, so only a Binary with a
   * {@code securityContext} costs a query.
   */
  public Signed apply(Principal principal, FoundAttachments found, String baseUrl) {
    return apply(principal, found.all(), found.binaries(), baseUrl);
  }

  /**
   * The signed URL of each Binary url among the Attachments a write found, as
   * {@link #apply(Principal, FoundAttachments, String)} would set them, for an answer that places
   * them itself ({@link AttachmentSlots}); the Attachments keep their urls.
   */
  public Map<String, Optional<String>> signedUrls(Principal principal, FoundAttachments found, String baseUrl) {
    List<Attachment> attachments = found.all();
    return attachments.isEmpty() ? Map.of()
        : resolve(principal, binaryUrls(attachments), baseUrl, found.binaries(), new HashMap<>());
  }

  private Signed apply(Principal principal, List<Attachment> attachments, Map<String, BinaryContent> known,
      String baseUrl) {
    if (attachments.isEmpty()) {
      return Signed.NONE;
    }
    Map<String, BinaryContent> served = new HashMap<>();
    Map<String, Optional<String>> signed = resolve(principal, binaryUrls(attachments), baseUrl, known, served);
    for (Attachment a : attachments) {
      if (a.hasUrl()) {
        String url = a.getUrl();
        signed.getOrDefault(url, Optional.empty()).ifPresent(signedUrl -> {
          a.setUrl(signedUrl);
          describe(a, url, served.get(url));
        });
      }
    }
    return new Signed(signed, served);
  }

  /**
   * An Attachment that names {@code Binary/{id}} without a version is signed for the version that
   * is current now; its {@code size} and {@code hash} were filled (or checked) from the version
   * current when it was written, and a new version of the Binary since then would leave them
   * describing other bytes than the URL serves, which a client echoing the resource back would
   * then see refused as contradicting the Binary. They are given as the served version's.
   * {@code contentType} is the writer's and stays. Only for a reader the URL is signed for, so
   * nothing is told of a Binary it may not read; equal signed URLs name equal versions, which keeps
   * a reused encoding right ({@code ResourceOutput}).
   */
  private static void describe(Attachment a, String url, BinaryContent c) {
    if (c == null || BinaryRef.tryParseRelative(url).filter(ref -> ref.versionId() == null).isEmpty()) {
      return;
    }
    // R4 Attachment.size is an unsignedInt; a hash still being learnt (a direct upload) is unknown
    a.setSizeElement(c.size() <= Integer.MAX_VALUE ? new UnsignedIntType((int) c.size()) : null);
    a.setHashElement(c.sha1Hex() == null ? null : new Base64Text(HexFormat.of().parseHex(c.sha1Hex())));
  }

  private static List<String> binaryUrls(List<Attachment> attachments) {
    Set<String> urls = new LinkedHashSet<>();
    for (Attachment a : attachments) {
      if (a.hasUrl() && BinaryRef.tryParseRelative(a.getUrl()).isPresent()) {
        urls.add(a.getUrl());
      }
    }
    return List.copyOf(urls);
  }

  /**
   * The signed URL for each of {@code urls} ({@code Binary/...} references); empty for a Binary that
   * is gone or that the caller may not read. Equal inputs within one signing window give equal
   * results, which is what lets a response encoded earlier be reused.
   */
  public Signed resolve(Principal principal, List<String> urls, String baseUrl) {
    Map<String, BinaryContent> served = new HashMap<>();
    Map<String, Optional<String>> signed = resolve(principal, urls, baseUrl, Map.of(), served);
    return urls.isEmpty() ? Signed.NONE : new Signed(signed, served);
  }

  /** @param served filled with the version each signed url serves */
  private Map<String, Optional<String>> resolve(Principal principal, List<String> urls, String baseUrl,
      Map<String, BinaryContent> known, Map<String, BinaryContent> served) {
    if (urls.isEmpty()) {
      return Map.of();
    }
    Map<String, Optional<String>> signed = new HashMap<>();
    List<String> rest = new ArrayList<>();
    for (String url : urls) {
      BinaryContent c = known.get(url);
      if (c != null && !access.needsLookup(principal, c)) {
        boolean readable = access.canReadIgnoringContext(principal, c);
        signed.put(url, readable ? Optional.of(signer.sign(baseUrl, c, null)) : Optional.empty());
        if (readable) {
          served.put(url, c);
        }
      } else {
        rest.add(url);
      }
    }
    if (!rest.isEmpty()) {
      store.read(tx -> {
        for (String url : rest) {
          BinaryRef.tryParseRelative(url).ifPresent(ref -> {
            Optional<BinaryContent> c = readable(tx, principal, ref);
            c.ifPresent(content -> served.put(url, content));
            signed.put(url, c.map(content -> signer.sign(baseUrl, content, null)));
          });
        }
        return null;
      });
    }
    return signed;
  }

  private Optional<BinaryContent> readable(ResourceStore.Tx tx, Principal principal, BinaryRef ref) {
    Optional<BinaryContent> content = ref.versionId() == null
        ? tx.currentBinaryContent(principal.project(), ref.id())
        : tx.binaryContent(principal.project(), ref.id(), ref.versionId());
    return content.filter(c -> access.canRead(tx, principal, c));
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

  /** The longest lifetime of a share link. */
  public static final Duration MAX_SHARE_LIFETIME = BinaryUrlSigner.MAX_LIFETIME;

  /**
   * A share link: lives exactly {@code lifetime}, bound to {@code contextVersions}, see
   * {@link BinaryUrlSigner#signFor(String, BinaryContent, String, Duration, List)}.
   */
  public String signedShareUrl(BinaryContent content, String baseUrl, String filename, Duration lifetime,
      List<Long> contextVersions) {
    return signer.signFor(baseUrl, content, filename, lifetime, contextVersions);
  }
}
