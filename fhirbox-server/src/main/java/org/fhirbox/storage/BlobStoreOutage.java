package org.fhirbox.storage;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.util.Optional;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Recognises blob store failures that are no fault of the caller's and may pass: a full disk, a
 * data directory or bucket that denies access, a bucket that does not exist, an object store that
 * cannot be reached or asks to slow down. The HTTP layer answers them with 503 and
 * {@code Retry-After} instead of a 500.
 */
public final class BlobStoreOutage {
  private BlobStoreOutage() {
  }

  /** What is wrong, in words safe to show a caller, when {@code failure} (or a cause of it) is an outage. */
  public static Optional<String> of(Throwable failure) {
    for (Throwable c = failure; c != null; c = c.getCause()) {
      if (c instanceof S3Exception s3) {
        String code = s3.awsErrorDetails() == null ? null : s3.awsErrorDetails().errorCode();
        if ("NoSuchBucket".equals(code)) {
          return Optional.of("the object store's bucket does not exist");
        }
        if (s3.statusCode() == 403) {
          return Optional.of("the object store denies access to its bucket");
        }
        if (s3.statusCode() == 503 || "SlowDown".equals(code)) {
          return Optional.of("the object store is unavailable");
        }
      }
      if (c instanceof S3PartBuffers.Busy) {
        return Optional.of("the server is at its limit of uploads to the object store at once");
      }
      if (c instanceof ConnectException || c instanceof UnknownHostException || c instanceof NoRouteToHostException) {
        return Optional.of("the object store cannot be reached");
      }
      if (c instanceof AccessDeniedException) {
        return Optional.of("the blob store's directory denies access");
      }
      // ENOSPC and EDQUOT as the JDK words them on Linux
      if (c instanceof IOException && c.getMessage() != null
          && (c.getMessage().contains("No space left on device") || c.getMessage().contains("Disk quota exceeded"))) {
        return Optional.of("the blob store's disk is full");
      }
    }
    return Optional.empty();
  }
}
