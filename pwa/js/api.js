// The API client: bearer tokens, one refresh at a time (refresh tokens work once), one error shape.
import { getMeta, setMeta } from './db.js';

const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error ?? {};
    super(error.message || `The server answered ${status}.`);
    this.status = status;
    this.code = error.code || 'http_error';
    this.details = error.details || {};
  }
}

/** No usable session: the officer must sign in again (the outbox stays). */
export class AuthRequired extends Error {
  constructor() {
    super('Sign in again to sync.');
    this.status = 401;
  }
}

/**
 * The sign-in has ended: the app is told (it shows "Sign in again", whatever the view and
 * role), and the caller gets the error to stop on.
 */
function sessionEnded() {
  globalThis.dispatchEvent?.(new CustomEvent('sro:auth-required'));
  return new AuthRequired();
}

/** The network could not be reached. */
export class NetworkError extends Error {}

/** How long a request may take before it counts as a network failure (ms). */
export const REQUEST_TIMEOUT_MS = 30_000;

function timeoutFor(requested) {
  // A test (or a very slow network's support call) may set a shorter or longer limit.
  const override = Number(globalThis.localStorage?.getItem('sro-request-timeout-ms'));
  return override > 0 ? override : requested || REQUEST_TIMEOUT_MS;
}

async function send(method, path, { body, token, accept, timeout, keepalive = false, cookies = false } = {}) {
  const headers = { Accept: accept || 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  // A request that never gets an answer must not hold up every later sync. The timer runs
  // on while the body is read, so a body that stalls is cut off too.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutFor(timeout));
  try {
    return await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      // Tokens travel in headers; the one cookie is the provider sign-in's tie to this browser.
      credentials: cookies ? 'same-origin' : 'omit',
      keepalive, // a sign-out outlives the page that sent it
      signal: controller.signal,
    });
  } catch {
    clearTimeout(timer);
    throw new NetworkError(
      controller.signal.aborted ? 'The server did not answer in time.' : 'No connection to the server.',
    );
  }
}

async function parse(response, raw) {
  if (response.ok) {
    if (raw) return response;
    if (response.status === 204) return null;
    return response.json();
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  throw new ApiError(response.status, body);
}

export async function session() {
  return getMeta('session');
}

/** Exchange the refresh token; serialised across tabs so a rotated token is never reused. */
async function refresh(staleAccess) {
  const run = async () => {
    const current = await getMeta('session');
    if (!current) return null;
    if (current.access_token && current.access_token !== staleAccess) return current;
    if (!current.refresh_token) return null;
    const response = await send('POST', '/auth/refresh', { token: current.refresh_token });
    if (response.status === 401) {
      await setMeta('session', { ...current, access_token: null, refresh_token: null, expired: true });
      return null;
    }
    const tokens = await parse(response);
    const next = {
      ...current,
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      user: tokens.user ?? current.user,
      expired: false,
    };
    await setMeta('session', next);
    return next;
  };
  return navigator.locks ? navigator.locks.request('sro-token-refresh', run) : run();
}

/** Call the API as the signed-in user; one refresh and retry on 401. */
export async function request(method, path, options = {}) {
  const current = await getMeta('session');
  if (!current?.access_token) throw sessionEnded();
  let response = await send(method, path, { ...options, token: current.access_token });
  if (response.status === 401) {
    const renewed = await refresh(current.access_token);
    if (!renewed) throw sessionEnded();
    response = await send(method, path, { ...options, token: renewed.access_token });
    if (response.status === 401) {
      await setMeta('session', { ...renewed, access_token: null, refresh_token: null, expired: true });
      throw sessionEnded();
    }
  }
  return parse(response, options.raw);
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, body, options) => request('POST', path, { ...options, body });
export const patch = (path, body, options) => request('PATCH', path, { ...options, body });

/** Every item of a paginated list (bounded, so a huge list cannot hang a phone). */
export async function getAll(path, maxPages = 20) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const joiner = path.includes('?') ? '&' : '?';
    const url = `${path}${joiner}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const body = await get(url);
    items.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return items;
}

export async function login(email, password) {
  const response = await send('POST', '/auth/login', { body: { email, password } });
  return parse(response);
}

/** Trade a one-time grant from a provider sign-in for the usual token pair. */
export async function exchangeGrant(grant) {
  const response = await send('POST', '/auth/oidc/exchange', { body: { grant }, cookies: true });
  return parse(response);
}

/** The identity providers to offer on the sign-in page: [{name, label, start_url}]. */
export async function providers() {
  return parse(await send('GET', '/auth/providers'));
}

/** End a sign-in on the server (its tokens from `session`); offline, nothing to do. */
export async function logout(session) {
  const token = session?.refresh_token || session?.access_token;
  if (!token) return;
  try {
    await send('POST', '/auth/logout', { token, keepalive: true });
  } catch {
    // Offline: the tokens are forgotten on this phone anyway.
  }
}
