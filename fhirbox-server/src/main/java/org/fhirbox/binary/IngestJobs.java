package org.fhirbox.binary;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.IngestJob;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;
import org.fhirbox.fhir.AttachmentNormalizer;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.fhir.ResourceRepository;
import org.fhirbox.fhir.Written;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Resource;

/**
 * Enqueues ingestion jobs inside the writing transaction, so a job exists exactly when the
 * write that asked for it committed. A job is made for every Attachment (found by type,
 * however nested) whose url the {@link UrlPolicy} permits and that no Attachment of the
 * previous version had. Refused URLs get no job and stay as written. Projects listed in
 * {@code FHIRBOX_INGEST_DISABLED_PROJECTS} get no jobs at all, and neither does a writer that may
 * not create the Binary ingestion would make, whose {@code securityContext} is the written
 * resource ({@link AttachmentNormalizer.Gate#mayCreateBinary}): its urls stay as written.
 *
 * <p>Each job fetches from a server someone else runs, up to its attempts, so what one request may
 * queue is capped ({@link #MAX_JOBS_PER_WRITE}, 400: the request is too big whenever it is sent), and
 * so is what a project has queued or running ({@code FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT}, 429 with
 * {@code Retry-After}: room comes back as its jobs finish, RFC 6585 §4). The project's count is
 * read in the writing transaction without a lock, so writes committing at the same moment may
 * pass it together by their own jobs: a lock per project would make a project's writes with new
 * urls take turns, and, taken amid a transaction's other locks, could deadlock with it.
 */
public final class IngestJobs implements ResourceRepository.WriteListener {
  /**
   * The new external urls one request may have fetched (one job each), whether one resource names
   * them or the entries of a Bundle do together; more is 400.
   */
  public static final int MAX_JOBS_PER_WRITE = 100;
  /** {@code Retry-After} of a write refused for its project's backlog: workers take a few jobs a second. */
  static final long BACKLOG_RETRY_AFTER_SECONDS = 60;

  private final FhirTerser terser;
  private final FhirCodec codec;
  private final UrlPolicy policy;
  private final Set<String> disabledProjects;
  private final long maxQueuedPerProject;
  private final Clock clock;

  /**
   * @param maxQueuedPerProject the most jobs a project may have queued or running
   *     ({@code FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT}); at least {@link #MAX_JOBS_PER_WRITE}, so
   *     a request alone always fits once the backlog is gone
   */
  public IngestJobs(FhirContext ctx, FhirCodec codec, UrlPolicy policy, Set<String> disabledProjects,
      long maxQueuedPerProject, Clock clock) {
    if (maxQueuedPerProject < MAX_JOBS_PER_WRITE) {
      throw new IllegalArgumentException("FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT must be at least "
          + MAX_JOBS_PER_WRITE + ", got " + maxQueuedPerProject);
    }
    this.terser = ctx.newTerser();
    this.codec = codec;
    this.policy = policy;
    this.disabledProjects = Set.copyOf(disabledProjects);
    this.maxQueuedPerProject = maxQueuedPerProject;
    this.clock = clock;
  }

  /** Whether ingestion is switched off for {@code project} ({@code FHIRBOX_INGEST_DISABLED_PROJECTS}). */
  public boolean disabled(String project) {
    return disabledProjects.contains(project);
  }

