// "Search patients": by name, identifier or birth date, ten to a page.
import * as api from './api.js';
import { h, fill, notice } from './dom.js';

const PAGE = 10;

export function patientName(p) {
  const n = (p.name || [])[0];
  if (!n) return `Patient ${p.id}`;
  return n.text || [...(n.given || []), n.family].filter(Boolean).join(' ') || `Patient ${p.id}`;
}

/** The search a text means: a date is a birth date, text with digits an identifier, else a name. */
export function query(text) {
  const t = text.trim();
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(t)) return { birthdate: t };
  if (/\d/.test(t)) return { identifier: t };
  return { name: t };
}

/** `current()` is false once the person has gone elsewhere. */
export async function searchPage(main, current = () => true) {
  document.title = 'Patients · fhirbox';
  const params = new URLSearchParams(sessionStorage.getItem('fhirbox.search') || '');
  const input = h('input', { id: 'patient-search', type: 'search', name: 'q', value: params.get('q') || '',
    autocomplete: 'off', 'aria-describedby': 'patient-search-hint' });
  // the list is not live (a screen reader would read it all again on each search): a short
  // summary in a region of its own says what a search found
  const results = h('div', { id: 'results' });
  const summary = h('p', { id: 'results-summary', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { role: 'search', class: 'search', onsubmit: (e) => {
    e.preventDefault();
    sessionStorage.setItem('fhirbox.search', new URLSearchParams({ q: input.value }).toString());
    run(results, summary, searchUrl(input.value));
  } },
  h('label', { for: 'patient-search' }, 'Search patients'),
  h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'primary' }, 'Search')),
  h('small', { id: 'patient-search-hint', class: 'hint' }, 'A name, an identifier, or a birth date (YYYY-MM-DD).'));
  fill(main, h('h1', {}, 'Patients'), form, summary, results);
  await run(results, summary, searchUrl(input.value));
  if (current()) input.focus();
}

function searchUrl(text) {
  const q = text.trim() ? query(text) : {};
  return `Patient?${new URLSearchParams({ ...q, _count: PAGE, _sort: '-_lastUpdated' })}`;
}

/**
 * The number of the latest search: answers can arrive out of order (a slow search, then a quick
 * page), and only the latest one's answer is shown.
 */
let latest = 0;

/**
 * What a search found, in a few words: `total` when the server counted, else the patients of the
 * first page, and whether a next page has more (the server counts a first page only when it is the last).
 */
function found(total, onPage, more) {
  const n = typeof total === 'number' ? total : onPage;
  if (n === 0) return 'No patient found';
  return `${typeof total !== 'number' && more ? 'More than ' : ''}${n} patient${n === 1 ? '' : 's'} found`;
}

/**
 * Runs a search and says in `summary` what it found (emptied first, so the same words are said
 * again); `paging` moves focus to the count instead, since the pressed page button is gone.
 */
async function run(results, summary, url, paging = false) {
  latest += 1;
  const mine = latest;
  fill(summary);
  fill(results, h('p', {}, 'Searching…'));
  let bundle;
  try {
    bundle = await api.fhir(url);
  } catch (e) {
    if (mine === latest) fill(results, notice(e.message));
    return;
  }
  if (mine !== latest) return;
  const patients = api.resources(bundle).filter((r) => r.resourceType === 'Patient');
  const next = api.link(bundle, 'next');
  const previous = api.link(bundle, 'previous') || api.link(bundle, 'prev');
  const count = h('p', { id: 'results-count', tabindex: -1 }, typeof bundle.total === 'number'
    ? `${bundle.total} patient${bundle.total === 1 ? '' : 's'}`
    : `${patients.length} patient${patients.length === 1 ? '' : 's'} on this page`);
  fill(results, count,
    patients.length === 0 ? h('p', {}, 'No patient matches.') : h('ul', { class: 'list' }, patients.map((p) => h('li', {},
      h('a', { href: `#/patient/${encodeURIComponent(p.id)}` }, patientName(p)),
      h('span', { class: 'meta' }, [p.birthDate ? `born ${p.birthDate}` : null,
        ...(p.identifier || []).slice(0, 2).map((i) => i.value)].filter(Boolean).join(' · '))))),
    h('nav', { class: 'pager', 'aria-label': 'Result pages' },
      previous ? h('button', { type: 'button', onclick: () => run(results, summary, previous, true) }, 'Previous page') : null,
      next ? h('button', { type: 'button', onclick: () => run(results, summary, next, true) }, 'Next page') : null));
  if (paging) count.focus();
  else fill(summary, found(bundle.total, patients.length, !!next));
}
