// Sign-in with OAuth2 authorization code + PKCE (RFC 7636, S256) as fhirbox's first-party public
// client. Tokens live in sessionStorage (this tab only, gone when it closes), never localStorage.
//
// A duplicated tab, or one opened by window.open, starts with a copy of this tab's sessionStorage:
// two tabs then hold one refresh token, which rotates on each use, and the second to present it
// would look like a thief to the server, which ends the sign-in for both (RFC 9700 §4.14.2). So
// the tabs of one sign-in (one `family`, made at sign-in) refresh one at a time (a Web Lock), and
// each first asks the others over a BroadcastChannel for a newer copy (a higher `gen`), which
// makes its own refresh unnecessary; after refreshing, a tab tells the others.

const SESSION = 'fhirbox.session';
const PENDING = 'fhirbox.pending';
const PROJECT = 'fhirbox.project';

let refreshing = null;
/** Sign-outs so far: a refresh that started before one does not save its tokens. */
let signOuts = 0;
/** How long a refreshing tab waits for another tab of its sign-in to hand it newer tokens. */
const ASK_MS = 150;
const tabs = typeof BroadcastChannel === 'function' ? new BroadcastChannel('fhirbox.session') : null;

function b64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function random(n) {
  return b64url(crypto.getRandomValues(new Uint8Array(n)));
}

/** The claims of a JWT, unverified: for display only (it came from our token endpoint). */
export function claims(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const text = new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)));
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/** What a request that got no answer says: the browser's own words ("Failed to fetch") say nothing. */
function unreachable() {
  return new Error(navigator.onLine === false ? 'You are offline. Reconnect and try again.'
    : 'The server cannot be reached. Check your connection and try again.');
}

/** How long a read before the sign-in (the config, the discovery document) is waited for. */
const SIGN_IN_READ_MS = 15000;
/** How long after leaving for the sign-in page "Sign in" is offered again if this page is still shown. */
const LEAVING_MS = 10000;

/** What a read before the sign-in that got no answer in SIGN_IN_READ_MS says. */
function noAnswer() {
  return new Error(`The server did not answer within ${SIGN_IN_READ_MS / 1000} seconds. Try again later.`);
}

export async function config(project) {
  const q = project ? `?project=${encodeURIComponent(project)}` : '';
  let r;
  try {
    r = await fetch(`config.json${q}`, { cache: 'no-store', signal: AbortSignal.timeout(SIGN_IN_READ_MS) });
  } catch (e) {
    throw e && e.name === 'TimeoutError' ? noAnswer() : unreachable();
  }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const issue = body.issue && body.issue[0];
    throw new Error(issue && issue.diagnostics ? issue.diagnostics : `The server answered ${r.status}.`);
  }
  return body;
}

export function session() {
  const s = sessionStorage.getItem(SESSION);
  return s ? JSON.parse(s) : null;
}

function save(s) {
  sessionStorage.setItem(SESSION, JSON.stringify(s));
}

export function lastProject() {
  return sessionStorage.getItem(PROJECT) || 'default';
}

/**
 * The issuer of the server's SMART discovery document (at the FHIR base), and whether its
 * authorization responses carry it: what the return from the sign-in page is checked against.
 */
async function discovery(cfg) {
  let body = null;
  try {
    const r = await fetch(new URL('.well-known/smart-configuration', `${cfg.fhirBase.replace(/\/$/, '')}/`),
      { cache: 'no-store', signal: AbortSignal.timeout(SIGN_IN_READ_MS) });
    body = r.ok ? await r.json() : null;
  } catch (e) {
    if (e && e.name === 'TimeoutError') throw noAnswer();
    body = null;
  }
  if (!body || typeof body.issuer !== 'string') {
    throw new Error('The sign-in server cannot be reached right now. Try again soon.');
  }
  return { iss: body.issuer, required: body.authorization_response_iss_parameter_supported === true };
}

/** Sends the browser to the sign-in page; afterwards the app opens `returnTo` (a #/ route). */
export async function signIn(project, returnTo, stillShown = false) {
  const cfg = await config(project);
  if (!crypto.subtle) throw new Error('Signing in needs a secure page: open fhirbox over https or on localhost.');
  const verifier = random(48);
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = random(16);
  const issuer = await discovery(cfg);
  sessionStorage.setItem(PROJECT, cfg.project);
  sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier, returnTo: returnTo || '#/', cfg, issuer }));
  const q = new URLSearchParams({
    response_type: 'code', client_id: cfg.clientId, redirect_uri: cfg.redirectUri, scope: cfg.scope,
    state, aud: cfg.fhirBase, code_challenge: challenge, code_challenge_method: 'S256',
  });
  location.assign(`${cfg.authorize}?${q}`);
  // the page is leaving; with `stillShown`, the promise resolves when the page is still shown after
  // LEAVING_MS (the person pressed Stop, or the sign-in page never came), so "Sign in" can be
  // pressed again; else it never does, and what waited on a request waits on
  return new Promise((resolve) => {
    if (stillShown) setTimeout(resolve, LEAVING_MS);
  });
}

