package org.fhirbox.binary;

import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.model.BinaryContent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Binary version whose blob is not in the store, or holds fewer bytes than the version has: data lost, not the caller's fault, so a 500
 * that says so (logged, with the blob key), for its bytes and its thumbnail alike.
 */
public final class MissingContent {
  private static final Logger LOG = LoggerFactory.getLogger(MissingContent.class);

  private MissingContent() {}

  public static FhirException of(BinaryContent content, Throwable cause) {
    String what = "the stored content of Binary/" + content.binaryId() + " version " + content.versionId()
        + " is missing";
    LOG.error("{} (project {}): blob {} is not in the blob store", what, content.project(), content.blobKey().value());
    return new FhirException(IssueKind.EXCEPTION, what, cause);
  }

  /** A blob that holds only {@code held} of the version's bytes: cut short on the disk, as much data loss. */
  public static FhirException shortened(BinaryContent content, long held, Throwable cause) {
    String what = "the stored content of Binary/" + content.binaryId() + " version " + content.versionId()
        + " is damaged: " + held + " of its " + content.size() + " bytes are left";
    LOG.error("{} (project {}): blob {} was cut short in the blob store", what, content.project(),
        content.blobKey().value());
    return new FhirException(IssueKind.EXCEPTION, what, cause);
  }
}
