-- The algorithm a client's ID tokens are signed with (OpenID Connect Dynamic Client Registration
-- §2, id_token_signed_response_alg): RS256 or ES256. NULL means RS256, the default OIDC Core
-- §3.1.3.7 lets a client expect.
ALTER TABLE oauth_client ADD COLUMN id_token_alg VARCHAR(16);
