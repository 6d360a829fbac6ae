// cluster.js: the cluster: its nodes (live or gone, version, heartbeat age,
// addresses), the partitions coloured by owner, and each node's recent rates
// (episodes, activities and entity operations per second, commit latency),
// which every node publishes with its heartbeat. Refreshes every 5 s.

import * as api from './api.js';
import { h, svg, colourFor, duration, time } from './dom.js';

const REFRESH_MS = 5000;

const SERIES = [
  { field: 'episodes', label: 'episodes/s' },
  { field: 'activities', label: 'activities/s' },
  { field: 'entityOperations', label: 'entity ops/s' },
  { field: 'commitLatencyMs', label: 'commit latency', unit: ' ms' },
];

function swatch(id) {
  const s = h('span', { class: 'swatch' });
  s.style.backgroundColor = colourFor(id);
  return s;
}

function nodeRow(n) {
  const http = n.httpAddress ? h('a', { href: `http://${n.httpAddress}/dashboard/`, rel: 'noreferrer' }, n.httpAddress) : '';
  return h('tr', { dataset: { node: n.id }, class: n.live ? 'live' : 'gone' },
    h('td', { class: 'mono' }, swatch(n.id), n.id),
    h('td', {}, h('span', { class: ['node-state', n.live ? 'live' : 'gone'] }, n.live ? 'live' : 'gone')),
    h('td', { class: 'mono' }, (n.code && n.code.version) || '—'),
    h('td', { class: 'num' }, Number.isFinite(n.lastHeartbeatMs) ? duration(n.lastHeartbeatMs) : ''),
    h('td', { class: 'mono' }, http),
    h('td', { class: 'mono' }, n.grpc || ''),
    h('td', { class: 'mono' }, n.clusterAddress || ''),
    h('td', { class: 'num' }, String((n.partitions || []).length)));
}

// Partition -> owner: the API's "owners" when it gives them, else from the
// nodes' partitions (a live node's claim winning over a gone node's stale one).
function owners(nodes, count, given) {
  if (Array.isArray(given) && given.length === count) return given.map((o) => o || '');
  const owner = new Array(count).fill('');
  for (const n of [...nodes].sort((a, b) => Number(a.live) - Number(b.live))) {
    for (const p of n.partitions || []) if (p >= 0 && p < count) owner[p] = n.id;
  }
  return owner;
}

function partitionGrid(nodes, count, unowned, given) {
  const free = new Set(unowned || []);
  const owner = owners(nodes, count, given);
  const cells = owner.map((id, p) => {
    const o = free.has(p) ? '' : id;
    const cell = h('div', {
      class: ['partition', !o && 'unowned'], dataset: { partition: p, owner: o },
      title: `partition ${p}: ${o || 'no owner'}`,
    }, String(p));
    if (o) cell.style.backgroundColor = colourFor(o);
    return cell;
  });
  return h('div', { id: 'partitions', class: 'partitions' }, cells);
}

// One panel of a chart: a line over the values (null: a gap), its label and
// the newest value.
function panel(x, width, height, series, values) {
  const numbers = values.filter((v) => Number.isFinite(v));
  const max = Math.max(1e-9, ...numbers);
  const top = 22;
  const plot = height - top - 4;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  let d = '';
  let pen = false;
  const dots = [];  // points with no neighbour to draw a line to
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      pen = false;
      return;
    }
    const px = (x + i * step).toFixed(1);
    const py = (top + plot - (v / max) * plot).toFixed(1);
    d += `${pen ? 'L' : 'M'}${px} ${py} `;
    if (!pen && !Number.isFinite(values[i + 1])) dots.push(svg('circle', { cx: px, cy: py, r: 2.5, class: `dot ${series.field}` }));
    pen = true;
  });
  const newest = [...values].reverse().find((v) => Number.isFinite(v));
  const shown = newest === undefined ? '—' : `${newest < 10 ? newest.toFixed(1) : Math.round(newest)}${series.unit || ''}`;
  return [
    svg('rect', { x, y: top, width, height: plot, class: 'plot' }),
    svg('text', { x, y: 14, class: 'label' }, series.label,
      svg('tspan', { class: 'max', dx: 8 }, numbers.length ? `max ${max < 10 ? max.toFixed(1) : Math.round(max)}` : '')),
    svg('text', { x: x + width, y: 14, class: 'value', 'text-anchor': 'end' }, shown),
    d ? svg('path', { d: d.trim(), class: `line ${series.field}` }) : null,
    dots,
  ];
}

function rateChart(n) {
  const r = n.rates;
  const points = Math.max(0, ...SERIES.map((s) => (Array.isArray(r[s.field]) ? r[s.field].length : 0)));
  const width = 1000;
  const height = 90;
  const gap = 20;
  const w = (width - gap * (SERIES.length - 1)) / SERIES.length;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'rates', role: 'img', 'aria-label': `rates of ${n.id}` },
    SERIES.map((s, i) => panel(i * (w + gap), w, height, s, Array.isArray(r[s.field]) ? r[s.field] : [])));
  const span = points * (Number(r.intervalSeconds) || 0);
  return h('div', { class: 'rate-chart', dataset: { node: n.id } },
    h('h3', {}, swatch(n.id), n.id, ' ',
      h('span', { class: 'subtle' }, points
        ? `last ${duration(span * 1000)} in ${r.intervalSeconds} s steps, until ${time(r.until)}`
        : 'no interval sampled yet')),
    chart);
}

export async function mount(ctx) {
  const summary = h('p', { class: 'note' });
  const nodesBody = h('tbody');
  const grid = h('div');
  const legend = h('div', { class: 'legend' });
  const rates = h('div', { id: 'rates', class: 'rate-list' });
  ctx.main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Cluster'), summary),
    h('section', {}, h('h2', {}, 'Nodes'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'nodes', class: 'data' },
        h('thead', {}, h('tr', {}, ['Node', 'State', 'Version', 'Heartbeat age', 'HTTP', 'gRPC', 'Peer address', 'Partitions']
          .map((c) => h('th', {}, c)))),
        nodesBody))),
    h('section', {}, h('h2', {}, 'Partitions'), legend, grid),
    h('section', {}, h('h2', {}, 'Rates'), rates));

  const load = async () => {
    ctx.loading();
    const { data } = await api.get('/cluster');
    if (!ctx.alive()) return;
    const nodes = Array.isArray(data.nodes) ? data.nodes : [];
    const count = Number(data.partitions) || 0;
    const live = nodes.filter((n) => n.live).length;
    summary.textContent = `${live} live of ${nodes.length} nodes · ${count} partitions · `
      + `${(data.unowned || []).length} without an owner · refreshed every ${REFRESH_MS / 1000} s`;
    nodesBody.replaceChildren(...nodes.map(nodeRow));
    legend.replaceChildren(...nodes.filter((n) => (n.partitions || []).length).map((n) =>
      h('span', { class: 'legend-item' }, swatch(n.id), `${n.id} (${n.partitions.length})`)));
    grid.replaceChildren(partitionGrid(nodes, count, data.unowned, data.owners));
    const charted = nodes.filter((n) => n.rates && typeof n.rates === 'object');
    rates.replaceChildren(...charted.map(rateChart));
    if (!charted.length) rates.append(h('p', { class: 'note' }, 'No node publishes its rates.'));
    ctx.ready();
  };
  ctx.every(REFRESH_MS, load);
  await load();
}
