package org.fhirbox.signing;

import org.fhirbox.model.BinaryContent;

/**
 * Makes the short-lived URL that lets a browser fetch one Binary version without credentials.
 * Modes: {@link StorageUrlSigner} (our {@code /storage} route, the default), S3 presigned GET,
 * CloudFront signed URLs. Implementations must return the same URL for the same content within
 * a short window (so browsers and CDNs can cache) and never exceed the TTL by more than 10%.
 */
public interface BinaryUrlSigner {
  /**
   * @param baseUrl the server's public base URL (ending in '/'), for modes served by us
   * @param downloadFilename ask for {@code Content-Disposition: attachment} with this name, or null
   */
  String sign(String baseUrl, BinaryContent content, String downloadFilename);
}
