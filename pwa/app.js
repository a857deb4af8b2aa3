// The app's entry: service worker, session, hash router, navigation and the sync status line.
import * as api from './js/api.js';
import { clearUserData, draftCount, getMeta, setMeta, setRef } from './js/db.js';
import * as sync from './js/sync.js';
import { formatDateTime, formatWait, h, plural, ROLES } from './js/ui.js';
import * as adminView from './js/views/admin.js';
import * as dashboardView from './js/views/dashboard.js';
import * as historyView from './js/views/history.js';
import * as logView from './js/views/log.js';
import * as loginView from './js/views/login.js';
import * as mineView from './js/views/mine.js';
import * as reviewView from './js/views/review.js';
import * as voiceView from './js/views/voice.js';

const ROUTES = {
  login: { view: loginView, title: 'Sign in' },
  sso: { view: loginView, title: 'Signing in' },
  log: { view: logView, title: 'Log activity', nav: 'Log activity', roles: ['officer'] },
  mine: { view: mineView, title: 'My activities', nav: 'My activities', roles: ['officer'] },
  review: { view: reviewView, title: 'Review queue', nav: 'Review queue', roles: ['school_leader'] },
  dashboard: { view: dashboardView, title: 'Dashboard', nav: 'Dashboard', roles: ['program_manager', 'admin'] },
  voice: { view: voiceView, title: 'Community voice', nav: 'Community voice', roles: ['school_leader', 'program_manager', 'admin'] },
  admin: { view: adminView, title: 'Admin', nav: 'Admin', roles: ['admin'] },
  history: { view: historyView, title: 'History', roles: ['officer', 'school_leader', 'program_manager', 'admin'] },
};
// Views for someone not signed in: the sign-in page, and the return from a provider.
const PUBLIC = ['login', 'sso'];
const HOME = { officer: 'log', school_leader: 'review', program_manager: 'dashboard', admin: 'admin' };

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const syncbar = document.getElementById('syncbar');
const statusEl = document.getElementById('sync-status');
const warningEl = document.getElementById('sync-warning');
const lastEl = document.getElementById('sync-last');
const saidEl = document.getElementById('sync-said');
const AGE_FROM_MS = 3600_000;
let saidTimer = null;
let installPrompt = null;
let firstRender = true;
let renderToken = 0;

export function navigate(route) {
  const target = `#/${route}`;
  if (location.hash === target) render();
  else location.hash = target;
}

function parseHash() {
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [name, ...rest] = path.split('/');
  return {
    name: name || '',
    param: rest.length ? decodeURIComponent(rest.join('/')) : null,
    query: new URLSearchParams(query),
  };
}

async function currentUser() {
  const current = await getMeta('session');
  return current?.user ? current : null;
}