/** How often a token request busy with 429 is tried again, and the longest wait before each try. */
const BUSY_RETRIES = 3;
const BUSY_WAIT_MAX_S = 60;

/**
 * POSTs `form` to the token (or revocation) endpoint. A 429 (`temporarily_unavailable`: client
 * authentication is held back, so the code or refresh token was not looked at) is no answer about
 * the sign-in: the request waits `Retry-After` and tries again, and when the endpoint stays busy it
 * throws an error without `oauth`, which leaves the sign-in as it is.
 */
async function tokenRequest(url, form) {
  for (let tries = 0; ; tries += 1) {
    let r;
    try {
      r = await fetch(url, { method: 'POST', body: new URLSearchParams(form), cache: 'no-store' });
    } catch {
      throw unreachable();
    }
    const body = await r.json().catch(() => ({}));
    if (r.ok) return body;
    if (r.status === 429 || body.error === 'temporarily_unavailable') {
      const wait = Math.min(BUSY_WAIT_MAX_S, Math.max(1, Number(r.headers.get('Retry-After')) || 1));
      if (tries < BUSY_RETRIES) {
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        continue;
      }
      const e = new Error(`The sign-in server is busy. Try again in ${wait} second${wait === 1 ? '' : 's'}.`);
      e.retryable = true;
      throw e;
    }
    const e = new Error(body.error_description || body.error || `The sign-in failed (${r.status}).`);
    e.oauth = body.error;
    throw e;
  }
}

function fromTokens(t, cfg, previous) {
  const id = t.id_token ? claims(t.id_token) : (previous ? previous.user : {});
  const authTime = id.auth_time || (previous && previous.authTime) || Math.floor(Date.now() / 1000);
  return {
    access: t.access_token,
    refresh: t.refresh_token || (previous && previous.refresh),
    expires: Date.now() + (t.expires_in || 3600) * 1000,
    scope: t.scope || '',
    user: id,
    authTime,
    ends: (authTime + cfg.signInLifetime) * 1000,
    cfg,
    family: previous && previous.family ? previous.family : random(16),
    gen: previous ? (previous.gen || 0) + 1 : 0,
  };
}

/** What the app does when another tab of this tab's sign-in signed out. */
let signedOutElsewhere = () => {};

/** `f` runs when another tab of this sign-in signs out; this tab's tokens are already forgotten then. */
export function whenSignedOutElsewhere(f) {
  signedOutElsewhere = f;
}

/**
 * Another tab of the same sign-in asks for newer tokens than its own, hands over its newer ones,
 * or signed out: a sign-out ends the sign-in for every tab, and none keeps a chart on screen.
 */
function heard({ data }) {
  const s = session();
  if (!s || !data || !s.family || data.family !== s.family) return;
  if (data.type === 'signedOut') {
    forget();
    signedOutElsewhere();
  } else if (data.type === 'ask' && s.gen > data.gen) {
    tabs.postMessage({ type: 'tokens', family: s.family, session: s });
  } else if (data.type === 'tokens' && data.session && data.session.gen > s.gen) {
    save(data.session);
  }
}
if (tabs) tabs.onmessage = heard;

/** This tab's session after the other tabs of its sign-in had ASK_MS to hand over newer tokens. */
async function newest(s) {
  if (!tabs || !s.family) return s;
  tabs.postMessage({ type: 'ask', family: s.family, gen: s.gen });
  await new Promise((resolve) => setTimeout(resolve, ASK_MS));
  return session();
}

/** Runs `task` while no other tab of the sign-in refreshes (where the browser has Web Locks). */
function oneAtATime(s, task) {
  return s && s.family && navigator.locks ? navigator.locks.request(`fhirbox.refresh:${s.family}`, task) : task();
}

/**
 * Back from the sign-in page with ?code=&state=: trades the code for tokens. Returns the route
 * to open, or null when this page load is not a sign-in's return.
 */
