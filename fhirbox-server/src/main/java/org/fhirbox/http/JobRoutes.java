package org.fhirbox.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.fhirbox.audit.AdminAction;
import org.fhirbox.audit.AdminListener;
import org.fhirbox.auth.ClientStore;
import org.fhirbox.auth.UserStore;
import org.fhirbox.core.FhirException;
import org.fhirbox.auth.Principal;
import org.fhirbox.binary.JobService;
import org.fhirbox.model.IngestJob;
import org.fhirbox.model.ListPosition;

/**
 * A project's ingestion jobs, as JSON, for project admins only:
 * <pre>
 * GET  /admin/jobs[?project=P][&amp;state=queued|running|done|failed|skipped][&amp;_count=n][&amp;_cursor=c]
 *                                            {"jobs":[...],"next"?}, newest first ({@link AdminPaging})
 * POST /admin/jobs/{id}/retry[?project=P]    the job, queued again (409 unless failed or skipped)
 * </pre>
 * The project is the caller's own; an admin of project {@value AdminRoutes#SERVER_PROJECT}
 * administers every project and names another with {@code project}, as on
 * {@code /admin/clients} and {@code /admin/users}. Any other admin naming another project gets
 * 400: silently listing its own project instead would read as "nothing failed there".
 * A retry is told to the audit listener ({@link AdminAction#INGEST_JOB_RETRIED}), in the job's project.
 */
public final class JobRoutes {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final JobService jobs;
  private final UserStore users;
  private final AdminListener audit;

  public JobRoutes(JobService jobs, UserStore users, AdminListener audit) {
    this.jobs = jobs;
    this.users = users;
    this.audit = audit;
  }

  /** Dispatches {@code segments}, the path after {@code /admin/jobs}. */
  public void handle(Exchange ex, Principal principal, List<String> segments) throws IOException {
    if (segments.size() == 2 && segments.get(1).equals("retry")) {
      if (!ex.method().equals("POST")) {
        throw FhirException.methodNotAllowed(ex.method() + " is not allowed here; use POST", "POST");
      }
      IngestJob job = jobs.retry(principal, () -> project(ex, principal), segments.get(0));
      audit.changed(AdminAction.INGEST_JOB_RETRIED, AdminRoutes.actor(ex, principal, users), job.project(), job.id(),
          null, job.resourceType() + "/" + job.resourceId() + " attachment " + job.attachmentIndex());
      ObjectNode body = JSON.createObjectNode();
      put(body, job);
      write(ex, body);
      return;
    }
    if (!segments.isEmpty()) {
      throw FhirException.notFound("no route for " + ex.request().getRequestURI());
    }
    list(ex, principal);
  }

  private void list(Exchange ex, Principal principal) throws IOException {
    if (!ex.method().equals("GET") && !ex.method().equals("HEAD")) {
      throw FhirException.methodNotAllowed(ex.method() + " is not allowed on /admin/jobs; use GET", "GET", "HEAD");
    }
    // the filters and the page are read once the caller is known to be an admin (JobService#list)
    AtomicReference<AdminPaging> page = new AtomicReference<>();
    List<IngestJob> listed = jobs.list(principal, () -> project(ex, principal),
        () -> ex.param("state").map(JobRoutes::state).orElse(null),
        () -> {
          page.set(AdminPaging.of(ex, "jobs", AdminPaging.filters("project", project(ex, principal), "state",
              ex.param("state").map(s -> state(s).code()).orElse(null))));
          return page.get().after();
        },
        () -> page.get().limit());
    Map<String, Object> body = new LinkedHashMap<>();
    page.get().put(ex, body, "jobs", listed, JobRoutes::view, j -> new ListPosition(j.created(), j.id()));
    write(ex, JSON.valueToTree(body));
  }

  /** The {@code project} parameter, for a server admin; the caller's own project otherwise. */
  private static String project(Exchange ex, Principal principal) {
    String named = ex.param("project").orElse(null);
    if (named == null || named.equals(principal.project())) {
      return principal.project();
    }
    if (!AdminRoutes.isServerAdmin(principal)) {
      throw FhirException.badRequest("an admin of project '" + principal.project() + "' sees only its own jobs; leave"
          + " out project or name '" + principal.project() + "'", "project");
    }
    if (!ClientStore.PROJECT_NAME.matcher(named).matches()) {
      throw FhirException.badRequest("project names use letters, digits and . _ - (at most 64)", "project");
    }
    return named;
  }

  private static ObjectNode view(IngestJob j) {
    ObjectNode o = JSON.createObjectNode();
    put(o, j);
    return o;
  }

  private static void put(ObjectNode o, IngestJob j) {
    o.put("id", j.id());
    o.put("resource", j.resourceType() + "/" + j.resourceId());
    o.put("resourceVersion", j.resourceVersion());
    o.put("attachmentIndex", j.attachmentIndex());
    o.put("url", j.url());
    o.put("state", j.state().code());
    o.put("attempts", j.attempts());
    o.put("nextAttemptAt", text(j.nextAttemptAt()));
    o.put("lastError", j.lastError());
    o.put("binary", j.binaryId() == null ? null : "Binary/" + j.binaryId());
    o.put("created", text(j.created()));
    o.put("updated", text(j.updated()));
  }

  private static void write(Exchange ex, ObjectNode body) throws IOException {
    ex.response().setStatus(200);
    ex.response().setHeader("Cache-Control", "no-store");
    ex.response().setContentType("application/json;charset=utf-8");
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.response().setContentLength(bytes.length);
    if (!ex.method().equals("HEAD")) { // RFC 9110 §9.3.2: GET's headers, no body
      ex.response().getOutputStream().write(bytes);
    }
  }

  private static String text(Instant i) {
    return i == null ? null : i.toString();
  }

  private static IngestJob.State state(String s) {
    try {
      return IngestJob.State.parse(s);
    } catch (IllegalArgumentException e) {
      throw FhirException.badRequest("state must be one of queued, running, done, failed, skipped");
    }
  }
}
