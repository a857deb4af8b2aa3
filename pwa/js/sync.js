// Offline sync: every save goes to IndexedDB and the outbox first; push, then pull.
import { ApiError, AuthRequired, NetworkError, get, getAll, post } from './api.js';
import { db, getMeta, getRef, setMeta, setRef } from './db.js';
import FORM_RULES from './form-rules.json' with { type: 'json' };

const Rules = globalThis.OutboxRules;
const BATCH = 100;
const PUSH_TIMEOUT_MS = 60_000;
const CLOCK_SLACK_MS = 5 * 60_000;
const PULL_PAGE = 200;
const TIMER_MS = 60_000;
const MAX_BACKOFF_MS = 5 * 60_000;
const REFDATA_EVERY_MS = 60 * 60_000;
export const STALE_AFTER_MS = 3 * 24 * 3600 * 1000;

const state = { running: null, again: false, failures: 0, nextAt: 0, error: null, authNeeded: false };
let timer = null;

function emit(name, detail) {
  window.dispatchEvent(new CustomEvent(`sro:${name}`, { detail }));
}

export function uuid() {
  return crypto.randomUUID();
}

export async function deviceId() {
  let id = await getMeta('device_id');
  if (!id) {
    id = uuid();
    await setMeta('device_id', id);
  }
  return id;
}

async function entriesFor(store, activityId) {
  return store.index('activity_id').getAll(activityId);
}

/**
 * Save an activity on this phone and queue it: new (id null) or an edit. Returns the id.
 * opened: {version, content} of the copy the form was opened on; an edit is sent on that
 * version with the fields changed since (a copy pulled while the form was open changes
 * neither). Fails (IndexedDB errors, storage full) with an error the form shows.
 */
export async function saveActivity(id, content, opened = null) {
  const activityId = id || uuid();
  const database = await db();
  const tx = database.transaction(['activities', 'outbox'], 'readwrite');
  try {
    await queueChange(tx, activityId, content, opened);
  } catch (error) {
    tx.done.catch(() => {});  // its failure is this one
    try {
      tx.abort();  // nothing half-written
    } catch {
      // Already finished or aborted.
    }
    throw error;
  }
  afterChange();
  return activityId;
}

async function queueChange(tx, activityId, content, opened) {
  const activities = tx.objectStore('activities');
  const outbox = tx.objectStore('outbox');
  const existing = await activities.get(activityId);
  const entries = await entriesFor(outbox, activityId);
  const now = new Date().toISOString();
  const change = plannedChange(existing, entries, content, opened);
  const record = {
    ...(existing || { version: null, server: null, status: 'submitted', created_at: now }),
    ...change.shown,
    id: activityId,
    saved_at: now,
  };
  if (change.version !== undefined) record.version = change.version;
  // An edit sends a reviewed activity back to the school, as the server will.
  if (existing && existing.status !== 'submitted' && Object.keys(change.data).length) record.status = 'submitted';
  for (const entry of entries.filter((e) => e.state === 'attention')) await outbox.delete(entry.seq);
  if (change.unsent) {
    await outbox.put({ ...change.unsent, data: change.data, updated_at: now });
  } else if (change.base_version === null || Object.keys(change.data).length) {
    await outbox.add({
      mutation_id: uuid(),
      op: 'upsert',
      activity_id: activityId,
      base_version: change.base_version,
      data: change.data,
      state: 'pending',
      sent: false,
      created_at: now,
    });
  }
  await activities.put(record);
  await tx.done;
}

/**
 * What a save queues: the base version and data of the entry (or the unsent entry it grows),
 * and the fields the phone's copy takes.
 * - After a conflict or a refusal: the phone's version on top of the newest server copy.
 * - Never on the server: all the content, no base.
 * - Otherwise: the fields changed since the copy the form was opened on, on its version.
 */
