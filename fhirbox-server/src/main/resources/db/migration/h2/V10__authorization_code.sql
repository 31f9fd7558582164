-- Clients that people sign in to (SMART App Launch). A public client (a browser or mobile app)
-- has no secret, so secret_hash becomes optional; redirect_uris is the space-separated list of
-- registered redirect URIs (a URI has no spaces, RFC 3986), compared exactly. A first-party
-- client (the server's own web app) skips the consent page.
ALTER TABLE oauth_client ALTER COLUMN secret_hash DROP NOT NULL;
ALTER TABLE oauth_client ADD COLUMN public_client BOOLEAN DEFAULT FALSE NOT NULL;
ALTER TABLE oauth_client ADD COLUMN first_party BOOLEAN DEFAULT FALSE NOT NULL;
ALTER TABLE oauth_client ADD COLUMN redirect_uris CHARACTER VARYING DEFAULT '' NOT NULL;

-- An authorization request between its pages (sign-in, patient picker, consent), found by the
-- SHA-256 of the sign-in cookie's value, never the value itself. csrf is the token every form
-- of the request carries. user_id, auth_time and patient are set as the person gets through.
CREATE TABLE authorization_request (
  id_hash         VARCHAR(64)   NOT NULL PRIMARY KEY,
  csrf            VARCHAR(64)   NOT NULL,
  client_id       VARCHAR(128)  NOT NULL,
  redirect_uri    VARCHAR(2000) NOT NULL,
  state           VARCHAR(2000),
  scopes          VARCHAR(4000) NOT NULL,
  code_challenge  VARCHAR(128)  NOT NULL,
  nonce           VARCHAR(512),
  user_id         VARCHAR(64),
  auth_time       BIGINT,
  patient         VARCHAR(64),
  expires         BIGINT        NOT NULL
);
CREATE INDEX authorization_request_expires ON authorization_request (expires);

-- Authorization codes (RFC 6749 §4.1), by the SHA-256 of the code. Single use: used turns true
-- on the first exchange and the row stays until it is purged, so a second exchange is known for
-- what it is and ends the refresh tokens issued from the code (family).
CREATE TABLE authorization_code (
  code_hash       VARCHAR(64)   NOT NULL PRIMARY KEY,
  client_id       VARCHAR(128)  NOT NULL,
  redirect_uri    VARCHAR(2000) NOT NULL,
  code_challenge  VARCHAR(128)  NOT NULL,
  scopes          VARCHAR(4000) NOT NULL,
  user_id         VARCHAR(64)   NOT NULL,
  patient         VARCHAR(64),
  nonce           VARCHAR(512),
  auth_time       BIGINT        NOT NULL,
  family          VARCHAR(64)   NOT NULL,
  used            BOOLEAN       NOT NULL,
  expires         BIGINT        NOT NULL
);
CREATE INDEX authorization_code_expires ON authorization_code (expires);

-- Refresh tokens, by the SHA-256 of the token. Each use rotates: the row is marked used and a
-- new one of the same family is issued. Presenting a used token revokes the whole family.
-- expires is the family's: counted from the sign-in (auth_time), never extended by rotation.
CREATE TABLE refresh_token (
  token_hash      VARCHAR(64)   NOT NULL PRIMARY KEY,
  family          VARCHAR(64)   NOT NULL,
  client_id       VARCHAR(128)  NOT NULL,
  user_id         VARCHAR(64)   NOT NULL,
  project         VARCHAR(64)   NOT NULL,
  scopes          VARCHAR(4000) NOT NULL,
  patient         VARCHAR(64),
  auth_time       BIGINT        NOT NULL,
  issued          BIGINT        NOT NULL,
  expires         BIGINT        NOT NULL,
  used            BOOLEAN       NOT NULL,
  revoked         BOOLEAN       NOT NULL
);
CREATE INDEX refresh_token_family ON refresh_token (family);
CREATE INDEX refresh_token_expires ON refresh_token (expires);