/** Render the view the hash names, after checking the session and role. */
async function render() {
  const token = ++renderToken;
  const current = await currentUser();
  let { name, param, query } = parseHash();
  const role = current?.user?.role;
  const signedIn = Boolean(current?.access_token) || (role === 'officer' && current?.user);
  if (!signedIn && !PUBLIC.includes(name)) {
    location.replace('#/login');
    return;
  }
  if (!PUBLIC.includes(name) && (!ROUTES[name] || !ROUTES[name].roles.includes(role))) {
    location.replace(`#/${HOME[role] || 'login'}`);
    return;
  }
  if (name === 'login' && !param && current?.access_token && !current.expired) {
    location.replace(`#/${HOME[role]}`);
    return;
  }
  const route = ROUTES[name];
  renderNav(current, name);
  document.title = `${route.title} · SRO Activity Log`;
  const container = h('div', { class: 'view' });
  const context = { user: current?.user || null, session: current, navigate, onSignedIn, param, query, signOut };
  try {
    await route.view.render(container, context);
  } catch (error) {
    container.replaceChildren(
      h('h1', {}, route.title),
      h('div', { class: 'error-box', role: 'alert' }, error.message || 'Something went wrong.'),
    );
  }
  if (token !== renderToken) return;
  main.replaceChildren(container);
  const heading = main.querySelector('h1');
  if (!firstRender && heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
  firstRender = false;
  document.documentElement.dataset.view = name;
  updateStatus();
}

function renderNav(current, active) {
  const role = current?.user?.role;
  if (!role || PUBLIC.includes(active)) {
    nav.hidden = true;
    nav.replaceChildren();
    syncbar.hidden = true;
    return;
  }
  const links = Object.entries(ROUTES)
    .filter(([, route]) => route.nav && route.roles.includes(role))
    .map(([key, route]) =>
      h('a', { href: `#/${key}`, 'aria-current': key === active ? 'page' : null }, route.nav),
    );
  const install = installPrompt
    ? h('button', { type: 'button', onclick: install_ }, 'Install app')
    : null;
  const items = [
    ...links,
    install,
    // On a phone the name is said to screen readers only: the header stays one row.
    h('span', { class: 'who wide-only' }, `${current.user.display_name} (${ROLES[role] || role})`),
    h('button', { type: 'button', onclick: signOut }, 'Sign out'),
  ];
  nav.replaceChildren(...items.filter(Boolean));
  nav.hidden = false;
  syncbar.hidden = role !== 'officer';
}

async function install_() {
  if (!installPrompt) return;
  installPrompt.prompt();
  await installPrompt.userChoice;
  installPrompt = null;
  renderNav(await currentUser(), parseHash().name);
}

/** Store a new sign-in; a different user on a phone with unsynced work is refused. */
async function onSignedIn(result) {
  const previous = await getMeta('session');
  const previousUserId = (await getMeta('user_id')) ?? previous?.user?.id;
  if (previousUserId != null && previousUserId !== result.user.id) {
    const summary = await sync.outboxSummary();
    if (summary.waiting || summary.attention) {
      await api.logout(result).catch(() => {});  // the sign-in this phone refuses
      throw new Error(
        `This phone holds ${plural(summary.waiting + summary.attention, 'activity', 'activities')} ` +
          'another officer has not synced yet. That officer must sign in and sync first.',
      );
    }
    if ((await draftCount()) && !result.dropDrafts) {
      const error = new Error(
        'This phone holds a form the previous officer had not saved. Signing in deletes it from this phone.',
      );
      error.code = 'unsaved_draft';
      throw error;
    }
    await clearUserData();
  }
  await setMeta('session', {
    access_token: result.access_token,
    refresh_token: result.refresh_token,
    user: result.user,
    expired: false,
  });
  await setMeta('user_id', result.user.id);
  sync.resetSyncState();
  say('');  // "Sign in again" is done
  try {
    await navigator.storage?.persist?.();
  } catch {
    // Persistence is a request the browser may refuse; the warning below covers it.
  }
  await sync.refreshReferenceData({ force: true });
  await setRef('me', result.user);
  if (result.user.role === 'officer') sync.syncNow({ force: true });
}

/**
 * Sign out; unsynced activities stay on this phone until this officer signs in again. With
 * entries waiting or an unsaved form, the officer is told first and asked.
 */
async function signOut() {
  const summary = await sync.outboxSummary();
  const waiting = summary.waiting + summary.attention;
  const drafts = await draftCount();
  if ((waiting || drafts) && !document.getElementById('signout-warning')) {
    showSignOutWarning(waiting, drafts);
    return;
  }
  document.getElementById('signout-warning')?.remove();
  // The phone forgets the sign-in first and shows the sign-in form at once; the server is
  // told after (a tab closed meanwhile leaves no half-signed-out session behind).
  const session = await getMeta('session');
  await setMeta('session', null);
  navigate('login');
  await api.logout(session);
}

function showSignOutWarning(waiting, drafts) {
  const lost = [];
  if (waiting) lost.push(`${plural(waiting, 'activity', 'activities')} not yet on the server`);
  if (drafts) lost.push('a form you have not saved');
  const box = h('div', { id: 'signout-warning', class: 'warning', role: 'alertdialog', 'aria-labelledby': 'signout-text' },
    h('p', { id: 'signout-text' },
      `This phone holds ${lost.join(' and ')}. ` + (waiting
        ? 'If you sign out, they stay on this phone and are sent only when you sign in here again; ' +
          'another officer cannot sign in on this phone until then.'
        // Only a form: nothing to send, and another officer may sign in once they agree to delete it.
        : 'If you sign out, it stays on this phone for when you sign in here again; ' +
          'if another officer signs in here first, it is deleted.')),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'danger', onclick: signOut }, 'Sign out anyway'),
      h('button', { type: 'button', class: 'secondary', onclick: () => box.remove() }, 'Stay signed in')));
  main.prepend(box);
  box.querySelector('button').focus();
}

/**
 * The status line: "Saved on this phone · N waiting to sync", how long the oldest entry not on
 * the server has waited ("oldest 3 hours ago", from an hour on), and what sync is doing. With
 * announce (after a save) the polite region speaks even when its words did not change.
 */
