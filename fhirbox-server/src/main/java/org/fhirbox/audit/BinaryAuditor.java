package org.fhirbox.audit;

import java.time.Clock;
import org.fhirbox.auth.Principal;
import org.fhirbox.model.BinaryContent;
import org.hl7.fhir.r4.model.Binary;

/**
 * Captures Binary accesses on the request thread as {@link AuditRecord}s and hands them to the
 * {@link AuditTrail}. Only what was actually served is recorded: the callbacks run after a
 * successful response, and a HEAD request (no content leaves) is not recorded.
 */
final class BinaryAuditor implements BinaryListener, DownloadListener {
  private final AuditTrail trail;
  private final Clock clock;

  BinaryAuditor(AuditTrail trail, Clock clock) {
    this.trail = trail;
    this.clock = clock;
  }

  @Override
  public void read(AuditedRequest ex, Principal principal, BinaryContent c) {
    if (isGet(ex)) {
      record(isVersioned(ex) ? BinaryAction.VREAD : BinaryAction.READ, ex, principal, c, range(ex));
    }
  }

  @Override
  public void signed(AuditedRequest ex, Principal principal, BinaryContent c) {
    if (ex.method().equals("HEAD")) {
      return; // RFC 9110 §9.3.2: the answer's body, and the URL in it, is not sent
    }
    if (ex.path().endsWith("$presigned-url")) {
      String download = ex.param("download").map(d -> "download=" + d).orElse(null);
      record(BinaryAction.PRESIGNED_URL, ex, principal, c, download);
    } else {
      record(isVersioned(ex) ? BinaryAction.RESOURCE_VREAD : BinaryAction.RESOURCE_READ, ex, principal, c,
          "signed URL issued in Binary.url");
    }
  }

  @Override
  public void resourceRead(AuditedRequest ex, Principal principal, BinaryContent c) {
    if (isGet(ex)) {
      record(isVersioned(ex) ? BinaryAction.RESOURCE_VREAD : BinaryAction.RESOURCE_READ, ex, principal, c, null);
    }
  }

  @Override
  public void written(AuditedRequest ex, Principal principal, Binary b, boolean created) {
    trail.record(new AuditRecord(created ? BinaryAction.CREATE : BinaryAction.UPDATE, principal.project(),
        b.getIdElement().getIdPart(), Long.parseLong(b.getMeta().getVersionId()),
        b.hasSecurityContext() ? b.getSecurityContext().getReference() : null, principal.clientId(), address(ex),
        clock.instant(), null, principal.user().orElse(null)));
  }

  @Override
  public void deleted(AuditedRequest ex, Principal principal, String binaryId, long versionId) {
    trail.record(new AuditRecord(BinaryAction.DELETE, principal.project(), binaryId, versionId, null,
        principal.clientId(), address(ex), clock.instant(), null, principal.user().orElse(null)));
  }

  @Override
  public void uploadedByUrl(AuditedRequest ex, String project, String issuedTo, Binary b, boolean created,
      String how) {
    trail.record(new AuditRecord(created ? BinaryAction.CREATE : BinaryAction.UPDATE, project,
        b.getIdElement().getIdPart(), Long.parseLong(b.getMeta().getVersionId()),
        b.hasSecurityContext() ? b.getSecurityContext().getReference() : null, issuedTo, address(ex),
        clock.instant(), how));
  }

  @Override
  public void ingested(String project, Binary b, String jobId) {
    trail.record(new AuditRecord(BinaryAction.INGESTED, project, b.getIdElement().getIdPart(),
        Long.parseLong(b.getMeta().getVersionId()), b.hasSecurityContext() ? b.getSecurityContext().getReference() : null,
        null, null, clock.instant(), "ingestion job " + jobId));
  }

  @Override
  public void ingestionDiscarded(String project, String binaryId, long versionId, String jobId) {
    trail.record(new AuditRecord(BinaryAction.INGESTION_DISCARDED, project, binaryId, versionId, null, null, null,
        clock.instant(), "ingestion job " + jobId));
  }

  /**
   * A video player fetches one signed URL as a stream of Range requests; one event per address
   * and Binary version per minute records the access without one row per 1 KiB seek.
   */
  @Override
  public void downloaded(AuditedRequest ex, BinaryContent c) {
    if (!isGet(ex)) {
      return;
    }
    String address = address(ex);
    // a whole download is an event of its own beside a minute's ranges, so the event of a range
    // never stands for a file then read whole
    String key = c.project() + "/" + c.binaryId() + "/" + c.versionId() + "@" + address
        + (ex.sentPartOnly() ? "#part" : "#whole");
    long now = clock.millis();
    Long last = recentDownloads.get(key);
    if (last != null && now - last < DOWNLOAD_WINDOW_MILLIS) {
      return;
    }
    if (recentDownloads.size() >= 10_000) {
      recentDownloads.clear();
    }
    recentDownloads.put(key, now);
    record(BinaryAction.DOWNLOAD, ex, null, c, range(ex));
  }

  private static final long DOWNLOAD_WINDOW_MILLIS = 60_000;
  private final java.util.Map<String, Long> recentDownloads = new java.util.concurrent.ConcurrentHashMap<>();

  /** {@code principal}: the caller, or null for a {@code /storage} download (the signature is the credential). */
  private void record(BinaryAction action, AuditedRequest ex, Principal principal, BinaryContent c, String detail) {
    trail.record(new AuditRecord(action, c.project(), c.binaryId(), c.versionId(), c.securityContext(),
        principal == null ? null : principal.clientId(), address(ex), clock.instant(), detail,
        principal == null ? null : principal.user().orElse(null)));
  }

  private static boolean isGet(AuditedRequest ex) {
    return ex.method().equals("GET");
  }

  private static boolean isVersioned(AuditedRequest ex) {
    return ex.path().contains("/_history/");
  }

  /** The Range a part of the content was sent for; none when the answer sent the whole (or nothing). */
  private static String range(AuditedRequest ex) {
    String r = ex.answeredInPart() ? ex.header("Range") : null;
    return r == null ? null : "Range: " + (r.length() > 200 ? r.substring(0, 200) : r);
  }

  /** The caller's address; none for what a background job did. */
  private static String address(AuditedRequest ex) {
    return ex == null ? null : ex.address();
  }
}
