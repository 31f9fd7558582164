// Administration for project admins: users, clients, ingestion jobs. A new secret or
// set-password link is shown once, as the server shows it once.
import * as api from './api.js';
import { h, fill, field, date, notice } from './dom.js';
import { isId, isClientId } from './ids.js';

const TABS = [['users', 'Users'], ['clients', 'Clients'], ['jobs', 'Ingestion jobs']];

export async function adminPage(main, tab) {
  document.title = `Admin · ${TABS.find(([t]) => t === tab)[1]} · fhirbox`;
  const body = h('div');
  // a secret or link shown once, and below it what the last action did: a message never takes
  // the place of a secret not yet copied
  const once = h('div', { id: 'once', 'aria-live': 'polite' }, h('div'), h('div'));
  fill(main, h('h1', {}, 'Administration'),
    h('nav', { class: 'tabs', 'aria-label': 'Administration' }, TABS.map(([t, label]) => h('a', {
      href: `#/admin/${t}`, 'aria-current': t === tab ? 'page' : null }, label))),
    once, body);
  const views = { users, clients, jobs };
  await views[tab](body, once);
}

/**
 * The rule each kind of id the server issues is named in a path by: a user's and a job's are FHIR
 * ids (UUIDs; isId), a client's a client id (isClientId), which an operator may have chosen.
 */
const ID_RULES = { users: isId, clients: isClientId, jobs: isId };

/** Whether the `kind` id `id` may be named in a path. */
function nameable(kind, id) {
  return ID_RULES[kind](id);
}

/**
 * The admin API path `{kind}/{id}/{action}`. An id that breaks its kind's rule is never put in a
 * path: `users/../disable` would be `admin/disable`, `clients/a/b/disable` another route.
 */
function adminPath(kind, id, action) {
  if (!nameable(kind, id)) {
    throw new Error('The server sent an id this app does not put in an address; nothing was changed.');
  }
  return `${kind}/${encodeURIComponent(id)}/${action}`;
}

/** What the Actions cell of a row whose id cannot be named in a path says instead of buttons. */
const NO_ACTIONS = 'None here: its id cannot be named in an address.';

/**
 * Shows a secret or link once, with a copy field, in the place of the one shown before (which
 * is then spent, or was there to copy until now); the last action's message goes.
 */
function showOnce(el, title, label, value) {
  const input = h('input', { type: 'text', readonly: true, value, class: 'mono', id: 'once-value' });
  fill(el.firstElementChild, h('div', { class: 'card once', role: 'alert' }, h('h2', {}, title), field(label, input,
    'Shown once: copy it now. It cannot be shown again.')));
  fill(el.lastElementChild);
  input.select();
}

/** Says what an action did, or why it failed, below the secret or link shown, which stays. */
function say(el, message) {
  fill(el.lastElementChild, message);
}

/**
 * A button that runs `run` once a press: it stays disabled while the request runs, since a second
 * press would, say, rotate a secret again and leave the one shown dead. With `question`, the
 * person confirms first (for what cannot be undone here, such as disabling).
 */
function act(el, label, run, question) {
  const button = h('button', { type: 'button', onclick: async () => {
    if (button.disabled || (question && !window.confirm(question))) return;
    button.disabled = true;
    try {
      await run();
    } catch (e) {
      say(el, notice(e.message));
    } finally {
      button.disabled = false;
      // disabled, it dropped the focus; a row made again has placed it already
      if (button.isConnected && lost()) button.focus();
    }
  } }, label);
  return button;
}

function table(caption, headings, rows) {
  // a region the keyboard can focus, so a table wider than a phone scrolls with the arrow keys
  return h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': caption }, h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headings.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows)));
}

/**
 * Whether the focus is on no control: a button disabled while its request runs loses it, and
 * gets it back when enabled again, so the keyboard goes on from where it was.
 */
function lost() {
  return !document.activeElement || document.activeElement === document.body;
}

/**
 * The rows of a table made by table(), kept in step with the server's answers rather than read
 * again: a list read again would show its first page only, and the rows of later pages, the one
 * just changed among them, would go. `key` names an entry, `render` makes its row.
 * - add(entries): a page's entries at the end; one already shown (a row created here) is
 *   shown once, in its place, as the page says it is now;
 * - update(entry): the entry's row made again from the server's answer, in its place;
 * - addNew(entry): a row created here, at the top, marked "New".
 * A row made again keeps its "New" mark, and the focus goes to its button of the same words, or
 * to the row when that button is gone (a disabled user has no "Disable").
 */