function plannedChange(existing, entries, content, opened) {
  const attention = entries.filter((e) => e.state === 'attention');
  const unsent = entries.find((e) => e.state === 'pending' && !e.sent && e.op === 'upsert');
  if (attention.length) {
    const server = newestServer(existing, attention);
    if (server && !server.deleted && existing?.version != null) {
      // The officer's changes (those set aside, and any made in the form now), on top of
      // the newest server copy: the server's other changes stay.
      const earlier = Object.assign({}, ...attention.filter((e) => e.op === 'upsert').map((e) => e.data || {}));
      const data = { ...earlier, ...Rules.changedFields(content, opened?.content ?? existing, CONTENT_FIELDS) };
      return { base_version: server.version, data, shown: { ...pick(server), ...data }, version: server.version };
    }
    return { base_version: null, data: pick({ ...existing, ...content }), shown: content };
  }
  if (!existing || existing.version == null) {
    const data = { ...(unsent?.data || {}), ...pick({ ...existing, ...content }) };
    return { base_version: null, data, shown: content, unsent };
  }
  const base = editBase(existing, entries, opened);
  const changed = Rules.changedFields(content, base.content, CONTENT_FIELDS);
  if (unsent) {
    const data = { ...unsent.data, ...changed };
    return { base_version: unsent.base_version, data, shown: changed, unsent };
  }
  return { base_version: base.version, data: changed, shown: changed };
}

/**
 * The copy an edit is made on: the one the form was opened on, or the phone's copy now when
 * nothing waits to be sent (so it is a server copy) and its content is exactly what the form
 * showed. That happens when the phone's own edit, on its way as the form opened, was applied
 * since: sent on the older version it would clash with the officer's own change. A pull of
 * another device's change never moves the base: the content would differ.
 */
function editBase(existing, entries, opened) {
  if (!opened || entries.length) return opened || { version: existing.version, content: existing };
  const since = Rules.changedFields(pick(existing), opened.content, CONTENT_FIELDS);
  return Object.keys(since).length ? opened : { version: existing.version, content: opened.content };
}

function pick(record) {
  const content = {};
  for (const key of CONTENT_FIELDS) if (record && key in record) content[key] = record[key];
  return content;
}

/** The newest server copy this phone knows of an activity: pulled, or sent back with a result. */
function newestServer(record, entries) {
  let server = record?.server || null;
  for (const entry of entries) server = Rules.newest(server, entry.result?.activity);
  return server;
}

/**
 * Delete an activity: at once if the server never saw it, otherwise through the outbox, on
 * the version of the phone's copy. onServerCopy: the officer chose to delete it after being
 * shown the newest server copy (a conflict), so the delete is made on that copy's version.
 */
export async function deleteActivity(id, { onServerCopy = false } = {}) {
  const database = await db();
  const tx = database.transaction(['activities', 'outbox'], 'readwrite');
  const activities = tx.objectStore('activities');
  const outbox = tx.objectStore('outbox');
  const record = await activities.get(id);
  const entries = await entriesFor(outbox, id);
  const maybeOnServer = record?.version != null || entries.some((e) => e.sent);
  const server = onServerCopy ? newestServer(record, entries) : null;
  const copy = server && !server.deleted ? Rules.fromServer(server) : record;
  for (const entry of entries.filter((e) => !e.sent || e.state === 'attention')) {
    await outbox.delete(entry.seq);
  }
  if (!maybeOnServer) {
    await activities.delete(id);
  } else {
    await outbox.add({
      mutation_id: uuid(),
      op: 'delete',
      activity_id: id,
      base_version: copy?.version ?? null,
      data: null,
      state: 'pending',
      sent: false,
      created_at: new Date().toISOString(),
    });
    if (copy) await activities.put({ ...copy, deleted: true });
  }
  await tx.done;
  afterChange();
}

/**
 * Drop an entry that needs attention: the phone takes the newest server copy it knows (the
 * conflict's, or a newer one pulled since), or forgets an activity the server never had.
 */
export async function discard(id) {
  const database = await db();
  const tx = database.transaction(['activities', 'outbox'], 'readwrite');
  const outbox = tx.objectStore('outbox');
  const record = await tx.objectStore('activities').get(id);
  const entries = await entriesFor(outbox, id);
  const server = newestServer(record, entries);
  for (const entry of entries) await outbox.delete(entry.seq);
  if (server && !server.deleted) await tx.objectStore('activities').put(Rules.fromServer(server));
  else await tx.objectStore('activities').delete(id);
  await tx.done;
  afterChange();
}

/**
 * Keep the phone's version after a conflict: its content sent on top of the newest server
 * copy, or its delete made on that copy. If the activity was deleted elsewhere, the phone's
 * version is logged as a new one (unless the phone deleted it too).
 */
