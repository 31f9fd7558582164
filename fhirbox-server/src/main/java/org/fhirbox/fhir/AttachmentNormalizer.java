package org.fhirbox.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Base64BinaryType;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.UnsignedIntType;
import org.hl7.fhir.r4.model.UrlType;

/**
 * Write time: every Attachment (found by type, however deeply nested, in extensions and in
 * contained resources) whose url points at one of our Binaries is stored as {@code Binary/{id}}
 * (or {@code Binary/{id}/_history/{vid}} when the writer pinned a version), and its
 * {@code size}, {@code hash} and {@code contentType} are filled from the Binary.
 */
public final class AttachmentNormalizer {
  private static final String SENT = "fhirbox.attachment.sent";
  private final FhirTerser terser;
  private final Function<String, Optional<Recognized>> recognizer;

  /**
   * One of our URLs. {@code signed} marks a signed storage URL: it always names a version, but a
   * client that echoes back the URL of the current version meant the Binary, not that version.
   * {@code thumbnail} marks the signed URL of a version's thumbnail, which is not the Binary's
   * content: an Attachment may not name it ({@link #normalize}).
   */
  public record Recognized(BinaryRef ref, boolean signed, boolean thumbnail) {
    public Recognized(BinaryRef ref, boolean signed) {
      this(ref, signed, false);
    }
  }

  /**
   * @param recognizer maps one of our absolute URLs (FHIR REST URL under one of our base URLs, or a
   *     signed storage URL) to the Binary it names; relative {@code Binary/..} is handled here.
   */
  public AttachmentNormalizer(FhirContext ctx, Function<String, Optional<Recognized>> recognizer) {
    this.terser = ctx.newTerser();
    this.recognizer = recognizer;
  }

  /** The Binary an Attachment url names, if it is one of ours. */
  public Optional<Recognized> recognise(String url) {
    Optional<BinaryRef> rel = BinaryRef.tryParseRelative(url);
    return rel.isPresent() ? Optional.of(new Recognized(rel.get(), false)) : recognizer.apply(url);
  }

  /**
   * Who may attach a Binary: {@link #check} throws for one the writer may not name. It runs once
   * the Binary is found and before its {@code size} or {@code hash} is compared, which would tell
   * a Binary that exists from one that does not. {@link #mayCreateBinary} tells whether the writer
   * may have ingestion create a Binary for an Attachment's external url.
   */
  @FunctionalInterface
  public interface Gate {
    /** Anyone may attach any Binary of the project, and have any ingested: the server's own writes. */
    Gate ANY = (reference, content) -> { };

    /** @param reference as it will be stored ({@code Binary/{id}[/_history/{vid}]}) */
    void check(String reference, BinaryContent content);

    /**
     * Whether the writer may create a Binary whose {@code securityContext} is
     * {@code securityContext} (a {@code Type/id} this write stores), as ingesting an Attachment's
     * url does; the write's transaction sees the written resource. True for the server's own writes.
     */
    default boolean mayCreateBinary(String securityContext) {
      return true;
    }

    /**
     * Whether an Attachment may go on naming {@code reference} (as stored) although it names no
     * content, its Binary being deleted: so when the resource updated names it already, so that a
     * resource read after its Binary's deletion can be written back as read (FHIR R4 http.html#update).
     * Nothing is told of the Binary, which the writer's own resource names. Never for the server's own writes.
     */
    default boolean keepsMissing(String reference) {
      return false;
    }

    /**
     * The new external urls the writer's request has had queued for fetching before this write
     * (earlier entries of its Bundle): ingestion caps them per request. 0 for the server's own writes.
     */
    default int fetchesQueued() {
      return 0;
    }

    /** Notes {@code count} more urls this write queued for fetching, which the request's later writes count. */
    default void queuedFetches(int count) {
    }
  }

  /** Normalises in place; returns what it found, for the steps after it. */
  public FoundAttachments normalize(ResourceStore.Tx tx, String project, Resource resource) {
    return normalize(tx, project, resource, Gate.ANY);
  }

