// Every Attachment of a patient, from Patient.photo, Media, DocumentReference and Communication,
// shown by kind: image thumbnails, inline PDFs, players, downloads. Only URLs the server signed
// are previewed; any other web address is a link the person may choose to follow.
import * as api from './api.js';
import * as auth from './auth.js';
import { h, fill, size, date, hex, notice } from './dom.js';
import { isId } from './ids.js';

/**
 * Where the server's signed URLs start (config.json, kept with the sign-in): its /storage route
 * and, with the s3 or cloudfront signer, the bucket or the CDN. A sign-in from before the server
 * said so knows only the route beside the app.
 */
function places() {
  const cfg = (auth.session() || {}).cfg || {};
  return { storage: new URL(cfg.storageUrl || `${api.BASE}storage/`),
    objects: cfg.objectStoreUrl ? new URL(cfg.objectStoreUrl) : null };
}

/** An absolute http(s) URL, parsed (dot segments resolved), else null. */
function web(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u : null;
  } catch {
    return null;
  }
}

/**
 * `{ id, version }` when the server takes them in a path, else null: a FHIR id that is no dot
 * segment (isId), and no version (`version` undefined) or one as the server issues them, a
 * positive decimal (any other `_history/{vid}` it answers 404).
 */
function binaryVersion(id, version) {
  return isId(id)
    && (version === undefined || /^[1-9][0-9]{0,17}$/.test(version)) ? { id, version: version || null } : null;
}

/**
 * The Binary and version of a `Binary/{id}` or `Binary/{id}/_history/{vid}` reference, the only
 * forms the server stores and signs, else null.
 */
