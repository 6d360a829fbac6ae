// api.js: the node's HTTP API (/runtime/webhooks/durabletask) from the page.
// The key the user gave is kept in this tab's sessionStorage and sent as
// "Authorization: Bearer <key>" (never in a URL, never in a cookie). A 401
// calls the handler main.js sets (it shows the key form); any other failure
// rejects with an ApiError carrying the API's {"error": ...} message.

const KEY_ITEM = 'durable.key';
// Relative to the page (/dashboard/), so a node behind a path prefix works.
const BASE = new URL('../runtime/webhooks/durabletask', document.baseURI).pathname;

export const CONTINUATION = 'x-ms-continuation-token';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

let unauthorized = () => {};

/** Sets what runs when the API answers 401 (the key is missing or wrong). */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

export function key() {
  return sessionStorage.getItem(KEY_ITEM) || '';
}

export function setKey(value) {
  if (value) sessionStorage.setItem(KEY_ITEM, value);
  else sessionStorage.removeItem(KEY_ITEM);
}

/** A path under the API's base from segments, each percent-encoded. */
export function path(...segments) {
  return '/' + segments.map((s) => encodeURIComponent(String(s))).join('/');
}

/**
 * Calls the API: `route` from path(), `query` an object (empty and undefined
 * values left out), `body` sent as JSON text (a string is sent as it is),
 * `headers` extra request headers. Resolves to {status, data, headers}
 * (data: the parsed JSON, null for an empty body) for 2xx; rejects with an
 * ApiError otherwise (and for a network failure, status 0).
 */
export async function call(method, route, { query = {}, body, headers = {} } = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.append(name, String(value));
  }
  const q = params.toString();
  const url = BASE + route + (q ? '?' + q : '');
  const sent = { ...headers };
  if (key()) sent.Authorization = 'Bearer ' + key();
  const init = { method, headers: sent, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    sent['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, `the node did not answer (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  if (text && (res.headers.get('Content-Type') || '').includes('json')) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError(res.status, `the node answered ${res.status} with JSON that does not parse`);
    }
  } else if (text) {
    data = text;
  }
  if (res.ok) return { status: res.status, data, headers: res.headers };
  const message = data && typeof data === 'object' && typeof data.error === 'string'
    ? data.error : `${method} ${route}: HTTP ${res.status}`;
  if (res.status === 401) unauthorized(message);
  throw new ApiError(res.status, message);
}

export const get = (route, options) => call('GET', route, options);
export const post = (route, options) => call('POST', route, options);
export const del = (route, options) => call('DELETE', route, options);
