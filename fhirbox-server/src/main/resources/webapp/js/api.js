// Calls to the server with the person's access token. Every failure becomes an ApiError whose
// message is words a person can read: the OperationOutcome's diagnostics, or what went wrong.
import * as auth from './auth.js';

/** The server's base URL: the app lives at {base}app/. */
export const BASE = new URL('../', location.href).href;
export const FHIR = `${BASE}fhir/R4/`;

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The diagnostics of an OperationOutcome (or an OAuth error), else a sentence about the status. */
export function describe(status, body) {
  if (body && body.resourceType === 'OperationOutcome' && Array.isArray(body.issue)) {
    const words = body.issue.map((i) => i.diagnostics || (i.details && i.details.text) || i.code).filter(Boolean);
    if (words.length) return words.join(' ');
  }
  if (body && (body.error_description || body.error)) return body.error_description || body.error;
  const known = { 401: 'Your sign-in has ended.', 403: 'You are not allowed to do this.',
    404: 'It was not found.', 410: 'It was deleted.', 413: 'It is too large for the server.',
    429: 'Too many attempts; wait a little.', 503: 'The server is not available right now; try again soon.' };
  return known[status] || `The server answered ${status}.`;
}

export function offlineError() {
  return new ApiError(navigator.onLine === false ? 'You are offline. Reconnect and try again.'
    : 'The server cannot be reached. Check your connection and try again.', 0, null);
}

async function send(url, options, token) {
  const headers = new Headers(options.headers || {});
  if (token) headers.set('Authorization', `Bearer ${token}`);
  try {
    return await fetch(url, { ...options, headers, cache: 'no-store' });
  } catch {
    throw offlineError();
  }
}

/**
 * Whether `url` may carry the access token: only the FHIR base and the admin API of this server
 * (same origin and path prefix). A Bundle link is the server's to write, and one leading
 * elsewhere, even to another path of this origin, is not sent the token (RFC 6750 §5.3).
 */
function mayCarryToken(url) {
  const s = auth.session();
  const bases = s && s.cfg && s.cfg.fhirBase ? [...OWN_APIS, folder(s.cfg.fhirBase)] : OWN_APIS;
  let u;
  try {
    u = new URL(url, location.href);
  } catch {
    return false;
  }
  return bases.some((base) => under(u, base));
}

/** `base` as a URL that names a folder (ending in "/"). */
export function folder(base) {
  return new URL(base.endsWith('/') ? base : `${base}/`);
}

/** This server's FHIR and admin APIs, which requests carry the token to. */
const OWN_APIS = [folder(FHIR), folder(`${BASE}admin/`)];

/** Whether URL `u` lies under URL `prefix`: the same origin, and a path that starts with its path. */
export function under(u, prefix) {
  return u.origin === prefix.origin && u.pathname.startsWith(prefix.pathname);
}

/**
 * A request with the access token; a 401 refreshes it once, and a sign-in that is over goes
 * back to the sign-in page (which returns to this page). Returns parsed JSON, or null for 204.
 */
export async function call(url, options = {}) {
  if (!mayCarryToken(url)) {
    throw new ApiError('The server gave a link that leads outside its FHIR API, so it was not followed.', 0, null);
  }
  let token = await auth.accessToken();
  if (!token) return auth.signInAgain();
  let r = await send(url, options, token);
  if (r.status === 401) {
    if (!(await auth.refresh())) return auth.signInAgain();
    token = await auth.accessToken();
    r = await send(url, options, token);
  }
  if (options.raw) {
    if (!r.ok) throw new ApiError(describe(r.status, await r.json().catch(() => null)), r.status, null);
    return r;
  }
  const text = await r.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!r.ok) throw new ApiError(describe(r.status, body), r.status, body);
  return body;
}

/** A FHIR request relative to the FHIR base (or an absolute URL from a Bundle link). */
export function fhir(path, options = {}) {
  const url = /^https?:/.test(path) ? path : FHIR + path;
  const headers = { Accept: 'application/fhir+json', ...(options.headers || {}) };
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/fhir+json';
    return call(url, { ...options, headers, body: JSON.stringify(options.json) });
  }
  return call(url, { ...options, headers });
}

/** An admin API request ({base}admin/...). */
export function admin(path, options = {}) {
  const headers = { Accept: 'application/json' };
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    return call(BASE + 'admin/' + path, { ...options, headers, body: JSON.stringify(options.json) });
  }
  return call(BASE + 'admin/' + path, { ...options, headers });
}

/** The resources of a search Bundle. */
export function resources(bundle) {
  return ((bundle && bundle.entry) || []).map((e) => e.resource).filter(Boolean);
}

export function link(bundle, relation) {
  const l = ((bundle && bundle.link) || []).find((x) => x.relation === relation);
  return l ? l.url : null;
}
