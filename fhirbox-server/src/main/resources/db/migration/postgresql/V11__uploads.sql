-- Resumable (tus) uploads: those in progress, and finished ones until they expire (README,
-- "Resumable uploads (tus)"). offset_bytes and blob_state are the durable progress: an
-- acknowledged PATCH has written both, so any node resumes from them. A request writes bytes
-- only while it holds the lease (lease_owner, lease_until), which it takes with a conditional
-- UPDATE naming the offset it starts from: of two racing PATCHes, on one node or two, one wins.
-- binary_id names the Binary a finished upload makes a new version of (null: a new Binary);
-- result_id and result_version the Binary version it became, written in the transaction that
-- created that version. length_bytes is null while the client defers it. Times are epoch millis.
CREATE TABLE resumable_upload (
  id               VARCHAR(64)   NOT NULL PRIMARY KEY,
  project          VARCHAR(64)   NOT NULL,
  client_id        VARCHAR(128)  NOT NULL,
  user_id          VARCHAR(64),
  binary_id        VARCHAR(64),
  content_type     VARCHAR(255)  NOT NULL,
  filename         VARCHAR(255),
  security_context VARCHAR(200),
  metadata         VARCHAR(4000),
  length_bytes     BIGINT,
  offset_bytes     BIGINT        NOT NULL,
  blob_key         VARCHAR(32)   NOT NULL,
  blob_state       TEXT NOT NULL,
  lease_owner      VARCHAR(64),
  lease_until      BIGINT,
  result_id        VARCHAR(64),
  result_version   BIGINT,
  created          BIGINT        NOT NULL,
  updated          BIGINT        NOT NULL,
  expires          BIGINT        NOT NULL
);
CREATE INDEX resumable_upload_expires ON resumable_upload (expires);
CREATE INDEX resumable_upload_blob ON resumable_upload (blob_key);
