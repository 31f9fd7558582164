-- One-time links that set a user's password (the only way a person sets or resets one).
-- token_hash is the base64url SHA-256 of the link's token: the token itself is shown once, in
-- the admin API's answer, and never stored. A link works until expires (epoch ms), once: used
-- is when it set a password, replaced when a newer link of the same user voided it (both epoch
-- ms, null while the link is open).
CREATE TABLE password_link (
  token_hash VARCHAR(64) NOT NULL PRIMARY KEY,
  user_id    VARCHAR(64) NOT NULL REFERENCES app_user (id),
  expires    BIGINT      NOT NULL,
  used       BIGINT,
  replaced   BIGINT,
  created    BIGINT      NOT NULL
);
CREATE INDEX password_link_user ON password_link (user_id);
CREATE INDEX password_link_expires ON password_link (expires);