  /** {@link #normalize}, each Binary named passing {@code gate} first. */
  public FoundAttachments normalize(ResourceStore.Tx tx, String project, Resource resource, Gate gate) {
    List<Attachment> own = terser.getAllPopulatedChildElementsOfType(resource, Attachment.class);
    List<Attachment> attachments = withNested(resource, own);
    Map<String, BinaryContent> binaries = new HashMap<>();
    for (Attachment a : attachments) {
      asSent(a);
      Optional<Recognized> found = a.hasUrl() ? recognise(a.getUrl()) : Optional.empty();
      requireNoThumbnail(found);
      Optional<BinaryRef> ref = binaryRef(tx, project, found);
      if (ref.isEmpty()) {
        continue;
      }
      Optional<BinaryContent> stored = lookup(tx, project, ref.get());
      if (stored.isEmpty() && gate.keepsMissing(ref.get().reference())) {
        // kept as the current version has it: no content to fill its size and hash from, or to check them by
        a.setUserData(SENT, Sent.of(a, ref.get().reference()));
        a.setUrl(ref.get().reference());
        continue;
      }
      BinaryContent content = stored.orElseThrow(() -> unknownBinary(ref.get().reference()));
      gate.check(ref.get().reference(), content);
      a.setUserData(SENT, Sent.of(a, ref.get().reference()));
      a.setUrl(ref.get().reference());
      fill(a, content, ref.get());
      binaries.put(ref.get().reference(), content);
    }
    return new FoundAttachments(own, attachments, binaries);
  }

  /**
   * The elements of an Attachment that {@link #normalize} sets, as the writer sent them (null where
   * absent), and the {@code url} it set; not the whole Attachment, whose {@code data} may be large.
   */
  private record Sent(UrlType sentUrl, UnsignedIntType size, Base64BinaryType hash, CodeType contentType,
      String url) {
    static Sent of(Attachment a, String url) {
      return new Sent(a.hasUrl() ? a.getUrlElement().copy() : null, a.hasSize() ? a.getSizeElement().copy() : null,
          a.hasHash() ? a.getHashElement().copy() : null,
          a.hasContentType() ? a.getContentTypeElement().copy() : null, url);
    }
  }

  /**
   * Puts back what an earlier run of the same write filled in: a write that lost a race runs again
   * on fresh data ({@link ResourceStore#inTransaction}), where the Binary may have a new version, and
   * what the first run filled is no statement of the writer's. The url is put back only where nothing
   * set it since (a transaction sets its fullUrl rewrites again on each run).
   */
  private static void asSent(Attachment a) {
    if (!(a.getUserData(SENT) instanceof Sent sent)) {
      return;
    }
    if (sent.url().equals(a.getUrl())) {
      a.setUrlElement(sent.sentUrl() == null ? null : sent.sentUrl().copy());
    }
    a.setSizeElement(sent.size() == null ? null : sent.size().copy());
    a.setHashElement(sent.hash() == null ? null : sent.hash().copy());
    a.setContentTypeElement(sent.contentType() == null ? null : sent.contentType().copy());
    a.setUserData(SENT, null);
  }

  /**
   * The references to Binaries that the Attachments of a stored {@code resource} name, in the form
   * {@link #normalize} stores them; nothing looked up, nothing changed.
   */
  public java.util.Set<String> referenced(ResourceStore.Tx tx, String project, Resource resource) {
    java.util.Set<String> refs = new java.util.HashSet<>();
    for (Attachment a : withNested(resource, terser.getAllPopulatedChildElementsOfType(resource, Attachment.class))) {
      binaryRef(tx, project, a).ifPresent(ref -> refs.add(ref.reference()));
    }
    return refs;
  }

  /** {@code own} and the Attachments of the resources contained in {@code resource}. */
  private List<Attachment> withNested(Resource resource, List<Attachment> own) {
    List<Resource> nested = ResourceTree.flatten(resource); // the resource itself first
    if (nested.size() == 1) {
      return own;
    }
    List<Attachment> all = new java.util.ArrayList<>(own);
    for (Resource r : nested.subList(1, nested.size())) {
      all.addAll(terser.getAllPopulatedChildElementsOfType(r, Attachment.class));
    }
    return all;
  }

  /**
   * 400 for an Attachment whose url is one of our signed thumbnail URLs: the thumbnail is not the
   * Binary's content, and kept as written, the URL would hand its signature to every reader.
   * Nothing is looked up, so the answer tells nothing of the Binary.
   */
  private static void requireNoThumbnail(Optional<Recognized> found) {
    if (found.isPresent() && found.get().thumbnail()) {
      throw FhirException.badRequest("Attachment.url is a thumbnail URL of this server, which is not the content of "
          + found.get().ref().reference() + ": name the Binary (Binary/{id}) or its content URL", "Attachment.url");
    }
  }

