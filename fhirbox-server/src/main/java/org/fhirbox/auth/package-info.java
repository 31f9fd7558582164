/**
 * Authentication (of clients and people), projects (tenants) and access checks. {@link AuthModule} builds
 * everything; decisions worth knowing:
 *
 * <ul>
 *   <li>Access tokens are ES256 JWTs signed with one key kept in table {@code server_key} under a
 *       fixed slot name, so nodes starting together race on one primary key and agree on the key.
 *   <li>Client secrets: the server's own (256 random bits) are stored as salted SHA-256, a
 *       chosen bootstrap secret as PBKDF2-HMAC-SHA256 with 600 000 iterations (150-450 ms per
 *       check on a 2-core machine); see {@link PasswordHasher}. A verified
 *       id/secret/hash triple is remembered for 60 s under an HMAC so Basic authentication on
 *       every request costs about 0.1 ms.
 *   <li>A disabled client is refused at once on the token endpoint and with Basic; its access
 *       tokens stop working within 60 s (client status cached per client id on verify), and so do
 *       those issued before its secret was rotated ({@code tokens_since}).
 *   <li>Failed client authentication is throttled in memory, per node, by three counters: 5
 *       failures per client id and address, 20 per address, and 100 per client id across all
 *       addresses (not applied to an address the client authenticated from in the last day);
 *       beyond them, 1 s, 2 s, 4 s ... at most 60 s. An IPv6 address counts by its /64. A public
 *       client, which has no secret, is never held back: naming it is no attempt, and a secret
 *       sent for its id does not count on the id. See {@code AuthThrottle}.
 *   <li>private_key_jwt {@code jti}s are kept in table {@code used_jti}, keyed by client id and
 *       jti, until the assertion expires, so a replay to another node is refused too.
 *   <li>Admins of project {@code default} administer every project; other admins only their own.
 *   <li>Without {@code FHIRBOX_BOOTSTRAP_CLIENT_ID}/{@code _SECRET}, the first start on an empty
 *       database creates admin client {@code admin} (fixed id, so concurrent nodes create one).
 *   <li>Users (people) have passwords stretched like a chosen client secret, set only through a
 *       one-time link ({@link PasswordLinks}: SHA-256 of a 256-bit token stored, 24 h, single use)
 *       or by {@code FHIRBOX_BOOTSTRAP_USER_EMAIL}/{@code _PASSWORD}. {@link SignIn} checks them
 *       with the client throttle's three counters, keyed by account (project and email) instead of
 *       client id. A user's tokens stop working within 60 s of a disable or a password reset
 *       ({@code sessions_since}), as a client's do.
 *   <li>People sign in through {@link SignInModule} (SMART App Launch): a public client has no
 *       secret and is known by its exactly compared redirect URIs ({@link ClientProfile}). The
 *       authorization request between pages, codes and refresh tokens live in the database as
 *       SHA-256 hashes only, so any node serves the next step and a database copy yields nothing
 *       usable. Codes are single-use, 60 s, PKCE S256; refresh tokens rotate, and a reused one
 *       revokes its whole sign-in; the access tokens of an ended sign-in stop working within 60 s,
 *       as a disabled user's do. Failed sign-ins are throttled like client authentication.
 * </ul>
 */
package org.fhirbox.auth;