export async function keepMine(id) {
  const database = await db();
  const record = await database.get('activities', id);
  const entries = await entriesFor(database.transaction('outbox').objectStore('outbox'), id);
  const server = newestServer(record, entries);
  if (record?.deleted) return server?.deleted ? discard(id) : deleteActivity(id, { onServerCopy: true });
  if (server?.deleted) {
    const content = pick(record);
    await discard(id);
    return saveActivity(null, content);
  }
  return saveActivity(id, pick(record));
}

/** The fields an officer owns (the server's, from form-rules.json). */
export const CONTENT_FIELDS = Object.keys(FORM_RULES.activity);

/** The officer's activities on this phone with their sync state in words. */
export async function localActivities() {
  const database = await db();
  const tx = database.transaction(['activities', 'outbox']);
  const [records, entries] = await Promise.all([
    tx.objectStore('activities').getAll(),
    tx.objectStore('outbox').getAll(),
    tx.done,
  ]);
  const byActivity = new Map();
  for (const entry of entries) {
    if (!byActivity.has(entry.activity_id)) byActivity.set(entry.activity_id, []);
    byActivity.get(entry.activity_id).push(entry);
  }
  return records
    .map((record) => {
      const own = byActivity.get(record.id) || [];
      const attention = own.find((e) => e.state === 'attention');
      const sync = attention ? 'attention' : own.length ? 'pending' : 'synced';
      return { ...record, sync, attention: attention?.result || null };
    })
    // A delete waits out of sight; one the server set aside stays listed for the officer.
    .filter((item) => !item.deleted || item.attention)
    .sort((a, b) => (b.started_at || '').localeCompare(a.started_at || ''));
}

/**
 * Counts for the status line: waiting, needing attention, and the oldest entry not yet on the
 * server (waiting or needing attention: a conflict left for days is not on the server either).
 */
export async function outboxSummary() {
  const entries = await (await db()).getAll('outbox');
  const pending = entries.filter((e) => e.state === 'pending');
  const unsent = entries.filter((e) => e.state === 'pending' || e.state === 'attention');
  const oldest = unsent.reduce((min, e) => (!min || e.created_at < min ? e.created_at : min), null);
  return {
    waiting: new Set(pending.map((e) => e.activity_id)).size,
    attention: entries.filter((e) => e.state === 'attention').length,
    oldest,
    stale: oldest ? Date.now() - Date.parse(oldest) > STALE_AFTER_MS : false,
  };
}

async function pushBatch(device, limit) {
  const database = await db();
  const all = await database.getAll('outbox');
  const batch = Rules.pickBatch(all, limit);
  if (!batch.length) return { sent: 0, settled: 0 };
  // Mark the entries sent in the same transaction that reads them: an edit made from now on
  // never rewrites a mutation the server may already have applied.
  const mutations = [];
  const seqByMutation = new Map();
  {
    const tx = database.transaction(['outbox'], 'readwrite');
    const outbox = tx.objectStore('outbox');
    for (const candidate of batch) {
      const entry = await outbox.get(candidate.seq);
      if (!entry || entry.state !== 'pending') continue;
      if (!entry.sent) await outbox.put({ ...entry, sent: true });
      mutations.push(Rules.mutationFor(entry));
      seqByMutation.set(entry.mutation_id, entry.seq);
    }
    await tx.done;
  }
  if (!mutations.length) return { sent: 0, settled: 0 };
  const sentAt = Date.now();
  const body = await post('/sync/push', { device_id: device, mutations }, { timeout: PUSH_TIMEOUT_MS });
  const receivedAt = Date.now();
  let settled = 0;
  const tx = database.transaction(['outbox', 'activities'], 'readwrite');
  const outbox = tx.objectStore('outbox');
  const activities = tx.objectStore('activities');
  for (const result of body.results || []) {
    const seq = seqByMutation.get(result.mutation_id);
    const entry = seq == null ? null : await outbox.get(seq);
    if (!entry) continue;
    const others = (await outbox.index('activity_id').getAllKeys(entry.activity_id)).filter((k) => k !== seq);
    const record = await activities.get(entry.activity_id);
    const outcome = Rules.settle(entry, result, record, others.length > 0);
    if (outcome.entry === null) {
      await outbox.delete(seq);
      settled += 1;
    } else if (outcome.entry !== entry) {
      await outbox.put(outcome.entry);
    }
    if (outcome.record === null) await activities.delete(entry.activity_id);
    else if (outcome.record) await activities.put(outcome.record);
    if (outcome.rebase != null) {
      for (const key of others) {
        const later = await outbox.get(key);
        const moved = later && Rules.rebased(later, outcome.rebase);
        if (moved && moved !== later) await outbox.put(moved);
      }
    }
  }
  await tx.done;
  await checkClock(body.server_time, sentAt, receivedAt);
  return { sent: mutations.length, settled };
}

