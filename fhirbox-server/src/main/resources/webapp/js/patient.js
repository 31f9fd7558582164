// A patient's page: who they are, every file they have, and uploads.
import * as api from './api.js';
import { h, fill, notice } from './dom.js';
import { patientName } from './search.js';
import { gather, render } from './attachments.js';
import { uploadPanel } from './upload.js';

const PAGE = 100;
/** At most this many of each kind are shown, so a patient with very many files stays quick. */
const CAP = 1000;

/** Every resource a search finds, following its next links, up to CAP. */
async function all(url, what) {
  const list = [];
  let next = url;
  try {
    while (next && list.length < CAP) {
      const bundle = await api.fhir(next);
      list.push(...api.resources(bundle));
      next = api.link(bundle, 'next');
    }
  } catch (e) {
    return { list, error: e.message };
  }
  return { list: list.slice(0, CAP), more: next || list.length > CAP ? `Only the first ${CAP} ${what} are shown.` : null };
}

/** `current()` is false once the person has gone elsewhere: what loaded then is dropped. */
export async function patientPage(main, id, current = () => true) {
  const patient = await api.fhir(`Patient/${encodeURIComponent(id)}`);
  if (!current()) return;
  document.title = `${patientName(patient)} · fhirbox`;
  const files = h('div', { id: 'files', 'aria-live': 'polite' });
  const refresh = () => loadFiles(files, patient);
  fill(main,
    h('p', {}, h('a', { href: '#/' }, '← Patients')),
    h('h1', {}, patientName(patient)),
    h('p', { class: 'meta' }, [patient.birthDate ? `Born ${patient.birthDate}` : null, patient.gender,
      ...(patient.identifier || []).map((i) => i.value)].filter(Boolean).join(' · ')),
    uploadPanel(patient, refresh),
    h('h2', {}, 'Files'),
    files);
  await refresh();
}

/**
 * The patient's files, read afresh. The Patient (for its photos) is read again too; when that
 * read fails, the photos of `known`, the Patient read before, are shown with a notice.
 */
async function loadFiles(el, known) {
  const subject = encodeURIComponent(`Patient/${known.id}`);
  const [patient, media, docs, comms] = await Promise.all([
    api.fhir(`Patient/${encodeURIComponent(known.id)}`).then((p) => ({ p }),
      (e) => ({ p: known, error: `The patient's photos may be out of date: ${e.message}` })),
    all(`Media?subject=${subject}&_count=${PAGE}`, 'Media'),
    all(`DocumentReference?subject=${subject}&_count=${PAGE}`, 'documents'),
    all(`Communication?subject=${subject}&_count=${PAGE}`, 'messages')]);
  const problems = [patient, media, docs, comms].map((r) => r.error).filter(Boolean);
  const more = [media, docs, comms].map((r) => r.more).filter(Boolean);
  fill(el, problems.map((p) => notice(p, 'warn')), more.map((m) => notice(m, 'info')),
    render(gather(patient.p, media.list, docs.list, comms.list)));
}
