package org.fhirbox.storage;

import java.io.IOException;
import java.util.List;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;

/**
 * {@code CompleteMultipartUpload} whose answer may not arrive. S3 may carry a completion out and
 * its answer be lost or cut off on the way: a connection closed before the answer (the SDK sends
 * the request again, and S3 answers the repeat with {@code NoSuchUpload}, the upload being gone)
 * or in the middle of its body (the SDK cannot parse it and does not repeat the request). Either
 * way the object is there. Every upload writes a key of its own (blob keys are random and never
 * reused), so an object under that key with the upload's length is the upload's completion, and
 * the completion stands; anything else fails as before.
 */
final class S3Completions {
  private S3Completions() {
  }

  /**
   * Completes the multipart upload {@code uploadId} of {@code objectKey} from {@code parts}, whose
   * lengths add up to {@code length}.
   */
  static void complete(S3Client s3, String bucket, String objectKey, String uploadId, List<CompletedPart> parts,
      long length) throws IOException {
    try {
      s3.completeMultipartUpload(b -> b.bucket(bucket).key(objectKey).uploadId(uploadId)
          .multipartUpload(m -> m.parts(parts)));
    } catch (NoSuchUploadException | SdkClientException e) {
      if (!completedBefore(s3, bucket, objectKey, length, e)) {
        throw S3BlobStore.io("CompleteMultipartUpload " + objectKey, e);
      }
    } catch (SdkException e) {
      throw S3BlobStore.io("CompleteMultipartUpload " + objectKey, e);
    }
  }

  /** Whether the object of {@code length} bytes is there: a completion whose answer {@code e} lost stood. */
  private static boolean completedBefore(S3Client s3, String bucket, String objectKey, long length, SdkException e) {
    try {
      return s3.headObject(b -> b.bucket(bucket).key(objectKey)).contentLength() == length;
    } catch (SdkException missing) {
      e.addSuppressed(missing);
      return false;
    }
  }
}