function rowsOf(tableEl, key, render) {
  const tbody = tableEl.querySelector('tbody');
  // an entry without a key is never taken for another
  const find = (entry) => (key(entry) == null ? null
    : Array.from(tbody.rows).find((tr) => tr.dataset.key === String(key(entry))));
  const make = (entry, marked) => {
    const tr = render(entry);
    if (key(entry) != null) tr.dataset.key = key(entry);
    tr.tabIndex = -1;
    if (marked) {
      tr.classList.add('new');
      tr.cells[0].prepend(h('span', { class: 'badge' }, 'New'), ' ');
    }
    return tr;
  };
  const replace = (old, entry) => {
    // the button pressed is disabled while its request runs, which drops the focus to the page
    const pressed = old.querySelector('button:disabled');
    const keep = pressed && (lost() || old.contains(document.activeElement));
    const tr = make(entry, old.classList.contains('new'));
    old.replaceWith(tr);
    if (keep) {
      const same = Array.from(tr.querySelectorAll('button')).find((b) => b.textContent === pressed.textContent);
      (same || tr).focus();
    }
  };
  return {
    region: tableEl,
    /** Returns the rows added at the end. */
    add(entries) {
      const added = [];
      for (const entry of entries) {
        const old = find(entry);
        if (old) replace(old, entry);
        else added.push(tbody.appendChild(make(entry, false)));
      }
      return added;
    },
    update(entry) {
      const old = find(entry);
      if (old) replace(old, entry);
    },
    addNew(entry) {
      const old = find(entry);
      if (old) old.remove();
      tbody.prepend(make(entry, true));
    },
  };
}

/**
 * "Show more" under a list the server sends in pages (100 entries unless asked otherwise): the
 * page its `next` link names, added to `rows` (rowsOf). The link's query (filters, page size,
 * cursor) is asked of this app's own admin API, whatever origin the server wrote into it. Null
 * when the list has no next page; the control goes once the last page is shown, and the focus,
 * if on it, moves to that page's first row.
 */
function more(kind, label, rows, next) {
  if (!next) return null;
  const message = h('div');
  let busy = false;
  const button = h('button', { type: 'button', onclick: async () => {
    if (busy) return;
    busy = true;
    button.disabled = true;
    fill(message);
    try {
      const page = await api.admin(`${kind}${new URL(next).search}`);
      const added = rows.add(page[kind]);
      next = page.next;
      if (!next) {
        // the pressed button goes with the last page: the focus goes on to that page's first row
        const focused = lost() || control.contains(document.activeElement);
        control.remove();
        if (focused) (added[0] || rows.region).focus();
      }
    } catch (e) {
      fill(message, notice(e.message));
    } finally {
      busy = false;
      button.disabled = false;
      if (control.isConnected && lost()) button.focus();
    }
  } }, label);
  const control = h('div', { class: 'row' }, button, message);
  return control;
}

/**
 * A form whose submit button is disabled while its request runs: a double click creates one, not
 * two. Once `submit` succeeds the form is cleared for the next.
 */
function form(title, fields, submitLabel, submit) {
  const message = h('div');
  const button = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  let busy = false;
  const el = h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    // Enter in a field submits too, disabled button or not
    if (busy) return;
    busy = true;
    button.disabled = true;
    fill(message);
    try {
      await submit();
      el.reset();
    } catch (err) {
      fill(message, notice(err.message));
    } finally {
      busy = false;
      button.disabled = false;
      if (lost()) button.focus();
    }
  } }, h('h2', {}, title), fields, button, message);
  return el;
}

async function users(el, once) {
  const page = await api.admin('users');
  const email = h('input', { type: 'email', required: true, autocomplete: 'off' });
  const name = h('input', { type: 'text', required: true, autocomplete: 'off' });
  const fhirUser = h('input', { type: 'text', required: true, placeholder: 'Practitioner/123' });
  const scope = h('input', { type: 'text', required: true, value: 'user/*.cruds' });
  const admin = h('input', { type: 'checkbox' });
  const row = (u) => h('tr', { 'data-email': u.email },
    h('td', {}, u.email), h('td', {}, u.name), h('td', {}, u.fhirUser), h('td', { class: 'mono' }, u.scope),
    h('td', {}, u.admin ? 'yes' : 'no'),
    h('td', {}, u.disabled ? 'disabled' : (u.hasPassword ? 'active' : 'no password yet')),
    h('td', { class: 'row' }, !nameable('users', u.id) ? NO_ACTIONS : [
      u.disabled ? null : act(once, `Disable ${u.email}`, async () => {
        rows.update(await api.admin(adminPath('users', u.id, 'disable'), { method: 'POST' }));
        say(once, notice(`${u.email} is disabled.`, 'info'));
      }, `Disable ${u.email}? They can no longer sign in.`),
      act(once, `Reset password of ${u.email}`, async () => {
        const r = await api.admin(adminPath('users', u.id, 'reset-password'), { method: 'POST' });
        showOnce(once, `New set-password link for ${u.email}`, 'Set-password link', r.setPasswordUrl);
        rows.update(r);
      })]));
  const list = table('Users', ['Email', 'Name', 'FHIR user', 'Scope', 'Admin', 'Status', 'Actions'], []);
  const rows = rowsOf(list, (u) => u.id, row);
  rows.add(page.users);
  fill(el, list, more('users', 'Show more users', rows, page.next),
    form('New user', [field('Email', email), field('Name', name), field('FHIR user', fhirUser, 'The resource this person is, e.g. Practitioner/123.'),
      field('Scopes', scope, 'SMART user/ and patient/ scopes, space-separated.'),
      h('div', { class: 'field check' }, admin, h('label', { for: (admin.id = 'new-user-admin') }, 'Project admin'))],
    'Create user', async () => {
      const r = await api.admin('users', { method: 'POST', json: { email: email.value, name: name.value,
        fhirUser: fhirUser.value, scope: scope.value, admin: admin.checked } });
      showOnce(once, `Set-password link for ${r.email}`, 'Set-password link', r.setPasswordUrl);
      rows.addNew(r);
    }));
}

