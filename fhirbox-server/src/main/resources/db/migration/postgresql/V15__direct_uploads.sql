-- Presigned direct uploads straight to S3 that are not confirmed yet (README, "Direct uploads
-- (presigned)"): what the upload URL granted, so that a first read of the reserved Binary, or the
-- background check, can confirm the object when the client never called the completion URL.
-- upload_id is the S3 multipart upload of a part-wise upload (null: one PUT). The row goes when
-- the Binary is created, or once the URL expired and the orphan grace passed. next_check is when
-- the background check looks at the row next; a node takes it by moving it forward (a conditional
-- UPDATE), so of several nodes one checks it. Times are epoch millis.
CREATE TABLE direct_upload (
  binary_id        VARCHAR(64)   NOT NULL PRIMARY KEY,
  project          VARCHAR(64)   NOT NULL,
  client_id        VARCHAR(128),
  blob_key         VARCHAR(32)   NOT NULL,
  upload_id        VARCHAR(1024),
  size_bytes       BIGINT        NOT NULL,
  sha256           VARCHAR(64)   NOT NULL,
  content_type     VARCHAR(255)  NOT NULL,
  filename         VARCHAR(255),
  security_context VARCHAR(200),
  expires          BIGINT        NOT NULL,
  next_check       BIGINT        NOT NULL
);
CREATE INDEX direct_upload_next_check ON direct_upload (next_check);
