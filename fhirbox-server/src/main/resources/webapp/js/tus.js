// A tus 1.0.0 client (https://tus.io/protocols/resumable-upload): creation, HEAD to learn the
// offset, PATCH pieces from there, termination. A cut connection or a restarting server is
// retried with growing pauses (HEAD first), so an upload goes on from the last byte the server
// acknowledged. Upload URLs are remembered in sessionStorage by file and metadata, so picking the
// same file again for the same place in this tab resumes it; two of them never run at once.
// Only an upload URL under the upload endpoint is used, and so sent the access token.
import { describe, folder, offlineError, under } from './api.js';

const VERSION = '1.0.0';
const RETRY_DELAYS = [500, 1000, 2000, 3000, 5000, 5000, 10000];
const MAX_RETRIES = 60;
/** The longest a server's Retry-After is waited before asking again. */
const MAX_RETRY_AFTER_MS = 30000;

function metadata(values) {
  const enc = (s) => {
    let bin = '';
    for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
    return btoa(bin);
  };
  return Object.entries(values).filter(([, v]) => v).map(([k, v]) => `${k} ${enc(String(v))}`).join(',');
}

/**
 * The key an upload is remembered by: the file and everything the upload was created with (the
 * endpoint and all its metadata), so the same file sent elsewhere (another patient's context,
 * another Binary's new version) never resumes this one.
 */
