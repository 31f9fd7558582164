package org.fhirbox.signing;

import java.util.Optional;
import org.fhirbox.storage.BlobKey;

/**
 * A {@link BinaryUrlSigner} whose URLs go straight to the object store or a CDN in front of it
 * (the {@code s3} and {@code cloudfront} modes). Those URLs name the blob's object key, not the
 * Binary, so write-time normalisation recognises them by blob key and maps that to the Binary.
 */
public interface ObjectUrlSigner extends BinaryUrlSigner {
  /**
   * The blob a URL made by this signer points at (any expiry, any query; the signature is not
   * checked), or empty when the URL is not under this signer's bucket, domain and key prefix.
   */
  Optional<BlobKey> recogniseBlobKey(String url);
}