export async function completeSignIn() {
  const q = new URLSearchParams(location.search);
  if (!q.has('state') || !(q.has('code') || q.has('error'))) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  const expected = pending && pending.state === q.get('state');
  if (!expected && session()) {
    // a stray return (an old address reloaded, a link someone sent): this tab's sign-in goes on,
    // and the stray code is never traded
    history.replaceState(null, '', location.pathname + location.hash);
    return null;
  }
  history.replaceState(null, '', location.pathname + (pending ? pending.returnTo : '#/'));
  if (!expected) {
    throw new Error('This sign-in was not started here, or was already used. Sign in again.');
  }
  // RFC 9207 §2.4: the answer names the server that gave it; one from another server than the
  // sign-in started with (a mix-up, RFC 9700 §4.4) is refused before its code goes anywhere
  const issuer = pending.issuer || {};
  if (q.has('iss') ? q.get('iss') !== issuer.iss : issuer.required) {
    throw new Error('This sign-in was answered by another server than the one it started with, so it was'
      + ' not used. Sign in again.');
  }
  if (q.has('error')) throw new Error(q.get('error_description') || q.get('error'));
  const cfg = pending.cfg;
  const t = await tokenRequest(cfg.token, {
    grant_type: 'authorization_code', code: q.get('code'), redirect_uri: cfg.redirectUri,
    client_id: cfg.clientId, code_verifier: pending.verifier,
  });
  const s = fromTokens(t, cfg, null);
  // OpenID Connect userinfo: the name and email that "profile" grants
  try {
    const r = await fetch(cfg.userinfo, { headers: { Authorization: `Bearer ${s.access}` }, cache: 'no-store' });
    if (r.ok) s.user = { ...s.user, ...(await r.json()) };
  } catch {
    // the header then shows the person's FHIR resource
  }
  save(s);
  return pending.returnTo;
}

/** A new access token with the refresh token (which rotates); false when the sign-in is over. */
export function refresh() {
  if (!refreshing) {
    const asked = session();
    const before = signOuts;
    refreshing = oneAtATime(asked, async () => {
      const s = asked ? await newest(session() || asked) : null;
      if (!s || !s.refresh || before !== signOuts) return false;
      // another tab refreshed while this one waited: its tokens serve here too
      if (s.gen > asked.gen && s.expires - Date.now() > 60_000) return true;
      try {
        const t = await tokenRequest(s.cfg.token, { grant_type: 'refresh_token', refresh_token: s.refresh,
          client_id: s.cfg.clientId });
        if (before !== signOuts) return false;
        const fresh = fromTokens(t, s.cfg, s);
        save(fresh);
        if (tabs && fresh.family) tabs.postMessage({ type: 'tokens', family: fresh.family, session: fresh });
        return true;
      } catch (e) {
        if (e.oauth) {
          if (before === signOuts) sessionStorage.removeItem(SESSION);
          return false;
        }
        throw e;
      }
    }).finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** A current access token: refreshed a minute before it ends. */
export async function accessToken() {
  const s = session();
  if (!s) return null;
  if (s.expires - Date.now() < 60_000) {
    if (!(await refresh())) return null;
    const now = session();
    return now ? now.access : null;
  }
  return s.access;
}

/** The sign-in is over: back to the sign-in page, returning to the page the person was on. */
export function signInAgain() {
  const s = session();
  sessionStorage.removeItem(SESSION);
  return signIn(s ? s.cfg.project : lastProject(), location.hash || '#/');
}

/** Ends this tab's sign-in: forgets its tokens, its last search and its uploads to resume. */
function forget() {
  signOuts += 1;
  for (const key of Object.keys(sessionStorage)) {
    if (key === SESSION || key === 'fhirbox.search' || key.startsWith('fhirbox.tus:')) sessionStorage.removeItem(key);
  }
}

/**
 * Revokes the refresh token (RFC 7009), which ends the whole sign-in, and forgets the tokens, the
 * last search and the uploads to resume, here and in the other tabs of the sign-in; false when
 * the server could not be told.
 */
export async function signOut() {
  const s = session();
  forget();
  if (tabs && s && s.family) tabs.postMessage({ type: 'signedOut', family: s.family });
  if (!s || !s.refresh) return true;
  return tokenRequest(s.cfg.revoke, { token: s.refresh, token_type_hint: 'refresh_token',
    client_id: s.cfg.clientId }).then(() => true, () => false);
}

export function isAdmin() {
  const s = session();
  return !!s && s.scope.split(' ').includes('admin');
}