async function clients(el, once) {
  const page = await api.admin('clients');
  const scope = h('input', { type: 'text', required: true, value: 'system/*.rs' });
  const admin = h('input', { type: 'checkbox', id: 'new-client-admin' });
  const isPublic = h('input', { type: 'checkbox', id: 'new-client-public' });
  const redirects = h('input', { type: 'text', placeholder: 'https://app.example.org/callback' });
  const row = (c) => h('tr', { 'data-client': c.clientId },
    h('td', { class: 'mono' }, c.clientId), h('td', {}, c.project), h('td', { class: 'mono' }, c.scope),
    h('td', {}, [c.public ? 'public' : 'confidential', c.firstParty ? 'first-party' : null, c.admin ? 'admin' : null]
      .filter(Boolean).join(', ')),
    h('td', {}, c.disabled ? 'disabled' : 'active'),
    h('td', { class: 'row' }, !nameable('clients', c.clientId) ? NO_ACTIONS : [
      c.disabled ? null : act(once, `Disable ${c.clientId}`, async () => {
        rows.update(await api.admin(adminPath('clients', c.clientId, 'disable'), { method: 'POST' }));
        say(once, notice(`Client ${c.clientId} is disabled.`, 'info'));
      }, `Disable client ${c.clientId}? It can no longer get tokens.`),
      c.public || c.disabled ? null : act(once, `Rotate secret of ${c.clientId}`, async () => {
        const r = await api.admin(adminPath('clients', c.clientId, 'rotate-secret'), { method: 'POST' });
        showOnce(once, `New secret for ${r.clientId}`, 'Client secret', r.clientSecret);
        rows.update(r);
      })]));
  const list = table('Clients', ['Client id', 'Project', 'Scope', 'Kind', 'Status', 'Actions'], []);
  const rows = rowsOf(list, (c) => c.clientId, row);
  rows.add(page.clients);
  fill(el, list, more('clients', 'Show more clients', rows, page.next),
    form('New client', [field('Scopes', scope, 'SMART scopes, space-separated, e.g. system/*.rs.'),
      h('div', { class: 'field check' }, admin, h('label', { for: admin.id }, 'Admin client')),
      h('div', { class: 'field check' }, isPublic, h('label', { for: isPublic.id }, 'Public client (an app that signs people in)')),
      field('Redirect URIs', redirects, 'For an app: where people return after signing in, space-separated.')],
    'Create client', async () => {
      const r = await api.admin('clients', { method: 'POST', json: { scope: scope.value, admin: admin.checked,
        public: isPublic.checked, redirectUris: redirects.value.split(/\s+/).filter(Boolean) } });
      if (r.clientSecret) showOnce(once, `Secret for new client ${r.clientId}`, 'Client secret', r.clientSecret);
      else say(once, notice(`Created public client ${r.clientId}.`, 'info'));
      rows.addNew(r);
    }));
}

const JOB_STATES = [['', 'All'], ['failed', 'Failed'], ['queued', 'Queued'], ['running', 'Running'],
  ['skipped', 'Skipped'], ['done', 'Done']];
const JOBS_SHOWN = 100;

/** The newest jobs, of one state if chosen: the failed ones stay reachable however many others there are. */
async function jobs(el, once, state = '') {
  const page = await api.admin(`jobs?_count=${JOBS_SHOWN}${state ? `&state=${state}` : ''}`);
  const filter = h('select', { onchange: () => jobs(el, once, filter.value).catch((e) => say(once, notice(e.message))) },
    JOB_STATES.map(([value, label]) => h('option', { value, selected: value === state }, label)));
  const row = (j) => h('tr', { 'data-job': j.id },
    h('td', {}, date(j.created)), h('td', {}, j.resource), h('td', { class: 'mono wrap' }, j.url),
    h('td', {}, j.state), h('td', {}, String(j.attempts)), h('td', {}, j.lastError || ''),
    h('td', {}, j.state !== 'failed' && j.state !== 'skipped' ? null
      : !nameable('jobs', j.id) ? NO_ACTIONS : act(once, `Retry job ${j.id}`, async () => {
        rows.update(await api.admin(adminPath('jobs', j.id, 'retry'), { method: 'POST' }));
        say(once, notice('The job is queued again.', 'info'));
      })));
  if (page.jobs.length === 0) {
    fill(el, field('Show', filter), h('p', {}, 'No ingestion jobs.'));
    return;
  }
  const list = table('Ingestion jobs', ['Created', 'Resource', 'URL', 'State', 'Attempts', 'Error', 'Actions'], []);
  const rows = rowsOf(list, (j) => j.id, row);
  rows.add(page.jobs);
  fill(el, field('Show', filter), list, more('jobs', 'Show older jobs', rows, page.next));
}