function fingerprint(file, endpoint, values) {
  const meta = Object.entries(values || {}).filter(([, v]) => v).map(([k, v]) => [k, String(v)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `fhirbox.tus:${JSON.stringify([endpoint, meta, file.name, file.size, file.lastModified])}`;
}

/**
 * `url` (read against `endpoint`) as an absolute URL when it lies under the upload endpoint, as
 * the server's upload URLs do (`{endpoint}/{id}`): the same origin, and a path below the
 * endpoint's own as a folder, so `…/Binary/$upload-url` or another server is not one. Else null:
 * such a URL is never sent the access token (RFC 6750 §5.3), whether a creation's `Location`
 * named it or it was read back from sessionStorage.
 */
function uploadUrl(url, endpoint) {
  if (typeof url !== 'string' || !url) return null;
  let u;
  try {
    u = new URL(url, endpoint);
  } catch {
    return null;
  }
  return under(u, folder(endpoint)) ? u.href : null;
}

/** The keys of the uploads of this tab that are running: one upload a key at a time. */
const live = new Set();
/** The uploads of this tab that are running. */
const runningUploads = new Set();

// leaving the app (reload, close, another address) while an upload runs asks the person first
window.addEventListener('beforeunload', (e) => {
  if (runningUploads.size === 0) return;
  e.preventDefault();
  e.returnValue = '';
});

/**
 * Pauses every upload of this tab (signing out). The sign-out then forgets their upload URLs
 * (`auth.signOut` removes the `fhirbox.tus:` keys), so none is resumed by the next sign-in, which
 * uploads such a file anew; the server lets the paused uploads expire.
 */
export function pauseAll() {
  [...runningUploads].forEach((u) => u.pause());
}

/**
 * A Retry-After header (seconds, or an HTTP date) in ms, at most MAX_RETRY_AFTER_MS, so that a
 * far date or a wrong clock never holds an upload long; null without one.
 */
function retryAfter(value) {
  if (!value) return null;
  const ms = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  if (Number.isNaN(ms)) return null;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** A refusal the person has to act on; `status` is the server's. */
class Refused extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/**
 * How many bytes of the file the server has, from an answer's Upload-Offset. An answer without it
 * (a proxy that drops the header) ends the upload: going on from a guess would send the file again
 * and again.
 */
function uploadOffset(r) {
  const value = r.getResponseHeader('Upload-Offset');
  if (value === null || !/^\d+$/.test(value.trim())) {
    throw new Refused('The server\'s answer did not say how much of the file it has (no Upload-Offset), so the'
      + ' upload stopped. Try again later, or tell an administrator.', 0);
  }
  return Number(value);
}

/**
 * new Upload(file, { endpoint, metadata, token: async () => accessToken, refresh: async () => bool,
 *   chunkSize, onProgress(sent, total), onState(text), onDone(binaryLocation), onError(message, status) })
 * `status` is the server's refusal (401: the sign-in ended and refreshing it failed), else 0.
 */
export class Upload {
  constructor(file, options) {
    this.file = file;
    this.options = { ...options, chunkSize: options.chunkSize || 8 * 1024 * 1024 };
    this.key = fingerprint(file, options.endpoint, options.metadata);
    this.url = null;
    this.offset = 0;
    this.running = false;
    this.xhr = null;
    this.retries = 0;
    // each start() runs one loop; pause and cancel end it, even while it waits to retry
    this.generation = 0;
  }

  start() {
    if (this.running) return;
    if (live.has(this.key)) {
      this.options.onError('This file is already being uploaded here in this tab; wait for it, or cancel it.');
      return;
    }
    live.add(this.key);
    runningUploads.add(this);
    this.running = true;
    if (!this.url) {
      // a remembered URL outside the upload endpoint is dropped: the upload starts afresh
      const stored = sessionStorage.getItem(this.key);
      this.url = uploadUrl(stored, this.options.endpoint);
      if (stored !== null && !this.url) sessionStorage.removeItem(this.key);
    }
    this.generation += 1;
    const generation = this.generation;
    this.run(generation).catch((e) => {
      if (generation === this.generation) this.fail(e);
    });
  }

  /** Not running any more: another may take the upload on. */
  stop() {
    this.generation += 1;
    if (this.running) live.delete(this.key);
    runningUploads.delete(this);
    this.running = false;
  }

  /**
   * Stops sending. A creation on its way is not aborted (the server may have handled it): the
   * upload its answer names is kept, and Resume goes on with it rather than creating another.
   */
  pause() {
    this.stop();
    if (this.xhr && !this.creating) this.xhr.abort();
    this.options.onState('Paused');
  }

  /**
   * Ends the upload. A creation on its way is not aborted (the server may have handled it): its
   * answer is awaited and the upload it names deleted. An upload with an address is asked first
   * (HEAD) whether it is complete, as it is when the last piece reached the server before its
   * answer did: then the new Binary exists and the upload ends as saved (onDone), not cancelled.
   */
  async cancel() {
    // another row running the same upload keeps it
    const another = !this.running && live.has(this.key);
    this.stop();
    if (another) {
      if (this.xhr) this.xhr.abort();
      this.options.onState('Cancelled');
      return;
    }
    sessionStorage.removeItem(this.key);
    if (this.creating) {
      this.cancelling = true;
      this.options.onState('Cancelling…');
      await this.creating;
    } else {
      if (this.xhr) this.xhr.abort();
      if (this.url) {
        const location = await this.complete();
        if (location) {
          this.options.onDone(location);
          return;
        }
        await this.request('DELETE', this.url, {}).catch(() => {});
      }
    }
    this.options.onState('Cancelled');
  }

  /**
   * The Binary of this upload when the server has all of it (its HEAD names the Binary, or its
   * offset is the length); else null. A HEAD answered 423 (the Binary being committed) is asked again.
   */
  async complete() {
    for (let tries = 0; tries < 10; tries += 1) {
      let r;
      try {
        r = await this.request('HEAD', this.url, {});
      } catch {
        return null;
      }
      if (r.status === 423) {
        await new Promise((resolve) => setTimeout(resolve, retryAfter(r.getResponseHeader('Retry-After')) ?? 500));
        continue;
      }
      if (r.status !== 200) return null;
      const location = r.getResponseHeader('Content-Location');
      const offset = r.getResponseHeader('Upload-Offset');
      const length = r.getResponseHeader('Upload-Length');
      if (location || (offset !== null && offset === length && Number(offset) === this.file.size)) {
        return location || this.location;
      }
      return null;
    }
    return null;
  }

  fail(e) {
    this.stop();
    // a refusal of the upload itself forgets it; an ended sign-in (401) does not, so after
    // signing in again the same file goes on from where it stopped
    if (e instanceof Refused && e.status !== 401) sessionStorage.removeItem(this.key);
    this.options.onError(e.message, e instanceof Refused ? e.status : 0);
  }

  /** The loop of one start(): it stops as soon as it is no longer the current one. */
  async run(generation) {
    const current = () => this.running && this.generation === generation;
    while (current()) {
      try {
        // resumed while a creation paused on its way is still unanswered: that one's upload is used
        if (!this.url && this.creating) await this.creating;
        if (!current()) return;
        if (!this.url) {
          await this.create(generation);
        } else {
          await this.head(generation);
        }
        while (current() && this.offset < this.file.size) {
          await this.patch(generation);
          this.retries = 0;
        }
        if (current() && this.offset >= this.file.size) {
          if (!this.location) await this.head(generation);
          if (!current()) return;
          sessionStorage.removeItem(this.key);
          this.stop();
          this.options.onDone(this.location);
        }
        return;
      } catch (e) {
        if (!current()) return;
        if (e instanceof Refused) throw e;
        this.retries += 1;
        if (this.retries > MAX_RETRIES) throw e;
        const wait = e.retryAfter ?? RETRY_DELAYS[Math.min(this.retries - 1, RETRY_DELAYS.length - 1)];
        this.options.onState(`${e.message} Retrying in ${Math.round(wait / 1000) || 1} s…`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * Creates the upload. Its request is never aborted: a cancel meanwhile (`this.creating` is
   * pending) deletes the upload the answer names, so none is left behind on the server.
   */
  async create(generation) {
    let created;
    this.creating = new Promise((resolve) => { created = resolve; });
    let r;
    try {
      r = await this.request('POST', this.options.endpoint, {
        'Upload-Length': String(this.file.size),
        'Upload-Metadata': metadata(this.options.metadata),
      }, null, null, generation);
    } catch (e) {
      this.creating = null;
      created();
      throw e;
    }
    this.creating = null;
    if (generation !== this.generation) {
      const url = r.status === 201 ? uploadUrl(r.getResponseHeader('Location'), this.options.endpoint) : null;
      if (url && this.cancelling) {
        await this.request('DELETE', url, {}).catch(() => {});
      } else if (url && !this.url) {
        // paused meanwhile: Resume goes on with this upload
        this.url = url;
        sessionStorage.setItem(this.key, url);
        this.offset = Number(r.getResponseHeader('Upload-Offset') || 0);
      }
      created();
      throw new Error('Stopped.');
    }
    created();
    if (r.status !== 201) throw this.refusal(r);
    const url = uploadUrl(r.getResponseHeader('Location'), this.options.endpoint);
    if (!url) {
      throw new Refused('The server named an upload address outside its upload endpoint, so the file was not'
        + ' sent there and the upload stopped. Try again later, or tell an administrator.', 0);
    }
    this.url = url;
    sessionStorage.setItem(this.key, this.url);
    this.offset = Number(r.getResponseHeader('Upload-Offset') || 0);
    this.location = r.getResponseHeader('Content-Location');
    this.progress(this.offset);
  }

  async head(generation) {
    const r = await this.request('HEAD', this.url, {}, null, null, generation);
    if (r.status === 404 || r.status === 410) {
      // gone (expired, or another's): start afresh
      sessionStorage.removeItem(this.key);
      this.url = null;
      this.offset = 0;
      throw new Error('The earlier upload is gone; starting again.');
    }
    if (r.status !== 200) throw this.refusal(r);
    this.offset = uploadOffset(r);
    this.location = r.getResponseHeader('Content-Location');
    this.progress(this.offset);
  }

  async patch(generation) {
    const end = Math.min(this.offset + this.options.chunkSize, this.file.size);
    const base = this.offset;
    this.options.onState('Uploading');
    const r = await this.request('PATCH', this.url, {
      'Upload-Offset': String(this.offset),
      'Content-Type': 'application/offset+octet-stream',
    }, this.file.slice(this.offset, end), (loaded) => this.progress(base + loaded), generation);
    if (r.status === 409) throw new Error('The server has a different offset.');
    if (r.status !== 204) throw this.refusal(r);
    this.offset = uploadOffset(r);
    this.location = r.getResponseHeader('Content-Location') || this.location;
    this.progress(this.offset);
  }

  progress(sent) {
    this.options.onProgress(Math.min(sent, this.file.size), this.file.size);
  }

  /**
   * A refusal the person has to act on (4xx) ends the upload; anything else is retried. A 409 and
   * a 423 are retried too, as is any answer that says when to ask again (Retry-After): the server
   * answers a HEAD with 423 while another request commits the upload's Binary, and forgetting the
   * upload then would end it refused although its Binary is about to exist.
   */
  refusal(r) {
    let body = null;
    try {
      body = JSON.parse(r.responseText);
    } catch {
      body = null;
    }
    // a HEAD's 423 (another request is committing the upload's Binary) has no body to give the server's words
    const message = (r.status === 409 || r.status === 423) && !body ? 'The server is still saving this file.'
      : describe(r.status, body);
    const after = retryAfter(r.getResponseHeader('Retry-After'));
    const retryable = r.status >= 500 || r.status === 0 || r.status === 409 || r.status === 423 || r.status === 429
      || after !== null;
    if (!retryable) return new Refused(message, r.status);
    const e = new Error(message);
    if (after !== null) e.retryAfter = after;
    return e;
  }

  /** One request; one of a loop (`generation`) is not sent once that loop has ended. */
  async request(method, url, headers, body, onUpload, generation, second) {
    const token = await this.options.token();
    if (generation && generation !== this.generation) throw new Error('Stopped.');
    const r = await new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.xhr = xhr;
      xhr.open(method, url);
      xhr.setRequestHeader('Tus-Resumable', VERSION);
      if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      if (onUpload) xhr.upload.onprogress = (e) => onUpload(e.loaded);
      xhr.onload = () => resolve(xhr);
      xhr.onerror = () => reject(offlineError());
      xhr.onabort = () => reject(new Error('Stopped.'));
      xhr.send(body || null);
    });
    this.xhr = null;
    if (r.status === 401 && !second && (await this.options.refresh())) {
      return this.request(method, url, headers, body, onUpload, generation, true);
    }
    return r;
  }
}
