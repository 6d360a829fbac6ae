// instances.js: the instances page: a table with filters, paging through the
// API's continuation tokens, counts per status, auto-refresh.
//
// The filters live in the hash (#/instances?status=A,B&name=&id=&from=&to=),
// so a filtered view can be bookmarked. Status, id prefix and the created
// range go to the API; the name does not (GET /instances has no name
// filter): rows are matched on their name here, page by page, and the page
// says so.

import * as api from './api.js';
import { pager } from './pager.js';
import { h, link, route, statusBadge, time, toLocalInput, fromLocalInput, STATUSES } from './dom.js';

const PAGE_SIZE = 50;
const PAGE_SIZE_BY_NAME = 500;  // a name filter keeps fewer rows: read more at once
const REFRESH_MS = 5000;
let autoRefresh = true;  // kept while the tab lives

function filtersFrom(params) {
  return {
    status: params.get('status') || '',
    name: params.get('name') || '',
    id: params.get('id') || '',
    from: params.get('from') || '',
    to: params.get('to') || '',
  };
}

function statusSelect(value) {
  const options = [h('option', { value: '' }, 'any status')];
  for (const s of STATUSES) options.push(h('option', { value: s }, s));
  if (value && !STATUSES.includes(value)) options.push(h('option', { value }, value.split(',').join(', ')));
  const select = h('select', { id: 'filter-status' }, options);
  select.value = value;
  return select;
}

function filterForm(filters) {
  const status = statusSelect(filters.status);
  const name = h('input', { id: 'filter-name', type: 'search', value: filters.name, placeholder: 'orchestrator name', spellcheck: 'false' });
  const id = h('input', { id: 'filter-id', type: 'search', value: filters.id, placeholder: 'id prefix', spellcheck: 'false' });
  const from = h('input', { id: 'filter-from', type: 'datetime-local', value: toLocalInput(filters.from) });
  const to = h('input', { id: 'filter-to', type: 'datetime-local', value: toLocalInput(filters.to) });
  const apply = (e) => {
    e.preventDefault();
    const next = route(['instances'], {
      status: status.value, name: name.value.trim(), id: id.value.trim(),
      from: fromLocalInput(from.value), to: fromLocalInput(to.value),
    });
    if (location.hash === next) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = next;
  };
  return h('form', { class: 'filters', onsubmit: apply },
    h('label', {}, 'Status', status),
    h('label', {}, 'Name', name),
    h('label', {}, 'Id prefix', id),
    h('label', {}, 'Created from', from),
    h('label', {}, 'to', to),
    h('button', { id: 'apply-filters', type: 'submit', class: 'primary' }, 'Apply'),
    h('a', { href: '#/instances', class: 'clear' }, 'Clear'));
}

function row(inst) {
  return h('tr', { dataset: { id: inst.instanceId } },
    h('td', {}, statusBadge(inst.runtimeStatus)),
    h('td', {}, inst.name),
    h('td', { class: 'mono' }, link(['instance', inst.instanceId], inst.instanceId)),
    h('td', { class: 'mono' }, inst.version || ''),
    h('td', { class: 'time' }, time(inst.createdTime)),
    h('td', { class: 'time' }, time(inst.lastUpdatedTime)));
}

// The counts (GET /instanceCounts, over the created range), each a link
// that filters by its status; hidden when the node has no such route.
async function renderCounts(box, filters) {
  let counts;
  try {
    ({ data: counts } = await api.get('/instanceCounts', {
      query: { createdTimeFrom: filters.from, createdTimeTo: filters.to },
    }));
  } catch {
    box.hidden = true;  // 404: a node without the route; otherwise the list says what is wrong
    return;
  }
  if (!counts || typeof counts !== 'object') return;
  const names = [...STATUSES.filter((s) => s in counts), ...Object.keys(counts).filter((s) => !STATUSES.includes(s))];
  const total = names.reduce((sum, s) => sum + (Number(counts[s]) || 0), 0);
  const chosen = new Set(filters.status.split(',').filter(Boolean));
  box.hidden = false;
  box.replaceChildren(
    h('span', { class: 'total' }, 'All ', h('strong', {}, total.toLocaleString())),
    ...names.map((s) => h('a', {
      class: ['status-count', chosen.has(s) && 'chosen'],
      dataset: { status: s },
      href: route(['instances'], { ...filters, status: s }),
    }, h('span', { class: 'dot' }), s, ' ', h('span', { class: 'count' }, Number(counts[s]).toLocaleString()))));
}

export async function mount(ctx) {
  const filters = filtersFrom(ctx.params);
  const paging = pager(() => load(), (e) => ctx.error(e));
  const counts = h('div', { id: 'status-counts', class: 'status-counts', hidden: true });
  const tbody = h('tbody');
  const note = h('p', { class: 'note' });
  const refresh = h('input', { id: 'auto-refresh', type: 'checkbox', checked: autoRefresh });
  const updated = h('span', { class: 'updated' });
  refresh.addEventListener('change', () => {
    autoRefresh = refresh.checked;
  });

  ctx.main.append(
    h('div', { class: 'page-head' },
      h('h1', {}, 'Instances'),
      h('label', { class: 'check' }, refresh, 'auto-refresh every 5 s'),
      updated),
    counts,
    filterForm(filters),
    h('div', { class: 'table-wrap' },
      h('table', { id: 'instances', class: 'data' },
        h('thead', {}, h('tr', {},
          ['Status', 'Name', 'Instance id', 'Version', 'Created', 'Updated'].map((c) => h('th', {}, c)))),
        tbody)),
    note,
    paging.element);

  let latest = 0;  // a slower earlier load must not overwrite a later one
  const load = async () => {
    const mine = ++latest;
    ctx.loading();
    const byName = filters.name.toLowerCase();
    const res = await api.get('/instances', {
      query: {
        runtimeStatus: filters.status, instanceIdPrefix: filters.id,
        createdTimeFrom: filters.from, createdTimeTo: filters.to,
        top: byName ? PAGE_SIZE_BY_NAME : PAGE_SIZE,
        newestFirst: 'true',  // by created time; an id prefix lists by id
      },
      headers: paging.headers(),
    });
    if (!ctx.alive() || mine !== latest) return;
    const all = Array.isArray(res.data) ? res.data : [];
    const shown = byName ? all.filter((i) => String(i.name).toLowerCase().includes(byName)) : all;
    paging.update(res);
    tbody.replaceChildren(...shown.map(row));
    if (!shown.length) {
      tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: 6 }, 'No instances match.')));
    }
    note.textContent = byName
      ? `Name filtered in the browser: ${shown.length} of the ${all.length} instances on this page match '${filters.name}'.`
      : '';
    await renderCounts(counts, filters);
    if (!ctx.alive() || mine !== latest) return;
    updated.textContent = `updated ${time(new Date().toISOString()).slice(11)}`;
    ctx.ready();
  };

  ctx.every(REFRESH_MS, async () => {
    if (autoRefresh) await load();
  });
  await load();
}