async function updateStatus({ announce = false } = {}) {
  const current = await getMeta('session');
  if (current?.user?.role !== 'officer') return;
  const summary = await sync.outboxSummary();
  const state = sync.syncState();
  const last = await getMeta('last_sync_at');
  // Each part is [words always shown, words shown only on a wide screen after them, and
  // before them]: a phone shows "2 waiting · 1 day · offline" on one line; screen readers
  // hear the whole sentence everywhere ("… · oldest 1 day ago · offline").
  const parts = [[`${summary.waiting} waiting`, ' to sync']];
  if (summary.attention) parts.push([`${summary.attention} need${summary.attention === 1 ? 's' : ''} attention`]);
  // In hours and days, from an hour on: the words change at most hourly (the region speaks
  // each change), and what matters is an entry that waits for long.
  const age = Date.now() - Date.parse(summary.oldest || '');
  if (age >= AGE_FROM_MS) parts.push([formatWait(age), ' ago', 'oldest ']);
  if (!navigator.onLine) parts.push(['offline']);
  else if (state.authNeeded || current.expired) parts.push(['sign in again to sync']);
  else if (state.error) parts.push(['sync will retry']);
  // Not the word "Synced": that word belongs to each activity's own state.
  else if (!summary.waiting && !summary.attention && last && !state.running) parts.push(['all sent', ' to the server']);
  const lead = 'Saved on this phone · ';
  const text = lead + parts.map(([shown, wide = '', before = '']) => before + shown + wide).join(' · ');
  const wideOnly = (words) => h('span', { class: 'wide-only' }, words);
  const nodes = () => [wideOnly(lead), ...parts.flatMap(([shown, wide, before], index) => [
    index ? ' · ' : '', before ? wideOnly(before) : '', shown, wide ? wideOnly(wide) : '',
  ]).filter(Boolean)];
  if (announce && statusEl.textContent === text) {
    statusEl.textContent = '';
    setTimeout(() => {
      if (!statusEl.textContent) statusEl.replaceChildren(...nodes());
    }, 150);
  } else if (statusEl.textContent !== text) {
    statusEl.replaceChildren(...nodes());
  }
  lastEl.textContent = state.running ? 'Sync running…' : last ? `Last sync: ${formatDateTime(last)}` : 'No sync yet';
  const warnings = [];
  if (summary.stale) {
    warnings.push(
      'Something has waited more than 3 days to sync. Connect to a network and press Sync now: ' +
        'phones may clear data of web apps that go unused.',
    );
  }
  const offset = await sync.clockOffset();
  if (offset != null) warnings.push(clockWarning(offset));
  warningEl.hidden = !warnings.length;
  warningEl.textContent = warnings.join(' ');
}

/** The phone's clock is far off the server's: its times would land on the wrong day. */
function clockWarning(offset) {
  const minutes = Math.round(Math.abs(offset) / 60000);
  const size = minutes >= 2 * 1440 ? plural(Math.round(minutes / 1440), 'day')
    : minutes >= 120 ? plural(Math.round(minutes / 60), 'hour') : plural(minutes, 'minute');
  return `This phone's clock is ${size} ${offset > 0 ? 'ahead of' : 'behind'} the server's. ` +
    'Set the date and time in the phone\'s settings (automatic is best): check the start time of what you log, ' +
    'since the form fills it in from the phone\'s clock.';
}

/**
 * Sync now, answered next to the button: offline, what will be sent once the phone is back
 * online (the message stays until it is); online, that it ran and how it ended.
 */
async function syncNowPressed() {
  clearTimeout(saidTimer);
  if (!navigator.onLine) {
    const { waiting } = await sync.outboxSummary();
    say(waiting
      ? `You are offline. ${plural(waiting, 'activity', 'activities')} will be sent when this phone is back online.`
      : 'You are offline. Nothing is waiting; what you save is sent when this phone is back online.', { offline: true });
    return;
  }
  say('Syncing…');
  await sync.syncNow({ force: true });
  const state = sync.syncState();
  const { waiting, attention } = await sync.outboxSummary();
  if (state.authNeeded) {
    // Said with the way there: the sign-in form, which keeps what waits on this phone.
    say([h('a', { class: 'go', href: '#/login/again' }, 'Sign in again'), ' to sync.']);
    return;
  }
  if (state.error) say('The server could not be reached. This phone will try again.');
  else if (attention) say(`Sync finished. ${plural(attention, 'activity needs', 'activities need')} your attention in My activities.`);
  else say(waiting ? `Sync finished. ${waiting} still waiting.` : 'Sync finished. Everything is on the server.');
  saidTimer = setTimeout(() => say(''), 8000);
}

function say(words, { offline = false } = {}) {
  saidEl.replaceChildren(...[words].flat().filter((part) => part !== ''));  // the region stays rendered (empty, no height) so it is announced
  if (offline) saidEl.dataset.offline = 'true';
  else delete saidEl.dataset.offline;
}

function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker
    .register('/sw.js', { scope: '/' })
    .then(() => navigator.serviceWorker.ready)
    .then(() => {
      document.documentElement.dataset.offlineReady = 'true';
    })
    .catch(() => {
      document.documentElement.dataset.offlineReady = 'false';
    });
}

async function boot() {
  registerWorker();
  window.addEventListener('hashchange', render);
  window.addEventListener('sro:changed', () => updateStatus());
  window.addEventListener('sro:saved', () => updateStatus({ announce: true }));
  window.addEventListener('sro:sync', () => updateStatus());
  window.addEventListener('online', () => updateStatus());
  window.addEventListener('offline', () => updateStatus());
  window.addEventListener('sro:auth-required', async () => {
    await updateStatus();
    if (!PUBLIC.includes(parseHash().name)) navigate('login/again');
  });
  window.addEventListener('beforeinstallprompt', async (event) => {
    event.preventDefault();
    installPrompt = event;
    renderNav(await currentUser(), parseHash().name);  // the nav only: never reset a form
  });
  document.getElementById('sync-now').addEventListener('click', syncNowPressed);
  setInterval(() => updateStatus(), 60_000);  // the oldest entry's age, while nothing else happens
  window.addEventListener('online', () => {
    if (saidEl.dataset.offline) say('');
  });
  await render();
  sync.startSync();
}

boot();
