package org.fhirbox.binary;

/**
 * Points of a resumable upload's requests where a test holds one, so that a race between two
 * requests happens there every time. Nothing holds a request in production ({@link #NONE}).
 */
interface UploadPauses {
  /** Where a request is held. */
  enum Point {
    /** A creation found room for one more upload of its owner and has not stored it yet. */
    CREATING,
    /** A piece stored the upload's last byte and let its lease go; its completion takes it next. */
    COMPLETING,
    /** A completion holds the upload's lease and has not committed the Binary yet. */
    LEASED,
    /** A completion committed the Binary and the upload's row, and has not answered yet. */
    COMMITTED,
    /** A piece found the lease of the upload taken by another request and waits for it. */
    LEASE_TAKEN,
    /**
     * A piece confirmed its lease and is about to write to the store (a part, a tail, the whole
     * object), before the timer that renews the lease while that write runs starts.
     */
    WRITING,
    /** A timer is about to renew the lease of a write or completion that reads no request body. */
    RENEWING
  }

  UploadPauses NONE = (point, uploadId) -> { };

  /** Called by the request of upload {@code uploadId} at {@code point}; returns when it may go on. */
  void at(Point point, String uploadId);
}
