package org.fhirbox.fhir;

import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.AttachmentNormalizer.Recognized;
import org.fhirbox.signing.ObjectUrlSigner;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.storage.BlobKey;

/**
 * Write-time recognition of the server's own absolute URLs, for the {@link AttachmentNormalizer}:
 * FHIR REST URLs of a Binary under one of our base URLs, signed storage URLs under one of them (or
 * host-relative), and object-store or CDN URLs made by an {@link ObjectUrlSigner}.
 */
public final class OwnUrls {
  private final References references;
  private final Optional<ObjectUrlSigner> objectUrls;
  private final ResourceStore store;

  /** @param references knows the server's own base URLs and aliases */
  public OwnUrls(References references, Optional<ObjectUrlSigner> objectUrls, ResourceStore store) {
    this.references = references;
    this.objectUrls = objectUrls;
    this.store = store;
  }

  /** The Binary an absolute URL of ours names. */
  public Optional<Recognized> recognise(String sent) {
    String url = withLowerSchemeAndHost(sent);
    for (String b : references.bases()) {
      String base = withLowerSchemeAndHost(b);
      if (url.startsWith(base + "fhir/R4/Binary/")) {
        return BinaryRef.tryParseRelative(url.substring((base + "fhir/R4/").length()))
            .map(r -> new Recognized(r, false));
      }
      if (url.startsWith(base + "storage/")) {
        return signedStorageUrl(url);
      }
    }
    if (objectUrls.isPresent()) {
      Optional<BlobKey> key = objectUrls.get().recogniseBlobKey(sent);
      if (key.isPresent()) {
        // An S3 or CloudFront URL names the blob; the newest Binary version stored in it is meant.
        return store.read(tx -> tx.binaryContentByBlob(key.get())).stream()
            .max(Comparator.comparingLong(BinaryContent::versionId))
            .map(c -> new Recognized(new BinaryRef(c.binaryId(), c.versionId()), true));
      }
    }
    return sent.startsWith("/storage/") ? signedStorageUrl(sent) : Optional.empty();
  }

  /**
   * {@code url} with its scheme and authority in lower case, its path and query as they are: scheme
   * and host are case-insensitive (RFC 3986 §6.2.2.1), so {@code HTTPS://FHIR.Example.org/...} is
   * one of our URLs as much as its lower-case form. A relative URL is returned unchanged.
   */
  static String withLowerSchemeAndHost(String url) {
    int scheme = url.indexOf("://");
    if (scheme <= 0 || !url.substring(0, scheme).matches("[A-Za-z][A-Za-z0-9+.-]*")) {
      return url;
    }
    int path = url.indexOf('/', scheme + 3);
    int end = path < 0 ? url.length() : path;
    return url.substring(0, end).toLowerCase(Locale.ROOT) + url.substring(end);
  }

  /** A signed storage URL, or the thumbnail URL of a version ({@link Recognized#thumbnail}). */
  private static Optional<Recognized> signedStorageUrl(String url) {
    Optional<Recognized> content = StorageUrlSigner.tryParse(url).map(r -> new Recognized(
        new BinaryRef(r.binaryId(), Long.parseLong(r.versionId())), true));
    return content.isPresent() ? content : StorageUrlSigner.tryParseThumbnail(url).map(r -> new Recognized(
        new BinaryRef(r.binaryId(), Long.parseLong(r.versionId())), true, true));
  }
}
