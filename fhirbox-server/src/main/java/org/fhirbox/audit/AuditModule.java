package org.fhirbox.audit;

import java.time.Clock;
import java.time.Duration;
import org.fhirbox.auth.ClaimedText;
import org.fhirbox.config.FhirboxConfig;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.ResourceRepository;

/**
 * Builds the Binary audit trail from the configuration: {@code FHIRBOX_AUDIT} ({@code on} |
 * {@code off}, default on) and {@code FHIRBOX_AUDIT_QUEUE_SIZE} (events held in memory for the
 * writer, default 10000; a request waits for room in a full queue, see {@link AuditTrail}).
 * Off, the listeners do nothing. The caller's address is the request's remote address, which
 * {@code FHIRBOX_TRUST_PROXY} lets a proxy name.
 *
 * <p>Recorded, each after it succeeded: Binary create and update (raw, JSON, and
 * in batch/transaction Bundles), raw content read and vread, Binary resource read and vread
 * (whose JSON {@code url} is a signed URL), {@code $presigned-url}, and every {@code /storage}
 * GET (with its Range). Not recorded: HEAD requests (no content leaves), refused requests
 * (401/403/404 say nothing happened to the Binary), and the signing of Attachments inside
 * other resources (read, search, history, Bundles): a search page can sign hundreds of them, the
 * URL alone discloses nothing, and its use is recorded as a {@code /storage} download.
 *
 * <p>People's authentication is recorded too (DICOM {@code 110114 User Authentication}): every
 * sign-in, refused or not, every refresh-token exchange and every revocation. So is clients'
 * (the same type): every {@code client_credentials} token issued and every refused client
 * authentication (a throttled one only when first refused by its limit within a minute), but not
 * each successful {@code Basic} request. And every change made through the admin API (DICOM
 * {@code 110137 User Security Attributes Changed}, see {@link AdminAction}).
 */
public final class AuditModule implements AutoCloseable {
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(20);

  private final AuditTrail trail;
  private final BinaryListener binaryListener;
  private final DownloadListener downloadListener;
  private final SignInListener signInListener;
  private final ClientAuthListener clientAuthListener;
  private final AdminListener adminListener;

  /** @param claimed what the trail keeps of a refused sign-in's typed email */
  public AuditModule(FhirboxConfig config, ResourceStore store, ResourceRepository repository, Clock clock,
      ClaimedText claimed) {
    String mode = config.optional("FHIRBOX_AUDIT").orElse("on").toLowerCase(java.util.Locale.ROOT);
    if (!mode.equals("on") && !mode.equals("off")) {
      throw new IllegalArgumentException("FHIRBOX_AUDIT must be on or off, got '" + mode + "'");
    }
    if (mode.equals("off")) {
      this.trail = null;
      this.binaryListener = new BinaryListener() { };
      this.downloadListener = (ex, content) -> { };
      this.signInListener = new SignInListener() { };
      this.clientAuthListener = new ClientAuthListener() { };
      this.adminListener = new AdminListener() { };
      return;
    }
    int capacity = config.getInt("FHIRBOX_AUDIT_QUEUE_SIZE");
    this.trail = new AuditTrail(store, repository, capacity, CLOSE_TIMEOUT);
    BinaryAuditor auditor = new BinaryAuditor(trail, clock);
    this.binaryListener = auditor;
    this.downloadListener = auditor;
    this.signInListener = new SignInAuditor(trail, clock, claimed);
    SecurityAuditor security = new SecurityAuditor(trail, clock);
    this.clientAuthListener = security;
    this.adminListener = security;
  }

  /** Starts the background writer (no-op when audit is off). */
  public AuditModule start() {
    if (trail != null) {
      trail.start();
    }
    return this;
  }

  public BinaryListener binaryListener() {
    return binaryListener;
  }

  public DownloadListener downloadListener() {
    return downloadListener;
  }

  /** People's sign-ins, refreshes and revocations. */
  public SignInListener signInListener() {
    return signInListener;
  }

  /** Clients' {@code client_credentials} tokens and refused client authentication. */
  public ClientAuthListener clientAuthListener() {
    return clientAuthListener;
  }

  /** Changes made through the admin API. */
  public AdminListener adminListener() {
    return adminListener;
  }

  /** The trail, when audit is on. */
  public java.util.Optional<AuditTrail> trail() {
    return java.util.Optional.ofNullable(trail);
  }

  /** Writes what is queued, then stops; call after the HTTP server stopped, before the database closes. */
  @Override
  public void close() {
    if (trail != null) {
      trail.close();
    }
  }
}