  @Override
  public void written(ResourceStore.Tx tx, String project, Written written, AttachmentNormalizer.Gate gate) {
    StoredResource s = written.stored();
    if (s.deleted() || s.type().equals("Binary") || disabledProjects.contains(project)) {
      return;
    }
    List<Attachment> attachments = written.attachments().own();
    if (attachments.isEmpty()) {
      return;
    }
    Set<String> before = s.versionId() > 1 ? previousUrls(tx, s) : Set.of();
    Instant now = clock.instant();
    Boolean mayCreate = null; // asked once, when a url would get a job
    List<IngestJob> jobs = new ArrayList<>();
    for (int i = 0; i < attachments.size(); i++) {
      Attachment a = attachments.get(i);
      String url = a.getUrl();
      if (url == null || before.contains(url) || !policy.permits(url)) {
        continue;
      }
      if (mayCreate == null) {
        mayCreate = gate.mayCreateBinary(s.type() + "/" + s.id());
      }
      if (!mayCreate) {
        return;
      }
      if (jobs.size() == MAX_JOBS_PER_WRITE) {
        // each job fetches from a server someone else runs, up to its attempts: one resource does
        // not get to queue thousands of fetches (nor fill the job table)
        throw FhirException.badRequest("the " + s.type() + " names more than " + MAX_JOBS_PER_WRITE + " new external "
            + "Attachment urls to fetch; write at most " + MAX_JOBS_PER_WRITE + " at a time", "Attachment.url");
      }
      // it becomes the ingested Binary's contentType, under the same rule; refused here, before the
      // job row (VARCHAR(255), V4 migration) fails the whole write with a 500 or the job fails later
      BinaryAttributes.requireContentType(a.hasContentType() ? a.getContentType() : null, "Attachment.contentType",
          "Attachment.contentType");
      jobs.add(IngestJob.queued(ResourceIds.newId(), project, s.type(), s.id(), s.versionId(), i,
          url, a.hasContentType() ? a.getContentType() : null, now));
    }
    if (jobs.isEmpty()) {
      return;
    }
    requireRoom(tx, project, s, jobs.size(), gate.fetchesQueued());
    jobs.forEach(tx.ingestJobs()::insert);
    gate.queuedFetches(jobs.size());
  }

  /**
   * 400 when the request's writes, this one's {@code jobs} with the {@code before} of its earlier
   * ones, would queue more than {@link #MAX_JOBS_PER_WRITE}; 429 when the project's unfinished jobs
   * and these would pass {@code FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT}.
   */
  private void requireRoom(ResourceStore.Tx tx, String project, StoredResource s, int jobs, int before) {
    if (before + jobs > MAX_JOBS_PER_WRITE) {
      // a Bundle's entries count together: its 100 entries would otherwise queue 100 jobs each
      throw FhirException.badRequest("this request names more than " + MAX_JOBS_PER_WRITE + " new external "
          + "Attachment urls to fetch: " + before + " in the writes before this " + s.type() + ", " + jobs
          + " in it; a request may have at most " + MAX_JOBS_PER_WRITE + " fetched, a Bundle's entries together",
          "Attachment.url");
    }
    requireBacklogRoom(tx, project, jobs, "this " + s.type() + " would queue " + jobs + " more");
  }

  /**
   * 429 when {@code project}'s unfinished jobs and {@code jobs} more would pass
   * {@code FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT}; {@code what} says what would queue them.
   */
  void requireBacklogRoom(ResourceStore.Tx tx, String project, int jobs, String what) {
    long pending = tx.ingestJobs().pendingCount(project);
    if (pending + jobs > maxQueuedPerProject) {
      // 429, not 503: this project's own backlog, which shrinks as its jobs finish (RFC 6585 §4)
      throw FhirException.tooManyRequests("this project has " + pending + " ingestion jobs queued or running, and "
          + what + ": FHIRBOX_INGEST_MAX_QUEUED_PER_PROJECT allows a project at most " + maxQueuedPerProject
          + " at once; try again once some have finished (GET /admin/jobs lists them)", BACKLOG_RETRY_AFTER_SECONDS);
    }
  }

  /** The Attachments of {@code resource} in terser order: the order jobs index them by. */
  public List<Attachment> attachments(Resource resource) {
    return terser.getAllPopulatedChildElementsOfType(resource, Attachment.class);
  }

  private Set<String> previousUrls(ResourceStore.Tx tx, StoredResource s) {
    Set<String> urls = new HashSet<>();
    tx.version(s.project(), s.type(), s.id(), s.versionId() - 1)
        .filter(p -> !p.deleted())
        .flatMap(p -> codec.tryFromJson(p.json()))
        .ifPresent(p -> attachments(p).forEach(a -> {
          if (a.hasUrl()) {
            urls.add(a.getUrl());
          }
        }));
    return urls;
  }
}