/**
 * Push batch after batch. A 413 (a proxy in front may allow less than the server) halves the
 * batch until it passes; one entry too large on its own is set aside for the officer.
 */
async function pushAll() {
  const device = await deviceId();
  let limit = BATCH;
  for (let round = 0; round < 60; round += 1) {
    let outcome;
    try {
      outcome = await pushBatch(device, limit);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 413)) throw error;
      if (limit > 1) limit = Math.max(1, Math.floor(limit / 2));
      else await setAsideTooLarge();
      continue;
    }
    if (!outcome.sent || !outcome.settled) return;
  }
}

/** The one entry a push of one could not carry: it needs the officer, with the reason. */
async function setAsideTooLarge() {
  const database = await db();
  const [entry] = Rules.pickBatch(await database.getAll('outbox'), 1);
  if (!entry) return;
  await database.put('outbox', {
    ...entry,
    state: 'attention',
    result: {
      status: 'rejected',
      activity: null,
      error: {
        code: 'payload_too_large',
        message: 'This entry is too large to send, even on its own. Shorten it (the summary) and save again, or discard the change.',
      },
    },
  });
}

/**
 * The phone's clock against the server's (the push answer's server_time, taken half way
 * through the request): far off, the officer is told, since dates the form fills in from
 * the phone's clock would be wrong.
 */
async function checkClock(serverTime, sentAt, receivedAt) {
  const server = Date.parse(serverTime || '');
  if (Number.isNaN(server)) return;
  const offset = (sentAt + receivedAt) / 2 - server;
  const slack = CLOCK_SLACK_MS + (receivedAt - sentAt) / 2;
  const next = Math.abs(offset) > slack ? offset : null;
  if ((await getMeta('clock_offset_ms')) !== next) {
    await setMeta('clock_offset_ms', next);
    emit('changed');
  }
}

/** How far the phone's clock was off at the last push (ms, + ahead), or null when right. */
export async function clockOffset() {
  return (await getMeta('clock_offset_ms')) ?? null;
}

/**
 * Pull changes since the cursor; each page and its cursor are stored in one transaction.
 * Returns the ids of schools the pulled activities are at that the phone's list lacks (the
 * officer was given another school since the list was stored).
 */
export async function pull() {
  const known = new Set(((await getRef('schools')) || []).map((school) => school.id));
  const unknown = new Set();
  await pullPages((change) => {
    if (!change.deleted && change.school_id != null && !known.has(change.school_id)) unknown.add(change.school_id);
  });
  return { unknownSchools: [...unknown] };
}

async function pullPages(onChange) {
  const database = await db();
  let cursor = (await getMeta('cursor')) ?? null;
  let resets = 0;
  for (let page = 0; page < 500; page += 1) {
    const query = new URLSearchParams({ limit: String(PULL_PAGE) });
    if (cursor) query.set('since', cursor);
    const body = await get(`/sync/pull?${query}`);
    const tx = database.transaction(['activities', 'outbox', 'meta'], 'readwrite');
    const activities = tx.objectStore('activities');
    const entries = await tx.objectStore('outbox').getAll();
    const pendingIds = new Set(entries.map((entry) => entry.activity_id));
    if (body.reset) {
      for (const key of await activities.getAllKeys()) {
        if (!pendingIds.has(key)) await activities.delete(key);
      }
      await tx.objectStore('meta').put({ key: 'cursor', value: null });
      await tx.done;
      cursor = null;
      resets += 1;
      if (resets > 2) return;
      continue;
    }
    for (const change of body.changes || []) {
      onChange(change);
      const record = await activities.get(change.id);
      const next = Rules.applyPulled(change, record, pendingIds.has(change.id));
      if (next === null) await activities.delete(change.id);
      else if (next) await activities.put(next);
    }
    await tx.objectStore('meta').put({ key: 'cursor', value: body.cursor ?? cursor });
    await tx.done;
    cursor = body.cursor ?? cursor;
    if (!body.has_more) return;
  }
}

