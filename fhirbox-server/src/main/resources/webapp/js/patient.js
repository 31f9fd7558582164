// A patient's page: who they are, every file they have, and uploads.
import * as api from './api.js';
import { h, fill, notice } from './dom.js';
import { patientName } from './search.js';
import { gather, fileList } from './attachments.js';
import { uploadPanel } from './upload.js';
import { isId } from './ids.js';

/** A page of each kind's search: a patient with thousands of files opens as quickly as one with a few. */
const PAGE = 100;
/** The resources whose attachments are a patient's files, besides the Patient's own photos. */
const KINDS = ['Media', 'DocumentReference', 'Communication'];
/** What a later page's resources are gathered with: its photos came with the first. */
const NO_PHOTOS = { resourceType: 'Patient', id: '' };

/**
 * One page of a search: its resources and the next page's URL. A page that fails has none, says
 * why, and keeps its URL as the next, so "Show more files" asks for it again.
 */
async function page(url) {
  try {
    const bundle = await api.fhir(url);
    return { list: api.resources(bundle), next: api.link(bundle, 'next') };
  } catch (e) {
    return { list: [], next: url, error: e.message };
  }
}

function files(pages) {
  return pages.map((p) => p.list);
}

/**
 * `current()` is false once the person has gone elsewhere: what loaded then is dropped. The page
 * reads the patient's files, and puts its uploads, by the id the Patient read names itself, so an
 * answer naming another patient (or no FHIR id, isId) is not shown.
 */
export async function patientPage(main, id, current = () => true) {
  const patient = await api.fhir(`Patient/${encodeURIComponent(id)}`);
  if (!current()) return;
  if (patient.resourceType !== 'Patient' || patient.id !== id || !isId(patient.id)) {
    throw new api.ApiError(`The server's answer for Patient/${id} names another patient, so it is not shown.`, 0, null);
  }
  document.title = `${patientName(patient)} · fhirbox`;
  // the list is not a live region (a screen reader would read every file again at each reload):
  // what the person should hear of it (a problem, more files loading) goes to a small one of its own
  const list = h('div', { id: 'files' });
  const said = h('p', { id: 'files-status', class: 'visually-hidden', role: 'status' });
  // each read of the files is numbered: one that ends after a later one began (an upload saved
  // while the page still loads) is dropped, so the list shown is the newest read
  let reads = 0;
  /** The files shown once a read has ended, which a file saved later is added to. */
  let files = null;
  const refresh = async () => {
    reads += 1;
    const mine = reads;
    files = null;
    const read = await loadFiles(list, said, patient, () => mine === reads);
    if (mine === reads) files = read;
  };
  // a file saved while the list is shown joins it, which keeps the pages shown ("Show more
  // files"); one saved while the list still loads is in the read begun afresh
  const uploaded = (created) => (files ? addSaved(files, said, created) : refresh());
  fill(main,
    h('p', {}, h('a', { href: '#/' }, '← Patients')),
    h('h1', {}, patientName(patient)),
    h('p', { class: 'meta' }, [patient.birthDate ? `Born ${patient.birthDate}` : null, patient.gender,
      ...(patient.identifier || []).map((i) => i.value)].filter(Boolean).join(' · ')),
    uploadPanel(patient, uploaded),
    h('h2', {}, 'Files'),
    said,
    list);
  await refresh();
}

/**
 * The patient's files, read afresh: the first page of each kind's search (newest first), and
 * "Show more files" for the next page of each that has more. The Patient (for its photos) is read
 * again too; when that read fails, the photos of `known`, the Patient read before, are shown with
 * a notice, which `said` (the files' live region) says too. `latest()` is false once a newer read
 * has begun. Returns the list shown (`shown`) and where its notices go (`problems`).
 */
async function loadFiles(el, said, known, latest) {
  const subject = encodeURIComponent(`Patient/${known.id}`);
  const [patient, ...pages] = await Promise.all([
    api.fhir(`Patient/${encodeURIComponent(known.id)}`).then((p) => ({ p }),
      (e) => ({ p: known, error: `The patient's photos may be out of date: ${e.message}` })),
    ...KINDS.map((kind) => page(`${kind}?subject=${subject}&_count=${PAGE}`))]);
  if (!latest()) return;
  const shown = fileList();
  shown.add(gather(patient.p, ...files(pages)));
  const errors = [patient, ...pages].map((r) => r.error).filter(Boolean);
  const problems = h('div', {}, errors.map((p) => h('p', { class: 'notice warn' }, p)));
  fill(el, problems, shown.el, showMore(pages.map((p) => p.next), shown, said, latest));
  said.textContent = errors.join(' ');
  return { shown, problems };
}

/**
 * A file an upload saved (`created`, the server's answer to its create), at the top of its kind,
 * marked new, above the files shown: it is read back first, as the list reads its files, since a
 * preview needs the signed URL a read gives. A read that fails, or answers another resource, is
 * said in words; the files shown stay.
 */
async function addSaved(files, said, created) {
  const ref = `${created && created.resourceType}/${created && created.id}`;
  try {
    if (!KINDS.includes(created.resourceType) || !isId(created.id)) {
      throw new Error('the server named it by no FHIR id of a kind of file');
    }
    const r = await api.fhir(`${created.resourceType}/${encodeURIComponent(created.id)}`);
    if (!r || r.resourceType !== created.resourceType || r.id !== created.id) {
      throw new Error('the server answered with another resource');
    }
    const items = gather(NO_PHOTOS, ...KINDS.map((k) => (k === r.resourceType ? [r] : [])));
    files.shown.addNew(items);
    said.textContent = `${items.map((a) => a.title || 'A file').join(', ')} is added at the top of the files.`;
  } catch (e) {
    const text = `${ref} is saved, but it could not be read back to show it here: ${e.message}`;
    files.problems.append(h('p', { class: 'notice warn' }, text));
    said.textContent = text;
  }
}

/** "Show more files": the next page of each search that has one, added to what is shown; null when none has. */
function showMore(first, shown, said, latest) {
  let next = first;
  if (!next.some(Boolean)) return null;
  const message = h('div');
  const button = h('button', { type: 'button', onclick: async () => {
    button.disabled = true;
    fill(message, h('p', {}, 'Loading more files…'));
    said.textContent = 'Loading more files…';
    const pages = await Promise.all(next.map((url) => (url ? page(url) : { list: [], next: null })));
    if (!latest()) return;
    next = pages.map((p) => p.next);
    shown.add(gather(NO_PHOTOS, ...files(pages)));
    const errors = pages.map((p) => p.error).filter(Boolean);
    fill(message, errors.map((e) => notice(e)));
    said.textContent = errors.length ? '' : 'More files are shown.';
    button.disabled = false;
    // disabled while the pages were read, it dropped the focus: it gets it back
    if (!document.activeElement || document.activeElement === document.body) button.focus({ preventScroll: true });
    if (!next.some(Boolean)) {
      const done = h('p', { tabindex: -1 }, 'Every file is shown.');
      button.replaceWith(done);
      done.focus({ preventScroll: true });
    }
  } }, 'Show more files');
  return h('div', { class: 'more' }, button, message);
}
