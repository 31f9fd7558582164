// A file's page: its metadata, its versions (each viewable and downloadable), a new version,
// a share link with a chosen lifetime, and for admins who accessed it.
import * as api from './api.js';
import * as auth from './auth.js';
import { h, fill, field, size, date, hex, notice } from './dom.js';
import { Upload } from './tus.js';
import { signInAgainButton } from './upload.js';
import { gather, binaryId, isSigned, keepSigned } from './attachments.js';
import { isId } from './ids.js';

const LIFETIMES = [[900, '15 minutes'], [3600, '1 hour'], [86400, '1 day'], [604800, '7 days']];

/**
 * The resource named by the page's `ref` and its attachment of Binary `id`. It is taken for the
 * file's holder (its patient, "Held in", the attachment a new version updates) only when it does
 * attach the file: a ref that does not, or that cannot be read, gives no holder and a `warning`.
 * A ref whose id is no FHIR id or is "." or ".." (isId) is not read: `Patient/..` is the FHIR base.
 * What the read answers is the holder only as the resource the ref names (its type and id), since
 * a new version updates the holder by the type and id it names itself.
 */
async function attachmentOf(ref, id) {
  const named = /^(Patient|Media|DocumentReference|Communication)\/([^/]+)$/.exec(ref || '');
  if (!named || !isId(named[2])) return { resource: null };
  let r;
  try {
    r = await api.fhir(ref);
  } catch (e) {
    return { resource: null, warning: `${ref} could not be read, so it is not shown as this file's holder: ${e.message}` };
  }
  if (!r || r.resourceType !== named[1] || r.id !== named[2]) {
    return { resource: null,
      warning: `The server's answer for ${ref} names another resource, so it is not shown as this file's holder.` };
  }
  const items = r.resourceType === 'Patient' ? gather(r, [], [], [])
    : gather({ resourceType: 'Patient', id: '' }, r.resourceType === 'Media' ? [r] : [],
      r.resourceType === 'DocumentReference' ? [r] : [], r.resourceType === 'Communication' ? [r] : []);
  const att = items.find((a) => a.binary === id);
  return att ? { resource: r, att } : { resource: null, warning: `${ref} does not attach this file, so it is not shown as its holder.` };
}

/** `current()` is false once the person has gone elsewhere: what loaded then is dropped. */
export async function filePage(main, id, params, current = () => true) {
  const ref = params.get('ref');
  const [binary, history, found] = await Promise.all([
    api.fhir(`Binary/${encodeURIComponent(id)}`),
    api.fhir(`Binary/${encodeURIComponent(id)}/_history?_count=50`),
    attachmentOf(ref, id)]);
  // only the current version is signed now; every other one when its link is first followed, as
  // each signing is a request and an AuditEvent saying this person obtained that version
  const now = binary.meta ? binary.meta.versionId : null;
  const shownVersions = await Promise.all(api.resources(history).map((v) => version(id, v, v.meta.versionId === now)));
  if (!current()) return;
  const versionList = h('ul', { class: 'stack', id: 'versions' }, shownVersions);
  const att = found.att || {};
  const name = att.title || `Binary ${id}`;
  document.title = `${name} · fhirbox`;
  const audit = h('section', { 'aria-labelledby': 'audit-title' });
  fill(main,
    h('p', {}, back(found.resource)),
    h('h1', {}, name),
    found.warning ? notice(found.warning, 'warn') : null,
    h('dl', { class: 'details' },
      h('dt', {}, 'Type'), h('dd', {}, binary.contentType || 'unknown'),
      h('dt', {}, 'Size'), h('dd', {}, size(att.size)),
      h('dt', {}, 'Date'), h('dd', {}, date(att.date || (binary.meta && binary.meta.lastUpdated))),
      h('dt', {}, 'Description'), h('dd', {}, att.description || '—'),
      h('dt', {}, 'SHA-1'), h('dd', { class: 'mono' }, hex(att.hash) || 'unknown'),
      h('dt', {}, 'Version'), h('dd', {}, binary.meta ? binary.meta.versionId : ''),
      h('dt', {}, 'Held in'), h('dd', {}, found.resource ? ref : '—')),
    h('div', { class: 'actions' }, share(id), newVersion(id, binary, found.resource)),
    h('section', { 'aria-labelledby': 'versions-title' }, h('h2', { id: 'versions-title' }, 'Versions'),
      versionList,
      older('Show older versions', api.link(history, 'next'), async (bundle) => {
        versionList.append(...api.resources(bundle).map((v) => version(id, v, false)));
      }, 'Every version is shown.')),
    audit);
  if (auth.isAdmin()) await auditTrail(audit, id);
}

