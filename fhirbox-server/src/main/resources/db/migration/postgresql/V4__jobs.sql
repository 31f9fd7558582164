-- Durable background jobs that fetch an external Attachment url into a Binary (DESIGN.md,
-- "background jobs"). Rows are the queue: a job is claimed by setting a lease (lease_owner,
-- lease_until); a lease that expires (node died) makes the job claimable again.
-- state: queued | running | done | failed | skipped. Times are epoch millis.
CREATE TABLE ingest_job (
  id               VARCHAR(64)  NOT NULL PRIMARY KEY,
  project          VARCHAR(64)  NOT NULL,
  res_type         VARCHAR(64)  NOT NULL,
  res_id           VARCHAR(64)  NOT NULL,
  res_version      BIGINT       NOT NULL,
  -- The Attachment's position among the resource's Attachments in FHIR terser order; together
  -- with url it locates the Attachment again in a later version.
  attachment_index INT          NOT NULL,
  url              TEXT NOT NULL,
  content_type     VARCHAR(255),
  state            VARCHAR(16)  NOT NULL,
  attempts         INT          NOT NULL,
  next_attempt_at  BIGINT       NOT NULL,
  lease_owner      VARCHAR(64),
  lease_until      BIGINT,
  last_error       VARCHAR(1000),
  binary_id        VARCHAR(64),
  created          BIGINT       NOT NULL,
  updated          BIGINT       NOT NULL
);
CREATE INDEX ingest_job_due ON ingest_job (state, next_attempt_at);
CREATE INDEX ingest_job_project ON ingest_job (project, state, created);
