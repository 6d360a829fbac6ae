// entities.js: the entities: a list by name prefix with paging, and an
// entity's page (its state, its lock holder, a form to signal it).

import * as api from './api.js';
import { pager } from './pager.js';
import { h, link, route, jsonView, jsonLine, time } from './dom.js';

const PAGE_SIZE = 50;
// After a signal, the state is read again this long after (the entity's node applies it).
const REREAD_AFTER_SIGNAL_MS = [1000, 3000];

function entityId(e) {
  return `@${e.entityId.name}@${e.entityId.key}`;
}

export async function mountList(ctx) {
  const prefix = ctx.params.get('prefix') || '';
  const paging = pager(() => load(), (e) => ctx.error(e));
  const input = h('input', { id: 'entity-prefix', type: 'search', value: prefix, placeholder: 'name prefix (counter, counter@c1)', spellcheck: 'false' });
  const search = (e) => {
    e.preventDefault();
    const next = route(['entities'], { prefix: input.value.trim() });
    if (location.hash === next) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = next;
  };
  const tbody = h('tbody');
  ctx.main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Entities')),
    h('form', { class: 'filters', onsubmit: search },
      h('label', {}, 'Name prefix', input),
      h('button', { id: 'entity-search', type: 'submit', class: 'primary' }, 'Search')),
    h('div', { class: 'table-wrap' },
      h('table', { id: 'entities', class: 'data' },
        h('thead', {}, h('tr', {}, ['Name', 'Key', 'Last operation', 'Locked by', 'State'].map((c) => h('th', {}, c)))),
        tbody)),
    paging.element);

  const load = async () => {
    ctx.loading();
    const res = await api.get(prefix ? api.path('entities', prefix) : '/entities', {
      query: { fetchState: 'true', top: PAGE_SIZE },
      headers: paging.headers(),
    });
    if (!ctx.alive()) return;
    const list = Array.isArray(res.data) ? res.data : [];
    paging.update(res);
    tbody.replaceChildren(...list.map((e) => h('tr', { dataset: { entity: entityId(e) } },
      h('td', {}, e.entityId.name),
      h('td', { class: 'mono' }, link(['entity', e.entityId.name, e.entityId.key], e.entityId.key)),
      h('td', { class: 'time' }, time(e.lastOperationTime)),
      h('td', { class: 'mono' }, e.lockedBy ? link(['instance', e.lockedBy], e.lockedBy) : ''),
      h('td', { class: 'mono clip' }, jsonLine(e.state, 80)))));
    if (!list.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: 5 }, 'No entity with state matches.')));
    ctx.ready();
  };
  await load();
}

// The listing's entry for exactly this entity: the list by "name@key" is
// ordered by id, so the entity itself (when it has storage) comes first.
async function findEntity(name, key) {
  const res = await api.get(api.path('entities', `${name}@${key}`), {
    query: { fetchState: 'true', includeDeleted: 'true', top: 1 },
  });
  const first = Array.isArray(res.data) ? res.data[0] : undefined;
  const same = first && first.entityId.name.toLowerCase() === name.toLowerCase() && first.entityId.key === key;
  return same ? first : null;
}

export async function mountEntity(ctx) {
  const [name = '', key = ''] = ctx.parts;
  const stateBox = h('div');
  const lock = h('span', { id: 'entity-lock', class: 'mono' });
  const last = h('span');
  const read = h('span', { class: 'updated' });
  const refresh = h('button', { id: 'entity-refresh', type: 'button' }, 'Refresh');
  const op = h('input', { id: 'signal-op', type: 'text', placeholder: 'operation (add)', spellcheck: 'false', required: true });
  const input = h('textarea', { id: 'signal-input', rows: 3, spellcheck: 'false', placeholder: 'input as JSON (empty: none)' });
  const result = h('p', { id: 'signal-result', class: 'action-result', role: 'status' });
  const send = async (e) => {
    e.preventDefault();
    const operation = op.value.trim();
    const text = input.value.trim();
    delete result.dataset.ok;
    if (!operation) {
      result.dataset.ok = 'false';
      result.textContent = 'Give the operation to signal.';
      return;
    }
    if (text) {
      try {
        JSON.parse(text);
      } catch (err) {
        result.dataset.ok = 'false';
        result.textContent = `The input is not JSON: ${err.message}`;
        return;
      }
    }
    try {
      const res = await api.post(api.path('entities', name, key), { query: { op: operation }, body: text || '' });
      result.dataset.ok = 'true';
      result.textContent = `Signalled '${operation}' (${res.status}), request ${res.data && res.data.requestId}.`;
      for (const ms of REREAD_AFTER_SIGNAL_MS) ctx.after(ms, load);
    } catch (err) {
      result.dataset.ok = 'false';
      result.textContent = `The signal failed (${err.status || 'no answer'}): ${err.message}`;
    }
  };
  ctx.main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/entities' }, 'Entities'), ' / ',
      h('a', { href: route(['entities'], { prefix: name }) }, name), ' / ',
      h('span', { class: 'mono' }, key)),
    h('div', { class: 'page-head' }, h('h1', {}, name, ' ', h('span', { class: 'mono subtle' }, key)), refresh, read),
    h('dl', { class: 'fields' },
      h('dt', {}, 'Locked by'), h('dd', {}, lock),
      h('dt', {}, 'Last operation'), h('dd', {}, last)),
    h('section', {}, h('h2', {}, 'State'), stateBox),
    h('section', {}, h('h2', {}, 'Signal'),
      h('form', { class: 'signal', onsubmit: send },
        h('label', {}, 'Operation', op),
        h('label', {}, 'Input', input),
        h('button', { id: 'signal-send', type: 'submit', class: 'primary' }, 'Signal')),
      result));

  const load = async () => {
    ctx.loading();
    const entity = await findEntity(name, key);
    if (!ctx.alive()) return;
    const holder = entity && entity.lockedBy;
    lock.replaceChildren(holder ? link(['instance', holder], holder) : 'none');
    last.textContent = entity ? time(entity.lastOperationTime) : '';
    const hasState = Boolean(entity) && entity.state !== null && entity.state !== undefined;
    stateBox.replaceChildren(hasState
      ? jsonView(entity.state, { id: 'entity-state' })
      : h('pre', { id: 'entity-state', class: 'json empty' }, 'null'));
    if (!hasState) stateBox.append(h('p', { class: 'note' }, 'No state: never set, or deleted.'));
    read.textContent = `read ${time(new Date().toISOString()).slice(11)}`;
    ctx.ready();
  };
  refresh.addEventListener('click', () => load().catch((e) => ctx.error(e)));
  await load();
}