/**
 * The id in a reference to a Patient of this server (`Patient/{id}`, maybe with a version), else
 * null: a subject that is a Group or a Device, on another server, or only an identifier or a
 * display has no patient page here, nor has an id or version that is no FHIR id or is "." or ".."
 * (isId).
 */
function patientId(reference) {
  const m = /^Patient\/([^/]+)(?:\/_history\/([^/]+))?$/.exec(typeof reference === 'string' ? reference : '');
  return m && isId(m[1]) && (m[2] === undefined || isId(m[2])) ? m[1] : null;
}

/** Back to the patient the holder is (or is about), else to the patients. */
function back(holder) {
  const patient = !holder ? null
    : holder.resourceType === 'Patient' ? holder.id : patientId(holder.subject && holder.subject.reference);
  return patient ? h('a', { href: `#/patient/${encodeURIComponent(patient)}` }, '← Patient')
    : h('a', { href: '#/' }, '← Patients');
}

/**
 * A version's entry. Its View and Download links come from the version's own `$presigned-url`, which
 * works also where Binary JSON carries no url: signed now when `signNow` (the current version),
 * else when either link is first followed, the one URL then serving both. The page may stay open
 * past the URL's lifetime, so the links are signed afresh when used then (keepSigned). A version
 * whose id is no FHIR id or is "." or ".." (isId) has no links: `_history/..` would sign the
 * current version.
 */
function version(id, v, signNow) {
  const n = v.meta.versionId;
  const heading = [h('strong', {}, `Version ${n}`), ` · ${v.contentType || ''} · ${date(v.meta.lastUpdated)}`];
  if (!isId(n)) {
    return h('li', { class: 'card', 'data-version': n }, heading,
      h('p', { class: 'hint' }, 'This version cannot be opened here: the server named it by no valid id.'));
  }
  const said = h('span', { role: 'status' });
  const links = [
    h('a', { href: `#/file/${encodeURIComponent(id)}`, target: '_blank', rel: 'noopener', 'data-unsigned': true,
      'aria-label': `View version ${n}` }, 'View'),
    h('a', { href: `#/file/${encodeURIComponent(id)}`, download: '', 'data-unsigned': true,
      'aria-label': `Download version ${n}` }, 'Download')];
  let pending = null;
  const signing = async () => {
    fill(said);
    try {
      const p = await api.fhir(`Binary/${encodeURIComponent(id)}/_history/${encodeURIComponent(n)}/$presigned-url`);
      const found = (p.parameter || []).find((x) => x.name === 'url');
      if (!found) throw new Error('This version is not readable.');
      links.forEach((a) => {
        a.href = found.valueUrl;
        a.removeAttribute('data-unsigned');
      });
      return found.valueUrl;
    } catch (e) {
      fill(said, ` ${e.message}`);
      throw e;
    }
  };
  // a second click while the first is signing waits for that signing
  const sign = () => pending || (pending = signing().finally(() => {
    pending = null;
  }));
  const li = h('li', { class: 'card', 'data-version': n }, heading,
    // a signing that fails says why in the version's own status
    h('div', { class: 'row' }, links.map((a) => keepSigned(a, sign, () => {})), said));
  if (signNow) return sign().then(() => li, () => li);
  return li;
}

