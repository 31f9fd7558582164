-- Projects (tenants). Every client and every resource belongs to exactly one.
CREATE TABLE project (
  name     VARCHAR(64)  NOT NULL PRIMARY KEY,
  created  BIGINT       NOT NULL
);

-- OAuth2 clients (client_credentials). secret_hash is a PasswordHasher string, never the secret;
-- scopes is a space-separated SMART v2 scope list; jwks is the registered public JWK Set for
-- private_key_jwt (null when the client authenticates by secret only).
CREATE TABLE oauth_client (
  client_id    VARCHAR(128)  NOT NULL PRIMARY KEY,
  project      VARCHAR(64)   NOT NULL REFERENCES project (name),
  secret_hash  VARCHAR(255)  NOT NULL,
  scopes       VARCHAR(4000) NOT NULL,
  admin        BOOLEAN       NOT NULL,
  disabled     BOOLEAN       NOT NULL,
  jwks         CHARACTER VARYING,
  created      BIGINT        NOT NULL,
  updated      BIGINT        NOT NULL
);
CREATE INDEX oauth_client_project ON oauth_client (project);

-- The token-signing key shared by every node. name is a fixed slot ('access-token') so that
-- nodes starting together race on one primary key: the first insert wins, the others read it.
CREATE TABLE server_key (
  name     VARCHAR(32)  NOT NULL PRIMARY KEY,
  kid      VARCHAR(64)  NOT NULL UNIQUE,
  jwk      CHARACTER VARYING NOT NULL,
  created  BIGINT       NOT NULL
);

-- private_key_jwt assertion ids already used, kept until the assertion expires (replay guard).
CREATE TABLE used_jti (
  client_id  VARCHAR(128) NOT NULL,
  jti        VARCHAR(255) NOT NULL,
  expires    BIGINT       NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX used_jti_expires ON used_jti (expires);