function reference(text) {
  const ref = /^Binary\/([^/?#]+)(?:\/_history\/([^/?#]+))?$/.exec(text || '');
  return ref ? binaryVersion(ref[1], ref[2]) : null;
}

/**
 * The Binary and version in a URL the server signed: on its /storage route (`{id}/{vid}`), or
 * with the s3 or cloudfront signer under the bucket's or distribution's prefix, whose key names
 * only the blob and whose `fhirbox-binary` parameter names the Binary version; or in a
 * `Binary/{id}` or `Binary/{id}/_history/{vid}` reference; else null. `version` is null when the
 * URL names none.
 */
function binaryOf(url) {
  const ref = reference(url);
  if (ref) return ref;
  const u = web(url);
  const { storage, objects } = places();
  if (u && objects !== null && api.under(u, objects)) return reference(u.searchParams.get('fhirbox-binary'));
  if (!u || !api.under(u, storage)) return null;
  const m = /^([^/]+)\/([^/]+)(?:\/thumbnail)?$/.exec(u.pathname.slice(storage.pathname.length));
  return m ? binaryVersion(m[1], m[2]) : null;
}

/** The Binary id in a URL the server signed (see binaryOf), or in a Binary/{id} reference, else null. */
export function binaryId(url) {
  const b = binaryOf(url);
  return b ? b.id : null;
}

/** True for a URL the server signed: under its /storage route, or under its bucket's or CDN's. */
export function isSigned(url) {
  const u = web(url);
  if (!u) return false;
  const { storage, objects } = places();
  return api.under(u, storage) || (objects !== null && api.under(u, objects));
}

/**
 * When a signed URL stops being served, in ms since 1970: its `Expires` (the /storage route and
 * CloudFront, seconds) or `X-Amz-Date` plus `X-Amz-Expires` (S3); Infinity when it names neither.
 */
export function expiresAt(url) {
  const u = web(url);
  if (!u) return Infinity;
  const p = u.searchParams;
  if (p.has('Expires')) return Number(p.get('Expires')) * 1000;
  const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(p.get('X-Amz-Date') || '');
  if (d && p.has('X-Amz-Expires')) {
    return Date.UTC(+d[1], +d[2] - 1, +d[3], +d[4], +d[5], +d[6]) + Number(p.get('X-Amz-Expires')) * 1000;
  }
  return Infinity;
}

/** Within this long of its end a signed URL is signed afresh before it is used. */
const MARGIN_MS = 30000;

function stale(url) {
  return expiresAt(url) - Date.now() < MARGIN_MS;
}

/**
 * Keeps a link or a player on a signed URL working while the page stays open past the URL's
 * lifetime (FHIRBOX_SIGNED_URL_TTL, an hour by default): a link followed at or near its URL's end
 * is signed afresh first, once a click; a player whose URL ended (a seek needs a new Range request) gets a
 * fresh one and goes on from where it was. `sign` resolves to a new URL. A link marked
 * `data-unsigned` holds no signed URL yet: it is signed when first followed. When signing fails
 * (the file was deleted, access ended, the server is away), `failed(error)` tells the person; by
 * default a message right after the element says why.
 */
export function keepSigned(el, sign, failed = (e) => cannotOpen(el, e)) {
  if (el.tagName === 'A') {
    // true while the link is followed with the URL just signed: that one is followed whatever the
    // clock says, since a clock ahead of the server's, or a lifetime shorter than MARGIN_MS, makes
    // every new URL look stale too, and each signing costs a request and an AuditEvent
    let signedNow = false;
    el.addEventListener('click', async (e) => {
      if (signedNow || !(el.hasAttribute('data-unsigned') || stale(el.href))) return;
      e.preventDefault();
      try {
        el.href = await sign();
        el.removeAttribute('data-unsigned');
      } catch (err) {
        failed(err);
        return;
      }
      signedNow = true;
      try {
        el.click();
      } finally {
        signedNow = false;
      }
    });
    return el;
  }
  let renewing = false;
  el.addEventListener('error', async () => {
    if (renewing || !stale(el.currentSrc || el.src)) return;
    renewing = true;
    const at = el.currentTime;
    const playing = !el.paused;
    try {
      const url = await sign();
      el.addEventListener('loadedmetadata', () => {
        if (at) el.currentTime = at;
        if (playing) el.play().catch(() => {});
      }, { once: true });
      el.src = url;
    } catch (err) {
      // the Binary may be gone, or access to it ended
      failed(err);
    } finally {
      renewing = false;
    }
  });
  return el;
}

/** Says, right after `el`, why its file cannot be opened; a later failure's words replace these. */
function cannotOpen(el, e) {
  const next = el.nextElementSibling;
  if (next && next.classList.contains('cannot-open')) next.remove();
  const said = notice(`This file cannot be opened now: ${e.message}`);
  said.classList.add('cannot-open');
  el.after(said);
}

/**
 * The `$presigned-url` of the version an attachment shows: the one its signed URL names (a pinned
 * `Binary/{id}/_history/{vid}` keeps naming that content, and an unpinned one the content its size
 * and SHA-1 describe), else the Binary's current version.
 */
function presigned(att) {
  const id = encodeURIComponent(att.binary);
  return att.version ? `Binary/${id}/_history/${encodeURIComponent(att.version)}/$presigned-url`
    : `Binary/${id}/$presigned-url`;
}

/** A new signed URL for the version an attachment shows. */
async function resign(att) {
  const p = await api.fhir(presigned(att));
  const found = ((p && p.parameter) || []).find((x) => x.name === 'url');
  if (!found) throw new Error('The server gave no URL for it.');
  return found.valueUrl;
}

/** `el`, kept signed when it shows a Binary's content. */
function signed(att, el) {
  return att.binary ? keepSigned(el, () => resign(att)) : el;
}

function item(att, source, resource, date, description) {
  const shows = binaryOf(att.url);
  return { ...att, source, ref: `${resource.resourceType}/${resource.id}`, date: att.creation || date
    || (resource.meta && resource.meta.lastUpdated), description: description || att.title,
    binary: shows ? shows.id : null, version: shows ? shows.version : null };
}

export function gather(patient, media, documents, communications) {
  const out = [];
  (patient.photo || []).forEach((a) => out.push(item(a, 'Photo', patient, null, null)));
  media.forEach((m) => m.content && out.push(item(m.content, 'Media', m, m.createdDateTime || m.issued,
    (m.note || []).map((n) => n.text).join(' ') || m.content.title)));
  documents.forEach((d) => (d.content || []).forEach((c) => c.attachment && out.push(item(c.attachment,
    (d.type && (d.type.text || (d.type.coding || [])[0]?.display)) || 'Document', d, d.date, d.description))));
  communications.forEach((c) => (c.payload || []).forEach((p) => p.contentAttachment && out.push(item(
    p.contentAttachment, 'Message', c, c.sent, (c.payload || []).map((x) => x.contentString).filter(Boolean).join(' ')))));
  return out;
}

export function kind(att) {
  const t = (att.contentType || '').toLowerCase();
  if (t.startsWith('image/') && t !== 'image/svg+xml') return 'image';
  if (t === 'application/pdf') return 'pdf';
  if (t.startsWith('video/')) return 'video';
  if (t.startsWith('audio/')) return 'audio';
  return 'other';
}

function name(att) {
  return att.title || (att.binary ? `file ${att.binary}` : 'file');
}

export function details(att) {
  return h('dl', { class: 'details' },
    h('dt', {}, 'Type'), h('dd', {}, att.contentType || 'unknown'),
    h('dt', {}, 'Size'), h('dd', {}, size(att.size)),
    h('dt', {}, 'Date'), h('dd', {}, date(att.date) || 'unknown'),
    h('dt', {}, 'Description'), h('dd', {}, att.description || '—'),
    h('dt', {}, 'SHA-1'), h('dd', { class: 'mono' }, hex(att.hash) || 'unknown'));
}

function detailsLink(att) {
  return att.binary ? h('a', { href: `#/file/${encodeURIComponent(att.binary)}?ref=${encodeURIComponent(att.ref)}` },
    `Details of ${name(att)}`) : null;
}

function preview(att) {
  if (!att.url && typeof att.data === 'string') return inline(att);
  if (!isSigned(att.url)) {
    const outside = web(att.url);
    return outside ? external(att, outside) : h('p', { class: 'hint' }, 'You may not open this file.');
  }
  const label = name(att);
  switch (kind(att)) {
    case 'image':
      return image(att, label);
    case 'pdf':
      return pdfFrame(att, label);
    case 'video':
      return signed(att, h('video', { class: 'player', src: att.url, controls: true, preload: 'metadata',
        'aria-label': `Video: ${label}` }));
    case 'audio':
      return signed(att, h('audio', { src: att.url, controls: true, preload: 'metadata',
        'aria-label': `Audio: ${label}` }));
    default:
      // a bucket's or CDN's URL is of another origin, where browsers ignore `download`: in a tab of
      // its own it never takes the app's place (from /storage the file is saved all the same)
      return signed(att, h('a', { class: 'download', href: att.url, download: att.title || '', target: '_blank',
        rel: 'noopener' }, `Download ${label}`));
  }
}

/**
 * A PDF inline, loaded as its frame comes near the viewport, which may be long after the page
 * opened: a URL at or near its end is signed afresh first, since a frame, unlike a player, cannot
 * be given a new URL once its load has failed. The storage route sends PDFs with CSP sandbox: the
 * document runs in an opaque origin.
 */
function pdfFrame(att, label) {
  const frame = h('iframe', { class: 'pdf', title: `PDF preview: ${label}` });
  whenVisible(frame, async () => {
    let url = att.url;
    if (att.binary && stale(url)) {
      try {
        url = await resign(att);
      } catch (e) {
        frame.replaceWith(notice(`The PDF cannot be shown now: ${e.message}`));
        return;
      }
    }
    frame.src = url;
  });
  return frame;
}

/**
 * An attachment that carries its content in the resource (`data`, base64): nothing was signed for
 * it, so there is no preview, but a download made here from those bytes. They are handed over as
 * `application/octet-stream`, whatever the content type says, so the browser saves them and never
 * shows them as a page of the app's origin.
 */
function inline(att) {
  const label = name(att);
  const message = h('p', { class: 'hint' }, 'Stored in the resource itself: no preview.');
  const download = () => {
    let bytes;
    try {
      bytes = Uint8Array.from(atob(att.data), (c) => c.charCodeAt(0));
    } catch {
      fill(message, 'Its content is not valid base64, so it cannot be downloaded.');
      return;
    }
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const a = h('a', { href: url, download: att.title || 'file' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  };
  return h('div', { class: 'inline' }, h('button', { type: 'button', onclick: download }, `Download ${label}`), message);
}

/**
 * A URL on another server (ingestion is off for the project, or failed): nothing is fetched from
 * it here, since what it sends is not what was stored and it would learn who opens the chart. The
 * person may open it in a tab of its own, which gets neither this page nor its address.
 */
function external(att, u) {
  return h('div', { class: 'external' },
    h('a', { href: u.href, target: '_blank', rel: 'noopener noreferrer' }, `External link to ${u.host}: ${name(att)}`),
    h('p', { class: 'hint' }, `Not stored in fhirbox: it opens ${u.host} in a new tab.`));
}

/**
 * An image: a tile that opens it full size, which becomes its thumbnail once the server has made
 * one (a few KB, whatever the photo's size). Content that gives no thumbnail keeps the tile.
 */
function image(att, label) {
  const link = signed(att, h('a', { class: 'tile', href: att.url, target: '_blank', rel: 'noopener' },
    `Image (${size(att.size)}): open ${label} full size`));
  if (att.binary) whenVisible(link, () => thumbnail(att, link, label));
  return link;
}

async function thumbnail(att, link, label) {
  let url;
  try {
    const p = await api.fhir(`${presigned(att)}?thumbnail=true`);
    url = p.parameter.find((x) => x.name === 'url').valueUrl;
  } catch {
    return;
  }
  const img = h('img', { class: 'thumb', alt: label, decoding: 'async', width: 256, height: 192 });
  img.addEventListener('load', () => {
    link.className = 'thumb-link';
    link.setAttribute('aria-label', `Open ${label} full size`);
    fill(link, img);
  }, { once: true });
  img.src = url;
}

/** Runs `work` once `el` comes near the viewport, so a long grid asks for what is seen. */
function whenVisible(el, work) {
  if (!('IntersectionObserver' in window)) {
    work();
    return;
  }
  const seen = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) {
      seen.disconnect();
      work();
    }
  }, { rootMargin: '300px' });
  seen.observe(el);
}

const GROUPS = [['image', 'Images'], ['pdf', 'PDF documents'], ['video', 'Video'], ['audio', 'Audio'],
  ['other', 'Other files']];

function card(a) {
  return h('li', { class: 'file card', 'data-binary': a.binary || '' },
    h('div', { class: 'preview' }, preview(a)),
    h('p', { class: 'file-name' }, h('strong', {}, name(a)), ` · ${a.source}`),
    details(a), detailsLink(a));
}

/** A card marked "New": a file saved here, shown above the pages read before. */
function newCard(a) {
  const li = card(a);
  li.classList.add('new');
  li.querySelector('.file-name').prepend(h('span', { class: 'badge' }, 'New'), ' ');
  return li;
}

/**
 * The files shown by kind, in sections (an empty kind has none): `add(items)` puts more at the end
 * of their kinds' sections, so a later page of the searches keeps what is shown (players,
 * thumbnails); `addNew(items)` puts files saved here at the top of theirs, marked "New".
 */
export function fileList() {
  const el = h('div', { class: 'file-list' });
  const empty = h('p', {}, 'No files yet.');
  const lists = new Map();
  el.append(empty);
  const put = (items, place) => {
    for (const [k, title] of GROUPS) {
      const list = items.filter((a) => kind(a) === k);
      if (!list.length) continue;
      if (!lists.has(k)) {
        const ul = h('ul', { class: k === 'image' ? 'grid' : 'stack' });
        lists.set(k, ul);
        // sections keep the order of GROUPS whichever page a kind first appears on
        const later = GROUPS.slice(GROUPS.findIndex(([g]) => g === k) + 1).map(([g]) => lists.get(g))
          .find((u) => u && u.isConnected);
        const section = h('section', { class: `files files-${k}`, 'aria-label': title }, h('h3', {}, title), ul);
        if (later) el.insertBefore(section, later.parentElement);
        else el.append(section);
      }
      place(lists.get(k), list);
    }
    if (lists.size) empty.remove();
  };
  return { el,
    add: (items) => put(items, (ul, list) => ul.append(...list.map(card))),
    addNew: (items) => put(items, (ul, list) => ul.prepend(...list.map(newCard))) };
}
