// Uploads: drag and drop or "Upload files", several at once; per file a progress bar, pause,
// resume and cancel (tus), and what it becomes: a DocumentReference or a Media of the patient.
// A started row outlives its page: opening the patient's page again shows it where it was.
import * as api from './api.js';
import * as auth from './auth.js';
import { h, fill, field, size, notice } from './dom.js';
import { Upload } from './tus.js';
import { isId } from './ids.js';

const LOINC = 'http://loinc.org';
/** The identifier system of what an upload row saves: a UUID of its own (`urn:uuid:`). */
const ROW_IDS = 'urn:ietf:rfc:3986';
const TYPES = [['34133-9', 'Summary of episode note'], ['11506-3', 'Progress note'], ['11488-4', 'Consultation note'],
  ['18748-4', 'Diagnostic imaging study'], ['59284-0', 'Consent document'], ['57133-1', 'Referral note']];
const CATEGORIES = [['clinical-note', 'Clinical note', 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category'],
  ['LP29684-5', 'Radiology', LOINC], ['LP173421-1', 'Report', LOINC]];

/**
 * The rows of this tab's uploads that were started and are not yet saved, dismissed or cancelled
 * (running, paused or refused), by patient and upload: the patient's page shows them again each
 * time it is opened, so their progress, controls and messages stay within reach.
 */
const started = new Map();
/** The upload list of the patient's page shown last, and how that page shows a file saved. */
let shown = null;

/** Shows `created`, saved for this patient, in the files of the page shown if it is this patient's page. */
function showSaved(patientId, created) {
  if (shown && shown.patient === patientId && shown.list.isConnected) shown.uploaded(created);
}

export function uploadPanel(patient, uploaded) {
  const list = h('ul', { class: 'uploads', 'aria-label': 'Files to upload' });
  shown = { patient: patient.id, list, uploaded };
  started.forEach((r) => {
    if (r.patient === patient.id) list.append(r.li);
  });
  const picker = h('input', { id: 'upload-files', type: 'file', multiple: true, class: 'visually-hidden',
    onchange: () => {
      add(picker.files);
      picker.value = '';
    } });
  const add = (files) => Array.from(files).forEach((f) => list.append(row(f, patient)));
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

function row(file, patient) {
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
  // the row's words: where the focus goes when the buttons it was on are disabled (a finish, a refusal)
  const message = h('div', { class: 'message', tabindex: -1 });
  // (a button disabled while it has the focus still holds it until the browser drops it on the page)
  const focusWords = () => {
    const at = document.activeElement;
    if (!at || at === document.body || at.disabled) message.focus({ preventScroll: true });
  };
  // each button names its file, so the rows' buttons are told apart out of their row too
  const start = h('button', { type: 'button', class: 'primary', 'aria-label': `Start upload of ${file.name}` },
    'Start upload');
  const pause = h('button', { type: 'button', disabled: true, 'aria-label': `Pause upload of ${file.name}` }, 'Pause');
  const resume = h('button', { type: 'button', disabled: true, 'aria-label': `Resume upload of ${file.name}` },
    'Resume');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const cancelIs = (word) => {
    cancel.textContent = word;
    cancel.setAttribute('aria-label', word === 'Cancel' ? `Cancel upload of ${file.name}` : `${word} ${file.name}`);
  };
  cancelIs('Cancel');
  const li = h('li', { class: 'upload card', 'data-file': file.name },
    h('p', {}, h('strong', {}, file.name), ` · ${size(file.size)} · ${file.type || 'unknown type'}`),
    field('Becomes', asKind), docFields,
    h('div', { class: 'row' }, bar, state),
    h('div', { class: 'row' }, start, pause, resume, cancel), message);

  // what the row becomes, as chosen when it was started: its fields are locked while it runs
  let choices = null;
  const choose = (on) => [asKind, type, category, description].forEach((f) => { f.disabled = !on; });
  let saved = false;
  const key = () => `${patient.id} ${upload.key}`;
  const forget = () => {
    if (started.get(key())?.li === li) started.delete(key());
  };

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
      choose(true);
      focusWords();
    },
    onDone: (location) => {
      saved = true;
      pause.disabled = true;
      resume.disabled = true;
      cancel.disabled = true;
      let binary;
      try {
        binary = binaryOf(location);
      } catch (e) {
        notSaved(notice(e.message));
        return;
      }
      li.dataset.binary = binary;
      save(resource(choices, binary, file, contentType, patient));
    },
  });
  /** The row as not saved: its message stays until the person dismisses it. */
  const notSaved = (...shown) => {
    state.textContent = 'Not saved';
    li.dataset.state = 'refused';
    fill(message, ...shown);
    focusWords();
    cancelIs('Dismiss');
    cancel.disabled = false;
  };
  /**
   * Saves what the uploaded Binary becomes. A failed save keeps the Binary and offers to save
   * again, with no new upload; the save is a conditional create on the resource's own identifier,
   * so one whose answer was lost is not saved twice.
   */
  const save = async (body) => {
    state.textContent = 'Saving…';
    li.dataset.state = 'saving';
    fill(message);
    cancel.disabled = true;
    try {
      const condition = `identifier=${encodeURIComponent(ROW_IDS)}|${encodeURIComponent(body.identifier[0].value)}`;
      const created = await api.fhir(body.resourceType, { method: 'POST', json: body,
        headers: { 'If-None-Exist': condition } });
      state.textContent = 'Uploaded';
      li.dataset.state = 'done';
      fill(message, notice(`Saved as ${created.resourceType}/${created.id}.`, 'info'));
      focusWords();
      cancelIs('Cancel');
      forget();
      showSaved(patient.id, created);
    } catch (e) {
      notSaved(notice(`The file is uploaded (Binary/${li.dataset.binary}) but not yet added to the chart: ${e.message}`),
        h('button', { type: 'button', class: 'primary', onclick: () => save(body) }, 'Save again'));
    }
  };
  start.addEventListener('click', () => {
    fill(message);
    choices = { kind: asKind.value, type: type.value, category: category.value, description: description.value };
    choose(false);
    start.disabled = true;
    pause.disabled = false;
    li.dataset.state = 'running';
    upload.start();
    if (upload.running) started.set(key(), { patient: patient.id, li });
    // the pressed button is disabled: the focus goes on to Pause
    if (!document.activeElement || document.activeElement === document.body || document.activeElement === start) {
      pause.focus();
    }
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
    if (!saved) {
      cancel.disabled = true;
      await upload.cancel();
      // the whole file had reached the server: the row goes on to save what it became
      if (saved) return;
    }
    forget();
    // the focus, if it was in the row (or dropped from its disabled button), goes back to "Upload files"
    const lost = li.contains(document.activeElement) || document.activeElement === document.body;
    li.remove();
    if (lost) document.getElementById('upload-files')?.focus();
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
 * The Binary id a finished upload's Content-Location names (`{base}/Binary/{id}/_history/{vid}`).
 * A server (or a proxy) that leaves it out, or names the Binary by what is no FHIR id or is "." or
 * ".." (isId), has stored the bytes but not said where: the person is told so in words.
 */
function binaryOf(location) {
  const m = /(?:^|\/)Binary\/([^/?#]+)(?:\/_history\/[^/?#]+)?(?:[?#]|$)/.exec(location || '');
  if (!m || !isId(m[1])) {
    throw new Error('The upload finished, but the server did not say which file it became, so nothing was'
      + ' added to the chart. Upload the file again.');
  }
  return m[1];
}

function resource(choices, binary, file, contentType, patient) {
  const kind = choices.kind;
  const attachment = { url: `Binary/${binary}`, contentType, title: file.name, creation: new Date().toISOString() };
  const subject = { reference: `Patient/${patient.id}` };
  // the row's own name for what it saves: a save sent again finds what an earlier one created
  const identifier = [{ system: ROW_IDS, value: `urn:uuid:${crypto.randomUUID()}` }];
  if (kind === 'Media') {
    return { resourceType: 'Media', identifier, status: 'completed', subject, createdDateTime: new Date().toISOString(),
      content: attachment };
  }
  const t = TYPES.find(([c]) => c === choices.type);
  const c = CATEGORIES.find(([code]) => code === choices.category);
  return { resourceType: 'DocumentReference', identifier, status: 'current', subject, date: new Date().toISOString(),
    type: { coding: [{ system: LOINC, code: t[0], display: t[1] }], text: t[1] },
    category: [{ coding: [{ system: c[2], code: c[0], display: c[1] }], text: c[1] }],
    description: choices.description || undefined, content: [{ attachment }] };
}
