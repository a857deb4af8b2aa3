/* The service worker: precaches the app shell and pushes the outbox by Background Sync.
   A classic worker. Flask renders this file: it fills in the shell's version (a hash of
   every file in pwa/) and the list to precache, so each deploy changes these bytes. */
'use strict';

const VERSION = "__SHELL_VERSION__";
const PRECACHE = "__PRECACHE__";
const CACHE = 'sro-shell-' + VERSION;
const DB_NAME = 'sro-activity-log';

importScripts('/js/outbox-rules.js');

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith('sro-shell-') && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate') {
    if (url.pathname !== '/' && url.pathname !== '/index.html') return;
    event.respondWith(fromCache('/', request));
    return;
  }
  if (PRECACHE.includes(url.pathname)) event.respondWith(fromCache(url.pathname, request));
});

/** The shell is served from the cache (offline first); the network only fills a gap. */
async function fromCache(key, request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(key);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) cache.put(key, response.clone());
  return response;
}

self.addEventListener('sync', (event) => {
  if (event.tag === 'sro-outbox') event.waitUntil(backgroundSync());
});

/** With a window open, it syncs (it knows the session); otherwise push from here. */
async function backgroundSync() {
  const windows = await self.clients.matchAll({ type: 'window' });
  if (windows.length) {
    windows.forEach((client) => client.postMessage({ type: 'sync' }));
    return;
  }
  await pushFromWorker();
}

function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

function openDb() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME);
    open.onupgradeneeded = () => open.transaction.abort();
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

async function pushFromWorker() {
  const database = await openDb();
  try {
    let tx = database.transaction(['meta', 'outbox', 'activities'], 'readwrite');
    const session = (await req(tx.objectStore('meta').get('session')))?.value;
    const device = (await req(tx.objectStore('meta').get('device_id')))?.value;
    const entries = await req(tx.objectStore('outbox').getAll());
    const batch = self.OutboxRules.pickBatch(entries, 100);
    if (!session?.access_token || session.user?.role !== 'officer' || !device || !batch.length) return;
    const mutations = [];
    for (const entry of batch) {
      if (!entry.sent) tx.objectStore('outbox').put(Object.assign({}, entry, { sent: true }));
      mutations.push(self.OutboxRules.mutationFor(entry));
    }
    await done(tx);
    // A push that never gets an answer is given up (the page's sync retries it).
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 60000);
    const response = await fetch('/api/v1/sync/push', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'Bearer ' + session.access_token },
      body: JSON.stringify({ device_id: device, mutations }),
      signal: controller.signal,
    });
    // 401 waits for the page (it refreshes or asks to sign in); others retry later.
    if (response.status === 401) return;
    if (!response.ok) throw new Error('push failed: ' + response.status);
    const body = await response.json();
    tx = database.transaction(['outbox', 'activities'], 'readwrite');
    const outbox = tx.objectStore('outbox');
    const activities = tx.objectStore('activities');
    const bySeq = new Map(batch.map((entry) => [entry.mutation_id, entry.seq]));
    for (const result of body.results || []) {
      const seq = bySeq.get(result.mutation_id);
      const entry = seq == null ? null : await req(outbox.get(seq));
      if (!entry) continue;
      const keys = await req(outbox.index('activity_id').getAllKeys(entry.activity_id));
      const record = await req(activities.get(entry.activity_id));
      const outcome = self.OutboxRules.settle(entry, result, record, keys.some((k) => k !== seq));
      if (outcome.entry === null) outbox.delete(seq);
      else if (outcome.entry !== entry) outbox.put(outcome.entry);
      if (outcome.record === null) activities.delete(entry.activity_id);
      else if (outcome.record) activities.put(outcome.record);
      if (outcome.rebase != null) {
        for (const key of keys.filter((k) => k !== seq)) {
          const later = await req(outbox.get(key));
          const moved = later && self.OutboxRules.rebased(later, outcome.rebase);
          if (moved && moved !== later) outbox.put(moved);
        }
      }
    }
    await done(tx);
  } finally {
    database.close();
  }
}
