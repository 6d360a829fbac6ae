// dom.js: building elements safely, showing JSON, formatting times.
// Text only ever goes in as text (text nodes, textContent, attribute values
// through setAttribute); nothing here parses HTML, so user data (ids, names,
// inputs, states) cannot become markup or script.

const SVG_NS = 'http://www.w3.org/2000/svg';

function fill(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') {
      if (!name.startsWith('on')) throw new Error(`h(): a function for '${name}' (only on<event>)`);
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name.startsWith('on')) {
      throw new Error(`h(): '${name}' must be a function, not text`);
    } else if (name === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : String(value));
    } else if (name === 'dataset') {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    } else if (name === 'value' || name === 'checked' || name === 'disabled' || name === 'selected'
               || name === 'hidden' || name === 'multiple') {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

/** An HTML element: h('a', {href: '#/x', class: 'mono'}, 'text', child, ...). */
export function h(tag, attrs, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element (createElementNS). */
export function svg(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** A link to a page of the dashboard: `parts` encoded into the hash. */
export function link(parts, text, attrs = {}) {
  return h('a', { ...attrs, href: route(parts) }, text);
}

/** "#/instance/<id>" from ['instance', id]: each part percent-encoded. */
export function route(parts, query) {
  const hash = '#/' + parts.map((p, i) => (i === 0 ? p : encodeURIComponent(String(p)))).join('/');
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v)).toString() : '';
  return q ? hash + '?' + q : hash;
}

/** JSON text, two-space indented; "null" for nothing. */
export function pretty(value) {
  return value === undefined ? 'null' : JSON.stringify(value, null, 2);
}

/** A <pre class="json"> holding `value` as indented JSON text. */
export function jsonView(value, attrs = {}) {
  return h('pre', { ...attrs, class: ['json', attrs.class] }, pretty(value));
}

/** One line of JSON, cut to `max` characters (for table cells). */
export function jsonLine(value, max = 120) {
  const text = value === undefined ? '' : JSON.stringify(value);
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** "2026-12-06 05:58:48" in local time from an ISO time; "" for none. */
export function time(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} `
    + `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "850 ms", "4.2 s", "3 min 20 s", "2 h 5 min", "3 d 4 h". */
export function duration(ms) {
  if (!Number.isFinite(ms)) return '';
  if (ms < 0) ms = 0;
  if (ms < 10) return `${Number.isInteger(ms) ? ms : ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** The value of an <input type="datetime-local"> for an ISO time. */
export function toLocalInput(iso) {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An ISO time (UTC) from an <input type="datetime-local">'s value; '' for none. */
export function fromLocalInput(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** A colour of its own for a node id: a hash of it (FNV-1a, then mixed) picks the hue and lightness. */
export function colourFor(id) {
  if (!id) return '';
  let x = 2166136261;
  for (let i = 0; i < id.length; i++) x = Math.imul(x ^ id.charCodeAt(i), 16777619) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return `hsl(${x % 360} 60% ${56 + ((x >>> 9) % 3) * 8}%)`;
}

/** A status badge: <span class="status" data-status="Running">Running</span>. */
export function statusBadge(status, attrs = {}) {
  return h('span', { ...attrs, class: ['status', attrs.class], dataset: { status } }, status);
}

export const TERMINAL = new Set(['Completed', 'Failed', 'Terminated']);
export const STATUSES = ['Pending', 'Running', 'Suspended', 'Completed', 'Failed', 'Terminated', 'ContinuedAsNew'];
