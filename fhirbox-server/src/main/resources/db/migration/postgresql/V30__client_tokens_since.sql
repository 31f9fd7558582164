-- Access tokens a client was issued before tokens_since (epoch ms) are void: rotating its secret
-- sets it, as a password reset sets a user's sessions_since. 0: no rotation yet.
ALTER TABLE oauth_client ADD COLUMN tokens_since BIGINT DEFAULT 0 NOT NULL;
