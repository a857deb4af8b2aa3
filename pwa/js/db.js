// IndexedDB: the phone's queue and its copy of what it needs offline.
import { openDB } from '../vendor/idb.js';

const DB_NAME = 'sro-activity-log';
let opening = null;

/** The database, created on first use. */
export function db() {
  opening ??= openDB(DB_NAME, 1, {
    upgrade(database) {
      const outbox = database.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
      outbox.createIndex('activity_id', 'activity_id');
      database.createObjectStore('activities', { keyPath: 'id' });
      database.createObjectStore('drafts', { keyPath: 'key' });
      database.createObjectStore('refdata', { keyPath: 'key' });
      database.createObjectStore('meta', { keyPath: 'key' });
    },
  });
  return opening;
}

export async function getMeta(key) {
  return (await (await db()).get('meta', key))?.value;
}

export async function setMeta(key, value) {
  await (await db()).put('meta', { key, value });
}

export async function getRef(key) {
  return (await (await db()).get('refdata', key))?.value;
}

export async function setRef(key, value) {
  await (await db()).put('refdata', { key, value, stored_at: new Date().toISOString() });
}

// A draft is written ahead to localStorage, which is synchronous, until IndexedDB has
// committed it: a page reloaded or closed a moment after a keystroke would otherwise lose the
// write still under way. The next read moves a draft left there into IndexedDB.
const AHEAD = 'sro-draft:';

function readAhead(key) {
  try {
    return JSON.parse(localStorage.getItem(AHEAD + key));
  } catch {
    return null;  // storage off, or not JSON: IndexedDB has the draft
  }
}

function forgetAhead(key, written = null) {
  try {
    if (written === null || localStorage.getItem(AHEAD + key) === written) localStorage.removeItem(AHEAD + key);
  } catch { /* storage off: nothing was written ahead */ }
}

function aheadKeys() {
  try {
    return Object.keys(localStorage).filter((k) => k.startsWith(AHEAD)).map((k) => k.slice(AHEAD.length));
  } catch {
    return [];
  }
}

export async function getDraft(key) {
  const ahead = readAhead(key);
  if (ahead?.key === key) {
    await (await db()).put('drafts', ahead);
    forgetAhead(key);
    return ahead.value;
  }
  return (await (await db()).get('drafts', key))?.value;
}

export async function setDraft(key, value) {
  const row = { key, value, saved_at: new Date().toISOString() };
  const written = JSON.stringify(row);
  try {
    localStorage.setItem(AHEAD + key, written);
  } catch { /* full or off: IndexedDB alone */ }
  await (await db()).put('drafts', row);
  forgetAhead(key, written);  // unless a newer keystroke has written ahead since
}

export async function deleteDraft(key) {
  forgetAhead(key);
  await (await db()).delete('drafts', key);
}

/** How many unsaved forms (drafts) this phone holds. */
export async function draftCount() {
  return (await db()).count('drafts');
}

/** Forget one user's data on this phone (another officer signs in on a shared phone). */
export async function clearUserData() {
  for (const key of aheadKeys()) forgetAhead(key);
  const database = await db();
  const tx = database.transaction(['activities', 'drafts', 'meta', 'outbox'], 'readwrite');
  await Promise.all([
    tx.objectStore('activities').clear(),
    tx.objectStore('drafts').clear(),
    tx.objectStore('outbox').clear(),
    tx.objectStore('meta').delete('cursor'),
    tx.objectStore('meta').delete('last_school_id'),
    tx.done,
  ]);
}
