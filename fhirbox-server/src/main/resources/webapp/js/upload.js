// Uploads: drag and drop or "Upload files", several at once; per file a progress bar, pause,
// resume and cancel (tus), and what it becomes: a DocumentReference or a Media of the patient.
import * as api from './api.js';
import * as auth from './auth.js';
import { h, fill, field, size, notice } from './dom.js';
import { Upload } from './tus.js';

const LOINC = 'http://loinc.org';
const TYPES = [['34133-9', 'Summary of episode note'], ['11506-3', 'Progress note'], ['11488-4', 'Consultation note'],
  ['18748-4', 'Diagnostic imaging study'], ['59284-0', 'Consent document'], ['57133-1', 'Referral note']];
const CATEGORIES = [['clinical-note', 'Clinical note', 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category'],
  ['LP29684-5', 'Radiology', LOINC], ['LP173421-1', 'Report', LOINC]];

export function uploadPanel(patient, uploaded) {
  const list = h('ul', { class: 'uploads', 'aria-label': 'Files to upload' });
  const picker = h('input', { id: 'upload-files', type: 'file', multiple: true, class: 'visually-hidden',
    onchange: () => {
      add(picker.files);
      picker.value = '';
    } });
  const add = (files) => Array.from(files).forEach((f) => list.append(row(f, patient, uploaded)));
  const zone = h('div', { class: 'drop', ondragover: (e) => {
    e.preventDefault();
    zone.classList.add('over');
  }, ondragleave: () => zone.classList.remove('over'), ondrop: (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    add(e.dataTransfer.files);
  } },
  h('p', {}, 'Drop files here, or '),
  h('label', { for: 'upload-files', class: 'button' }, 'Upload files'), picker);
  return h('section', { class: 'card', 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title' }, 'Upload'), zone, list);
}

function options(pairs, selected) {
  return pairs.map(([value, label]) => h('option', { value, selected: value === selected }, label));
}

function row(file, patient, uploaded) {
  const asKind = h('select', {}, h('option', { value: 'DocumentReference' }, 'Document (DocumentReference)'),
    h('option', { value: 'Media', selected: /^(image|video|audio)\//.test(file.type) }, 'Media'));
  const type = h('select', {}, options(TYPES, '34133-9'));
  const category = h('select', {}, options(CATEGORIES.map(([c, l]) => [c, l]), 'clinical-note'));
  const description = h('input', { type: 'text', value: '' });
  const docFields = h('div', { class: 'doc-fields' }, field('Document type', type), field('Category', category),
    field('Description', description));
  const showDoc = () => { docFields.hidden = asKind.value !== 'DocumentReference'; };
  asKind.addEventListener('change', showDoc);
  showDoc();

  const bar = h('progress', { max: file.size || 1, value: 0, 'aria-label': `Upload of ${file.name}` });
  const state = h('span', { class: 'state', role: 'status' }, 'Ready');
  const message = h('div', { class: 'message' });
  const start = h('button', { type: 'button', class: 'primary' }, 'Start upload');
  const pause = h('button', { type: 'button', disabled: true }, 'Pause');
  const resume = h('button', { type: 'button', disabled: true }, 'Resume');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const li = h('li', { class: 'upload card', 'data-file': file.name },
    h('p', {}, h('strong', {}, file.name), ` · ${size(file.size)} · ${file.type || 'unknown type'}`),
    field('Becomes', asKind), docFields,
    h('div', { class: 'row' }, bar, state),
    h('div', { class: 'row' }, start, pause, resume, cancel), message);

  const contentType = file.type || 'application/octet-stream';
  const upload = new Upload(file, {
    endpoint: `${api.FHIR}Binary/$upload`,
    metadata: { filename: file.name, contentType, securityContext: `Patient/${patient.id}` },
    chunkSize: Number(document.body.dataset.chunkSize) || undefined,
    token: () => auth.accessToken(),
    refresh: () => auth.refresh(),
    onProgress: (sent, total) => {
      bar.value = sent;
      bar.max = total || 1;
      state.textContent = `${Math.floor((sent / (total || 1)) * 100)}%`;
      li.dataset.sent = String(sent);
    },
    onState: (text) => {
      state.textContent = text;
    },
    onError: (text, status) => {
      fill(message, notice(text), status === 401 ? signInAgainButton() : null);
      state.textContent = 'Refused';
      li.dataset.state = 'refused';
      pause.disabled = true;
      resume.disabled = true;
      start.disabled = false;
    },
    onDone: async (location) => {
      pause.disabled = true;
      resume.disabled = true;
      cancel.disabled = true;
      state.textContent = 'Saving…';
      try {
        const binary = binaryOf(location);
        const created = await api.fhir(asKind.value, { method: 'POST', json: resource(asKind.value, binary, file,
          contentType, patient, type, category, description.value) });
        state.textContent = 'Uploaded';
        li.dataset.state = 'done';
        li.dataset.binary = binary;
        fill(message, notice(`Saved as ${created.resourceType}/${created.id}.`, 'info'));
        uploaded();
      } catch (e) {
        state.textContent = 'Not saved';
        li.dataset.state = 'refused';
        fill(message, notice(e.message));
      }
    },
  });
  start.addEventListener('click', () => {
    fill(message);
    start.disabled = true;
    asKind.disabled = true;
    pause.disabled = false;
    li.dataset.state = 'running';
    upload.start();
  });
  pause.addEventListener('click', () => {
    upload.pause();
    pause.disabled = true;
    resume.disabled = false;
    resume.focus();
  });
  resume.addEventListener('click', () => {
    upload.start();
    pause.disabled = false;
    resume.disabled = true;
    pause.focus();
  });
  cancel.addEventListener('click', async () => {
    await upload.cancel();
    li.remove();
  });
  return li;
}

/**
 * For an upload refused because the sign-in ended and could not be refreshed: signing in again
 * returns to this page, and the same file picked again goes on from where it stopped.
 */
export function signInAgainButton() {
  return h('button', { type: 'button', class: 'primary', onclick: () => auth.signInAgain() }, 'Sign in again');
}

/**
 * The Binary id a finished upload's Content-Location names. A server (or a proxy) that leaves it
 * out has stored the bytes but not said where: the person is told so in words.
 */
function binaryOf(location) {
  const m = /Binary\/([A-Za-z0-9.-]{1,64})(?:[/?#]|$)/.exec(location || '');
  if (!m) {
    throw new Error('The upload finished, but the server did not say which file it became, so nothing was'
      + ' added to the chart. Upload the file again.');
  }
  return m[1];
}

function resource(kind, binary, file, contentType, patient, type, category, description) {
  const attachment = { url: `Binary/${binary}`, contentType, title: file.name, creation: new Date().toISOString() };
  const subject = { reference: `Patient/${patient.id}` };
  if (kind === 'Media') {
    return { resourceType: 'Media', status: 'completed', subject, createdDateTime: new Date().toISOString(),
      content: attachment };
  }
  const t = TYPES.find(([c]) => c === type.value);
  const c = CATEGORIES.find(([code]) => code === category.value);
  return { resourceType: 'DocumentReference', status: 'current', subject, date: new Date().toISOString(),
    type: { coding: [{ system: LOINC, code: t[0], display: t[1] }], text: t[1] },
    category: [{ coding: [{ system: c[2], code: c[0], display: c[1] }], text: c[1] }],
    description: description || undefined, content: [{ attachment }] };
}
