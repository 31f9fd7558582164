package org.fhirbox.audit;

import java.time.Clock;
import org.fhirbox.auth.Principal;
import org.fhirbox.binary.BinaryContent;
import org.fhirbox.fhir.FhirFormat;
import org.fhirbox.http.BinaryRoutes;
import org.fhirbox.http.Exchange;
import org.fhirbox.http.StorageRoutes;
import org.hl7.fhir.r4.model.Binary;

/**
 * Captures Binary accesses on the request thread as {@link AuditRecord}s and hands them to the
 * {@link AuditTrail}. Only what was actually served is recorded: the callbacks run after a
 * successful response, and a HEAD request (no content leaves) is not recorded.
 */
final class BinaryAuditor implements BinaryRoutes.BinaryListener, StorageRoutes.DownloadListener {
  private final AuditTrail trail;
  private final Clock clock;

  BinaryAuditor(AuditTrail trail, Clock clock) {
    this.trail = trail;
    this.clock = clock;
  }

  @Override
  public void read(Exchange ex, Principal principal, BinaryContent c) {
    if (isGet(ex)) {
      record(isVersioned(ex) ? BinaryAction.VREAD : BinaryAction.READ, ex, principal.clientId(), c, range(ex));
    }
  }

  @Override
  public void signed(Exchange ex, Principal principal, BinaryContent c) {
    if (ex.request().getRequestURI().endsWith("$presigned-url")) {
      String download = ex.param("download").map(d -> "download=" + d).orElse(null);
      record(BinaryAction.PRESIGNED_URL, ex, principal.clientId(), c, download);
    } else if (isGet(ex)) {
      String detail = ex.format() == FhirFormat.JSON ? "signed URL issued in Binary.url" : null;
      record(isVersioned(ex) ? BinaryAction.RESOURCE_VREAD : BinaryAction.RESOURCE_READ, ex, principal.clientId(), c,
          detail);
    }
  }

  @Override
  public void written(Exchange ex, Principal principal, Binary b, boolean created) {
    trail.record(new AuditRecord(created ? BinaryAction.CREATE : BinaryAction.UPDATE, principal.project(),
        b.getIdElement().getIdPart(), Long.parseLong(b.getMeta().getVersionId()),
        b.hasSecurityContext() ? b.getSecurityContext().getReference() : null, principal.clientId(), address(ex),
        clock.instant(), null));
  }

  /**
   * A video player fetches one signed URL as a stream of Range requests; one event per address
   * and Binary version per minute records the access without one row per 1 KiB seek.
   */
  @Override
  public void downloaded(Exchange ex, BinaryContent c) {
    if (!isGet(ex)) {
      return;
    }
    String address = address(ex);
    String key = c.project() + "/" + c.binaryId() + "/" + c.versionId() + "@" + address;
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

  private void record(BinaryAction action, Exchange ex, String clientId, BinaryContent c, String detail) {
    trail.record(new AuditRecord(action, c.project(), c.binaryId(), c.versionId(), c.securityContext(), clientId,
        address(ex), clock.instant(), detail));
  }

  private static boolean isGet(Exchange ex) {
    return ex.method().equals("GET");
  }

  private static boolean isVersioned(Exchange ex) {
    return ex.request().getRequestURI().contains("/_history/");
  }

  private static String range(Exchange ex) {
    String r = ex.header("Range");
    return r == null ? null : "Range: " + (r.length() > 200 ? r.substring(0, 200) : r);
  }

  /**
   * The caller's address: the connection's peer, or with {@code FHIRBOX_TRUST_PROXY=true} the
   * client a trusted proxy names in {@code X-Forwarded-For} (the server's request customizer).
   */
  private static String address(Exchange ex) {
    return ex.request().getRemoteAddr();
  }
}