function share(id) {
  const lifetime = h('select', {}, LIFETIMES.map(([s, label]) => h('option', { value: s, selected: s === 3600 }, label)));
  const output = h('input', { type: 'url', readonly: true, id: 'share-link', value: '' });
  const result = h('div', { class: 'share-result', hidden: true }, field('Share link', output,
    'Anyone with this link can open the file until it expires.'));
  const message = h('div');
  const button = h('button', { type: 'button', class: 'primary', onclick: async () => {
    // a link shown stays only until the next one is asked for: a failed attempt leaves none on
    // screen under the newly chosen lifetime
    fill(message);
    output.value = '';
    result.hidden = true;
    try {
      const p = await api.fhir(`Binary/${encodeURIComponent(id)}/$presigned-url?expiresIn=${lifetime.value}`);
      const found = ((p && p.parameter) || []).find((x) => x.name === 'url' && x.valueUrl);
      if (!found) throw new Error('The server did not send a share link for this file. Try again later.');
      output.value = found.valueUrl;
      result.hidden = false;
      output.select();
      try {
        await navigator.clipboard.writeText(output.value);
        fill(message, notice('Copied to the clipboard.', 'info'));
      } catch {
        fill(message, notice('Select the link and copy it.', 'info'));
      }
    } catch (e) {
      fill(message, notice(e.message));
    }
  } }, 'Copy share link');
  return h('section', { class: 'card', 'aria-labelledby': 'share-title' }, h('h2', { id: 'share-title' }, 'Share'),
    field('Link lifetime', lifetime), button, result, message);
}

/**
 * "Upload new version": one at a time. While one uploads, the picker is disabled (a pick that
 * reaches it all the same is refused in words) and "Cancel upload" is offered; both come back
 * to how they were once it ends: saved, refused or cancelled.
 */
function newVersion(id, binary, holder) {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Upload of the new version' });
  const message = h('div');
  const refusal = h('div');
  const label = h('label', { for: 'new-version', class: 'button' }, 'Upload new version');
  let running = null;
  const cancel = h('button', { type: 'button', hidden: true, onclick: () => {
    if (running) running.cancel();
  } }, 'Cancel upload');
  const busy = (upload) => {
    running = upload;
    picker.disabled = upload !== null;
    label.classList.toggle('disabled', upload !== null);
    cancel.hidden = upload === null;
    if (upload === null) {
      fill(refusal);
      // the Cancel button the person pressed is gone: the picker takes the focus
      if (!document.activeElement || document.activeElement === document.body || document.activeElement === cancel) {
        picker.focus({ preventScroll: true });
      }
    }
  };
  const picker = h('input', { type: 'file', id: 'new-version', class: 'visually-hidden', onchange: () => {
    const file = picker.files[0];
    // emptied, so that picking the same file again (after a refusal) is a pick again
    picker.value = '';
    if (!file) return;
    if (running) {
      fill(refusal, notice(`A new version is still uploading, so ${file.name} was not sent. Wait for it to end, or cancel it.`));
      return;
    }
    fill(message);
    const contentType = file.type || 'application/octet-stream';
    // the holder takes the new version's name and type; until it has, the page stays as it is with
    // the error and a way to try again, since showing the new version would wipe both
    const describeHolder = async () => {
      if (holder) {
        try {
          await refill(holder, id, file.name, contentType);
        } catch (e) {
          const ref = `${holder.resourceType}/${holder.id}`;
          const again = h('button', { type: 'button', class: 'primary', onclick: () => {
            again.disabled = true;
            fill(message, h('p', { role: 'status' }, `Updating ${ref}…`));
            describeHolder();
          } }, `Update ${ref} again`);
          fill(message, notice(`The new version is stored, but ${ref} still describes the earlier one: ${e.message}`),
            again);
          return;
        }
      }
      // shown again with the new version only while the person is still on this file's page
      if (onFilePage(id)) window.dispatchEvent(new HashChangeEvent('hashchange'));
    };
    const upload = new Upload(file, {
      endpoint: `${api.FHIR}Binary/$upload`,
      metadata: { filename: file.name, contentType, binaryId: id },
      token: () => auth.accessToken(),
      refresh: () => auth.refresh(),
      onProgress: (sent, total) => {
        bar.value = sent;
        bar.max = total || 1;
      },
      chunkSize: Number(document.body.dataset.chunkSize) || undefined,
      onState: (text) => {
        fill(message, h('p', { role: 'status' }, text));
        if ((text === 'Cancelled' || text === 'Paused') && running === upload) busy(null);
      },
      onError: (text, status) => {
        if (running === upload) busy(null);
        fill(message, notice(text), status === 401 ? signInAgainButton() : null);
      },
      onDone: () => {
        if (running === upload) busy(null);
        describeHolder();
      },
    });
    busy(upload);
    upload.start();
  } });
  return h('section', { class: 'card', 'aria-labelledby': 'version-title' }, h('h2', { id: 'version-title' }, 'New version'),
    label, picker, cancel, bar, message, refusal,
    h('p', { class: 'hint' }, `Replaces the content of this ${binary.contentType || ''} file; earlier versions stay.`));
}

