package org.fhirbox.signing;

import java.util.Optional;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.storage.BlobKey;

/**
 * A {@link BinaryUrlSigner} whose URLs go straight to the object store or a CDN in front of it
 * (the {@code s3} and {@code cloudfront} modes). Those URLs name the blob's object key, not the
 * Binary, so write-time normalisation recognises them by blob key and maps that to the Binary.
 */
public interface ObjectUrlSigner extends BinaryUrlSigner {
  /**
   * The query parameter, signed with the rest, that names the Binary version a URL serves
   * ({@code Binary/{id}/_history/{vid}}): the key names only the blob, and the web app needs the
   * Binary for a file's page, its thumbnail and a fresh URL once this one ends. The store and the
   * CDN pass over a parameter they do not know, as they do over {@code x-id}, which AWS's own
   * SDKs add.
   */
  String BINARY_PARAMETER = "fhirbox-binary";

  /** The value of {@link #BINARY_PARAMETER} for {@code content}. */
  static String binaryReference(BinaryContent content) {
    return "Binary/" + content.binaryId() + "/_history/" + content.versionId();
  }

  /**
   * The blob a URL made by this signer points at (any expiry, any query; the signature is not
   * checked), or empty when the URL is not under this signer's bucket, domain and key prefix.
   */
  Optional<BlobKey> recogniseBlobKey(String url);

  /**
   * What every URL this signer makes starts with: scheme, host, port and path up to the blob key,
   * e.g. {@code https://fhirbox-blobs.s3.us-east-1.amazonaws.com/blobs/}, or for a path-style
   * bucket {@code http://minio:9000/fhirbox-blobs/blobs/}. Made from the settings alone, without
   * the network. The web app previews an Attachment straight from the store only under it.
   */
  String urlPrefix();

  /**
   * The origin browsers fetch these URLs from, e.g. {@code https://d111111abcdef8.cloudfront.net}:
   * the web app's Content-Security-Policy lets images, media and frames come from it.
   */
  default String origin() {
    return UrlOrigin.of(urlPrefix());
  }
}
