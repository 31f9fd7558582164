-- Every version of every resource, per project. content is the resource JSON (null for deletes).
CREATE TABLE resource_version (
  project       VARCHAR(64)  NOT NULL,
  res_type      VARCHAR(64)  NOT NULL,
  res_id        VARCHAR(64)  NOT NULL,
  version_id    BIGINT       NOT NULL,
  last_updated  BIGINT       NOT NULL,
  deleted       BOOLEAN      NOT NULL,
  content       CHARACTER VARYING,
  PRIMARY KEY (project, res_type, res_id, version_id)
);
CREATE INDEX resource_version_type_time ON resource_version (project, res_type, last_updated);
CREATE INDEX resource_version_time ON resource_version (project, last_updated);

-- The newest version of each resource: what read and search see.
CREATE TABLE resource_current (
  project       VARCHAR(64)  NOT NULL,
  res_type      VARCHAR(64)  NOT NULL,
  res_id        VARCHAR(64)  NOT NULL,
  version_id    BIGINT       NOT NULL,
  last_updated  BIGINT       NOT NULL,
  deleted       BOOLEAN      NOT NULL,
  content       CHARACTER VARYING,
  PRIMARY KEY (project, res_type, res_id)
);
CREATE INDEX resource_current_type_time ON resource_current (project, res_type, last_updated);

-- Search index: one row per extracted value of a search parameter of the current version.
-- Columns by parameter kind: token/reference/string use system+code, date uses low/high
-- (epoch millis), number/quantity use num. New standard parameters need only an extractor.
CREATE TABLE search_value (
  project       VARCHAR(64)  NOT NULL,
  res_type      VARCHAR(64)  NOT NULL,
  res_id        VARCHAR(64)  NOT NULL,
  param         VARCHAR(100) NOT NULL,
  sys           VARCHAR(255),
  code          VARCHAR(512),
  low           BIGINT,
  high          BIGINT,
  num           DECIMAL(30, 10)
);
CREATE INDEX search_value_code ON search_value (project, res_type, param, code);
CREATE INDEX search_value_date ON search_value (project, res_type, param, low, high);
CREATE INDEX search_value_res ON search_value (project, res_type, res_id);

-- The stored bytes of each Binary version (blob first, row second: see DESIGN.md).
CREATE TABLE binary_content (
  project          VARCHAR(64)  NOT NULL,
  res_id           VARCHAR(64)  NOT NULL,
  version_id       BIGINT       NOT NULL,
  blob_key         CHAR(32)     NOT NULL,
  size             BIGINT       NOT NULL,
  sha256           CHAR(64)     NOT NULL,
  sha1             CHAR(40)     NOT NULL,
  content_type     VARCHAR(255) NOT NULL,
  filename         VARCHAR(255),
  security_context VARCHAR(200),
  created          BIGINT       NOT NULL,
  PRIMARY KEY (project, res_id, version_id)
);
CREATE INDEX binary_content_blob ON binary_content (blob_key);