/**
 * Store categories and schools for offline use (an officer may be assigned another school):
 * after each sync at most hourly, and at once with force (after sign-in).
 */
export async function refreshReferenceData({ force = false } = {}) {
  const last = await getMeta('refdata_at');
  if (!force && last && Date.now() - Date.parse(last) < REFDATA_EVERY_MS) return;
  const [categories, schools] = await Promise.all([get('/categories'), getAll('/schools')]);
  await setRef('categories', categories.items);
  await setRef('schools', schools);
  await setMeta('refdata_at', new Date().toISOString());
}

function scheduleBackoff() {
  state.failures += 1;
  const base = Math.min(MAX_BACKOFF_MS, 5000 * 2 ** (state.failures - 1));
  state.nextAt = Date.now() + base / 2 + Math.random() * (base / 2);
  clearTimeout(state.retryTimer);
  // The timer is the retry: forced, since it may fire a fraction of a millisecond before
  // nextAt (setTimeout counts whole milliseconds), and a run that skipped itself then would
  // leave the retry to the next minute's timer.
  state.retryTimer = setTimeout(() => syncNow({ force: true }), state.nextAt - Date.now());
}

/** Whether this phone may sync now: 'yes', 'auth' (an officer whose sign-in ended), or 'no'. */
async function canSync() {
  const current = await getMeta('session');
  if (current?.user?.role !== 'officer') return 'no';
  return current.access_token ? 'yes' : 'auth';
}

/** Push the outbox, then pull. Forced runs (Sync now, online) ignore the backoff. */
export function syncNow({ force = false } = {}) {
  if (state.running) {
    state.again = true;
    return state.running;
  }
  if (!force && Date.now() < state.nextAt) return Promise.resolve();
  state.running = (async () => {
    emit('sync', { phase: 'start' });
    try {
      const allowed = await canSync();
      if (allowed === 'auth') {
        // The sign-in ended earlier (before a reload, say): nothing can be sent until the
        // officer signs in again, and Sync now must say so.
        state.authNeeded = true;
        state.error = 'auth';
        return;
      }
      if (allowed !== 'yes') return;
      if (!navigator.onLine) {
        state.error = 'offline';
        return;
      }
      await pushAll();
      const pulled = await pull();
      // An activity at a school the phone does not list: its list is out of date, refresh now.
      await refreshReferenceData({ force: pulled.unknownSchools.length > 0 });
      state.failures = 0;
      state.nextAt = 0;
      state.error = null;
      state.authNeeded = false;
      await setMeta('last_sync_at', new Date().toISOString());
    } catch (error) {
      if (error instanceof AuthRequired) {
        state.authNeeded = true;
        state.error = 'auth';
        emit('auth-required');
      } else {
        state.error = error instanceof NetworkError ? 'network' : error.message;
        scheduleBackoff();
      }
    } finally {
      state.running = null;
      emit('changed');
      if (state.again) {
        state.again = false;
        queueMicrotask(() => syncNow());
      }
    }
  })();
  return state.running;
}

export function syncState() {
  return { ...state, running: Boolean(state.running) };
}

function afterChange() {
  emit('changed');
  requestBackgroundSync();
  syncNow({ force: true });
}

async function requestBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker?.ready;
    await registration?.sync?.register('sro-outbox');
  } catch {
    // Background Sync is a bonus (Chromium only); the timer and events cover the rest.
  }
}

/** Start the push triggers: now, online, visible, a timer, and worker messages. */
export function startSync() {
  if (timer) return;
  window.addEventListener('online', () => syncNow({ force: true }));
  window.addEventListener('offline', () => emit('changed'));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') syncNow();
  });
  navigator.serviceWorker?.addEventListener('message', (event) => {
    if (event.data?.type === 'sync') syncNow({ force: true });
  });
  timer = setInterval(() => syncNow(), TIMER_MS);
  syncNow({ force: true });
}

export function resetSyncState() {
  state.failures = 0;
  state.nextAt = 0;
  state.error = null;
  state.authNeeded = false;
}
