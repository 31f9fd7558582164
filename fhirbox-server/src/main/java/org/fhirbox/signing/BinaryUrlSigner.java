package org.fhirbox.signing;

import java.time.Duration;
import java.util.List;
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

  /**
   * A URL that lives exactly {@code lifetime} from now, for a link a person hands on (a share
   * link): not rounded to a window, so not stable between calls.
   *
   * @param lifetime at most {@link #MAX_LIFETIME}
   */
  String signFor(String baseUrl, BinaryContent content, String downloadFilename, Duration lifetime);

  /**
   * {@link #signFor(String, BinaryContent, String, Duration)} bound to {@code contextVersions}, the
   * versions of the resources along the content's securityContext chain as they stand now, in chain
   * order (null or empty: none): a link the server answers ends once one of them is deleted after
   * its version. An object store answers its links without asking the server, so these modes leave
   * them out.
   */
  default String signFor(String baseUrl, BinaryContent content, String downloadFilename, Duration lifetime,
      List<Long> contextVersions) {
    return signFor(baseUrl, content, downloadFilename, lifetime);
  }

  /** The longest lifetime of {@link #signFor}: S3 presigned URLs (SigV4) live at most 7 days. */
  Duration MAX_LIFETIME = Duration.ofDays(7);
}
