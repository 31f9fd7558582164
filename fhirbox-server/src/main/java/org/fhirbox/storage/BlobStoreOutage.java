package org.fhirbox.storage;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.util.Optional;
import javax.xml.stream.XMLStreamException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Recognises blob store failures that are no fault of the caller's and may pass: a full disk, a
 * data directory or bucket that denies access, a bucket that does not exist, an object store that
 * cannot be reached, does not answer in time, breaks its answer off or asks to slow down. The HTTP layer answers them with 503 and
 * {@code Retry-After} instead of a 500.
 */
public final class BlobStoreOutage {
  private BlobStoreOutage() {
  }

  /** What is wrong, in words safe to show a caller, when {@code failure} (or a cause of it) is an outage. */
  public static Optional<String> of(Throwable failure) {
    boolean objectStoreClient = false;
    for (Throwable c = failure; c != null; c = c.getCause()) {
      objectStoreClient |= c instanceof SdkClientException;
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
      // a connect or read timeout of the S3 client: packets dropped on the way, a server too busy
      // to answer; only under the client's own failure, since other sockets (a database's) time out too
      if (objectStoreClient && c instanceof SocketTimeoutException) {
        return Optional.of("the object store did not answer in time");
      }
      // an answer cut short (the connection closed in the middle of its body): the S3 client
      // cannot read what arrived and does not repeat the request
      if (objectStoreClient && (c instanceof XMLStreamException || c instanceof EOFException
          || c instanceof SocketException)) {
        return Optional.of("the object store's answer broke off or could not be read");
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