/** True while the page shown is Binary `id`'s file page. */
function onFilePage(id) {
  const m = /^#\/file\/([^/?]+)/.exec(location.hash);
  try {
    return m !== null && decodeURIComponent(m[1]) === id;
  } catch {
    return false;
  }
}

/**
 * The holder's attachments of this Binary take the new version's name and content type, and forget
 * size and hash, which the server fills from the new version.
 */
async function refill(holder, id, title, contentType) {
  const fresh = await api.fhir(`${holder.resourceType}/${holder.id}`);
  const visit = (node) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      // a URL on another server that merely looks like ours stays as it is
      if (typeof node.url === 'string'
        && (node.url === `Binary/${id}` || (isSigned(node.url) && binaryId(node.url) === id))) {
        node.url = `Binary/${id}`;
        node.contentType = contentType;
        node.title = title;
        delete node.size;
        delete node.hash;
      }
      Object.values(node).forEach(visit);
    }
  };
  visit(fresh);
  await api.fhir(`${holder.resourceType}/${holder.id}`, { method: 'PUT', json: fresh,
    headers: { 'If-Match': `W/"${fresh.meta.versionId}"` } });
}

async function auditTrail(el, id) {
  let first;
  try {
    first = await api.fhir(`AuditEvent?entity=${encodeURIComponent(`Binary/${id}`)}&_count=50&_sort=-_lastUpdated`);
  } catch (e) {
    fill(el, h('h2', { id: 'audit-title' }, 'Audit trail'), notice(e.message));
    return;
  }
  const who = (e) => (e.agent || []).map((a) => a.altId || (a.who && (a.who.display || a.who.reference
    || (a.who.identifier && a.who.identifier.value)))).filter(Boolean).join(', ');
  const row = (e) => h('tr', {},
    h('td', {}, date(e.recorded)), h('td', {}, e.action || ''),
    h('td', {}, (e.subtype || []).map((s) => s.display || s.code).join(', ') || (e.type && (e.type.display || e.type.code)) || ''),
    h('td', {}, who(e)),
    h('td', {}, (e.agent || []).map((a) => a.network && a.network.address).filter(Boolean).join(', ')));
  const events = api.resources(first);
  const rows = h('tbody', {}, events.map(row));
  fill(el, h('h2', { id: 'audit-title' }, 'Audit trail'),
    events.length === 0 ? h('p', {}, 'No access recorded yet.') : h('div', { class: 'scroll', tabindex: 0,
      role: 'region', 'aria-label': 'Who accessed this file' }, h('table', {},
      h('caption', {}, 'Who accessed this file'),
      h('thead', {}, h('tr', {}, ['When', 'Action', 'What', 'Who', 'From'].map((t) => h('th', { scope: 'col' }, t)))),
      rows)),
    older('Show older entries', api.link(first, 'next'), async (bundle) => rows.append(...api.resources(bundle).map(row)),
      'Every entry is shown.'));
}

/**
 * A button that follows a search's next link and hands each page to `show`, or null when there
 * is no further page; it gives way to `done` after the last one, and says why when a page fails.
 * Disabled while a page is read, it drops the focus: it gets it back, or `done` gets it.
 */
function older(label, next, show, done) {
  if (!next) return null;
  let url = next;
  const message = h('div');
  const lost = () => !document.activeElement || document.activeElement === document.body;
  const button = h('button', { type: 'button', onclick: async () => {
    button.disabled = true;
    fill(message);
    try {
      const bundle = await api.fhir(url);
      await show(bundle);
      url = api.link(bundle, 'next');
    } catch (e) {
      fill(message, notice(e.message));
    }
    button.disabled = false;
    const focus = lost() || document.activeElement === button;
    if (!url) {
      const end = h('p', { tabindex: -1 }, done);
      button.replaceWith(end);
      if (focus) end.focus({ preventScroll: true });
    } else if (focus) {
      button.focus({ preventScroll: true });
    }
  } }, label);
  return h('div', { class: 'more' }, button, message);
}
