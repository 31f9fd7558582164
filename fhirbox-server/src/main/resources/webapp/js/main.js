// The app's shell: sign-in state in the header, routes (#/...), the offline banner.
import * as auth from './auth.js';
import { h, fill, field, notice, date } from './dom.js';
import { searchPage } from './search.js';
import { patientPage } from './patient.js';
import { filePage } from './file.js';
import { adminPage } from './admin.js';
import { pauseAll } from './tus.js';
import { ApiError } from './api.js';
import { isId } from './ids.js';

const main = document.getElementById('main');
const status = document.getElementById('status');

function showOffline() {
  fill(status, navigator.onLine ? null : notice('You are offline. What you do now waits until you reconnect.', 'warn'));
}
window.addEventListener('online', showOffline);
window.addEventListener('offline', showOffline);

function header() {
  const s = auth.session();
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  if (!s) {
    fill(nav);
    fill(who);
    return;
  }
  fill(nav, h('a', { href: '#/' }, 'Patients'), auth.isAdmin() ? h('a', { href: '#/admin/users' }, 'Admin') : null);
  const name = s.user.name || s.user.email || s.user.fhirUser || s.user.sub || 'Signed in';
  fill(who,
    h('span', { class: 'who-name' }, name),
    h('span', { class: 'who-project' }, `Project ${s.cfg.project}`),
    h('span', { class: 'who-until' }, `Signed in until ${date(s.ends)}`),
    h('button', { type: 'button', onclick: signOut }, 'Sign out'));
}

/**
 * Each route shown is a generation: a view still loading when the person goes elsewhere (another
 * route, sign-out) finds it is no longer current and drops what it loaded.
 */
let shown = 0;

async function signOut() {
  shown += 1;
  // their next requests would only be refused; auth.signOut then forgets their upload URLs, so
  // the next sign-in uploads such a file anew
  pauseAll();
  const revoked = await auth.signOut();
  shown += 1;
  ended(revoked ? 'You are signed out.'
    : 'You are signed out here, but the server could not be told: your sign-in ends by itself later.');
}

// a duplicated tab of this sign-in signed out: the sign-in is over here too, and the page goes
auth.whenSignedOutElsewhere(() => {
  shown += 1;
  pauseAll();
  ended('You signed out in another tab.');
});

/** The sign-in is over: the app's first address, and the sign-in form saying `message`. */
function ended(message) {
  history.replaceState(null, '', `${location.pathname}#/`);
  header();
  signedOut(message);
}

/** Undoes "Signing in…" on the sign-in form: the browser may show the page again from its back-forward cache. */
let signInAgainPossible = () => {};
window.addEventListener('pageshow', (e) => {
  if (e.persisted) signInAgainPossible();
});

function signedOut(message) {
  document.title = 'Sign in · fhirbox';
  const project = h('input', { name: 'project', value: auth.lastProject(), autocomplete: 'organization',
    required: true });
  const error = h('div');
  // polite, and on the page before it says anything, so that screen readers announce it
  const working = h('p', { id: 'sign-in-status', role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  signInAgainPossible = () => {
    fill(working);
    button.disabled = false;
  };
  const form = h('form', { class: 'card narrow', onsubmit: async (e) => {
    e.preventDefault();
    // one sign-in at a time: a second press while the config and discovery are read starts none
    if (button.disabled) return;
    button.disabled = true;
    fill(error);
    fill(working, 'Signing in…');
    try {
      // resolves only when this page is still shown a while after leaving for the sign-in page
      await auth.signIn(project.value.trim(), location.hash || '#/', true);
      fill(working);
      button.disabled = false;
    } catch (err) {
      fill(working);
      fill(error, notice(err.message));
      button.disabled = false;
      button.focus();
    }
  } },
  h('h1', {}, 'Sign in to fhirbox'),
  message ? notice(message, 'info') : null,
  field('Project', project, 'The project your account belongs to.'),
  button,
  working,
  error);
  fill(main, form);
}

/**
 * The id an address names, else null: text that does not decode, or that is no FHIR id the app
 * may name in a path (isId: no "/", at most 64 characters, not "." or "..").
 */
function idIn(text) {
  let id;
  try {
    id = decodeURIComponent(text);
  } catch {
    return null;
  }
  return isId(id) ? id : null;
}

/** Each route: its pattern, and the id it names (null: no page) and the view that shows it. */
const routes = [
  [/^#\/?$/, () => '', (m, id, current) => searchPage(main, current)],
  [/^#\/patient\/([^/?]+)$/, (m) => idIn(m[1]), (m, id, current) => patientPage(main, id, current)],
  [/^#\/file\/([^/?]+)(?:\?(.*))?$/, (m) => idIn(m[1]), (m, id, current) => filePage(main, id,
    new URLSearchParams(m[2] || ''), current)],
  [/^#\/admin\/(users|clients|jobs)$/, () => '', (m) => adminPage(main, m[1])],
];

/** A hash that names one of the app's pages (#/...), not a place in the page such as #main. */
function isRoute(hash) {
  return !hash || hash === '#' || hash.startsWith('#/');
}

async function route() {
  // an in-page link is not a page: the page stays as it is
  if (shown > 0 && !isRoute(location.hash)) return;
  shown += 1;
  const generation = shown;
  const current = () => generation === shown;
  header();
  if (!auth.session()) {
    signedOut();
    return;
  }
  const hash = isRoute(location.hash) ? location.hash || '#/' : '#/';
  for (const [pattern, named, view] of routes) {
    const m = hash.match(pattern);
    const id = m ? named(m) : null;
    if (id !== null) {
      fill(main, h('p', {}, 'Loading…'));
      try {
        await view(m, id, current);
      } catch (e) {
        // the server has no such resource (404) or no longer (410): the page is not found, in its words
        const missing = e instanceof ApiError && (e.status === 404 || e.status === 410);
        if (current()) {
          fill(main, h('h1', {}, missing ? 'Not found' : 'Something went wrong'), notice(words(e)),
            missing ? h('p', {}, h('a', { href: '#/' }, 'Back to the patients')) : null);
        }
      }
      if (current()) main.focus({ preventScroll: true });
      return;
    }
  }
  fill(main, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the patients')));
}

/**
 * What a person reads of an error: the server's words, or what went wrong with the connection;
 * any other error is the app's own fault, whose detail goes to the console, not the page.
 */
function words(e) {
  if (e instanceof ApiError) return e.message;
  console.error(e);
  return 'The page could not be shown. Reload it to try again.';
}

/** The skip link moves the focus to the content without changing the address. */
function skipLink() {
  const skip = document.querySelector('a.skip');
  if (!skip) return;
  skip.addEventListener('click', (e) => {
    e.preventDefault();
    main.focus();
  });
}

async function start() {
  showOffline();
  skipLink();
  try {
    const back = await auth.completeSignIn();
    if (back) location.hash = back;
  } catch (e) {
    header();
    signedOut(e.message);
    return;
  }
  window.addEventListener('hashchange', route);
  await route();
}

start();