  /** The Binary an Attachment names, as it is stored: a signed URL of the current version names the Binary. */
  private Optional<BinaryRef> binaryRef(ResourceStore.Tx tx, String project, Attachment a) {
    return binaryRef(tx, project, a.hasUrl() ? recognise(a.getUrl()) : Optional.empty());
  }

  /** {@link #binaryRef(ResourceStore.Tx, String, Attachment)} of an Attachment whose url was recognised as {@code found}. */
  private static Optional<BinaryRef> binaryRef(ResourceStore.Tx tx, String project, Optional<Recognized> found) {
    found = found.filter(r -> !r.thumbnail());
    if (found.isEmpty()) {
      return Optional.empty();
    }
    BinaryRef ref = found.get().ref();
    return Optional.of(found.get().signed() && isCurrentVersion(tx, project, ref) ? new BinaryRef(ref.id(), null) : ref);
  }

  private static boolean isCurrentVersion(ResourceStore.Tx tx, String project, BinaryRef ref) {
    return tx.current(project, "Binary", ref.id(), false)
        .map(r -> !r.deleted() && ref.versionId() != null && r.versionId() == ref.versionId())
        .orElse(false);
  }

  private static Optional<BinaryContent> lookup(ResourceStore.Tx tx, String project, BinaryRef ref) {
    return ref.versionId() == null
        ? tx.currentBinaryContent(project, ref.id())
        : tx.binaryContent(project, ref.id(), ref.versionId());
  }

  /** 400 for an Attachment naming a Binary ({@code Binary/{id}[/_history/{vid}]}) that does not exist. */
  static FhirException unknownBinary(String reference) {
    return FhirException.badRequest("Attachment.url names " + reference + ", which does not exist", "Attachment.url");
  }

  private static void fill(Attachment a, BinaryContent c, BinaryRef ref) {
    requireSameData(a, c, ref);
    if (a.hasSize() && a.getSize() != c.size()) {
      throw FhirException.badRequest("Attachment.size " + a.getSize() + " contradicts " + ref.reference()
          + ", which has " + c.size() + " bytes", "Attachment.size");
    }
    // A Binary uploaded straight to S3 has no SHA-1 until the background check read its object
    // (README, "Direct uploads"): the hash stays out, or as written, until it is known.
    if (c.sha1Hex() == null) {
      fillSizeAndType(a, c);
      return;
    }
    byte[] sha1 = HexFormat.of().parseHex(c.sha1Hex());
    if (!a.hasHash()) {
      a.setHashElement(new Base64Text(sha1));
    } else if (!Arrays.equals(a.getHash(), sha1)) {
      throw FhirException.badRequest("Attachment.hash does not match the SHA-1 of " + ref.reference(),
          "Attachment.hash");
    }
    fillSizeAndType(a, c);
  }

  /**
   * 400 for an Attachment whose {@code data} is not the Binary's content: with both, R4
   * (datatypes.html#Attachment, url) has the url point to the same content as data, and the
   * {@code size} and {@code hash} filled from the Binary would describe other bytes than data's.
   * A SHA-1 not yet known (a direct upload) leaves the size to compare.
   */
  private static void requireSameData(Attachment a, BinaryContent c, BinaryRef ref) {
    if (!a.hasData()) {
      return;
    }
    byte[] data = a.getData();
    boolean same = data.length == c.size();
    if (same && c.sha1Hex() != null) {
      try {
        same = Arrays.equals(MessageDigest.getInstance("SHA-1").digest(data), HexFormat.of().parseHex(c.sha1Hex()));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
    if (!same) {
      throw FhirException.badRequest("Attachment.data is not the content of " + ref.reference()
          + ", which its url names; R4 has both name the same content: send one of them", "Attachment.data");
    }
  }

  private static void fillSizeAndType(Attachment a, BinaryContent c) {
    // R4 Attachment.size is an unsignedInt: larger content cannot state its size here.
    if (!a.hasSize() && c.size() <= Integer.MAX_VALUE) {
      a.setSize((int) c.size());
    }
    if (!a.hasContentType()) {
      a.setContentType(c.contentType());
    }
  }
}
