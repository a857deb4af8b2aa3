/* The service worker: precaches the app shell, and passes Background Sync on to the page.
   A classic worker. Flask renders this file: it fills in the shell's version (a hash of
   every file in pwa/) and the list to precache, so each deploy changes these bytes. */
'use strict';

const VERSION = "__SHELL_VERSION__";
const PRECACHE = "__PRECACHE__";
const CACHE = 'sro-shell-' + VERSION;

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

/* Background Sync (Chromium) wakes the worker once the phone is back online. The push itself
   is the page's one syncNow (js/sync.js): an open window is asked to run it. With no window
   open there is nothing to do here; the app pushes when it next starts. */
self.addEventListener('sync', (event) => {
  if (event.tag === 'sro-outbox') event.waitUntil(askWindowsToSync());
});

async function askWindowsToSync() {
  const windows = await self.clients.matchAll({ type: 'window' });
  windows.forEach((client) => client.postMessage({ type: 'sync' }));
}
