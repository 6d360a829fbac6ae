// instance.js: one instance: its fields as JSON, its history as a timeline
// and as raw events, links to its parent and children, and the actions
// (raise, terminate, suspend, resume, rewind, restart, purge), each asked
// first. It refreshes every 2 s while the instance has not finished.

import * as api from './api.js';
import { ask } from './confirm.js';
import { h, link, jsonView, jsonLine, pretty, statusBadge, time, duration, TERMINAL } from './dom.js';
import * as timeline from './timeline.js';

const REFRESH_MS = 2000;
// A longer history shows its first and last events this many each (the
// browser slows down past some thousands of rows); the timeline has its own cap.
const EVENTS_SHOWN_EACH_END = 1000;

// What each button does: the dialog's fields, when it is allowed, the call.
const ACTIONS = [
  { action: 'raise', label: 'Raise event', event: true, when: (s) => !TERMINAL.has(s),
    call: (id, a) => api.post(api.path('instances', id, 'raiseEvent', a.eventName), { body: JSON.stringify(a.eventData) }) },
  { action: 'terminate', label: 'Terminate', reason: true, flag: 'its sub-orchestrations too (recursive)', danger: true,
    when: (s) => !TERMINAL.has(s),
    call: (id, a) => api.post(api.path('instances', id, 'terminate'), { query: { reason: a.reason, recursive: a.flag ? 'true' : '' } }) },
  { action: 'suspend', label: 'Suspend', reason: true, when: (s) => s === 'Running' || s === 'Pending',
    call: (id, a) => api.post(api.path('instances', id, 'suspend'), { query: { reason: a.reason } }) },
  { action: 'resume', label: 'Resume', reason: true, when: (s) => s === 'Suspended',
    call: (id, a) => api.post(api.path('instances', id, 'resume'), { query: { reason: a.reason } }) },
  { action: 'rewind', label: 'Rewind', reason: true, when: (s) => s === 'Failed',
    call: (id, a) => api.post(api.path('instances', id, 'rewind'), { query: { reason: a.reason } }) },
  { action: 'restart', label: 'Restart', flag: 'under a new instance id', when: (s) => TERMINAL.has(s),
    call: (id, a) => api.post(api.path('instances', id, 'restart'), { query: { restartWithNewInstanceId: a.flag ? 'true' : '' } }) },
  { action: 'purge', label: 'Purge', flag: 'its sub-orchestrations too (recursive)', danger: true, when: (s) => TERMINAL.has(s),
    call: (id, a) => api.del(api.path('instances', id), { query: { recursive: a.flag ? 'true' : '' } }) },
];

function field(label, value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

// The event's details beside its type, name and ids: what it points at.
function details(e) {
  const parts = [];
  if (e.TaskScheduledId !== undefined) parts.push(`answers #${e.TaskScheduledId}`);
  if (e.InstanceId) parts.push(`${e.InstanceId.startsWith('@') ? 'entity' : 'instance'} ${e.InstanceId}`);
  if (e.LockSet) parts.push(`locks ${e.LockSet.join(', ')}`);
  if (e.ParentInstanceId) parts.push(`parent ${e.ParentInstanceId}`);
  if (e.FireAt) parts.push(`fires ${time(e.FireAt)}`);
  if (e.OrchestrationStatus) parts.push(e.OrchestrationStatus);
  if (e.Version) parts.push(`version ${e.Version}`);
  if (e.FailureDetails) parts.push(`failed: ${e.FailureDetails.ErrorType || ''} ${e.FailureDetails.ErrorMessage || ''}`.trim());
  return parts.join(' · ');
}

// The event's JSON, built when first expanded (a long history stays light).
function rawEvent(e, payload) {
  const details = h('details', {}, h('summary', { class: 'mono' }, payload === undefined ? 'raw' : jsonLine(payload, 60)));
  details.addEventListener('toggle', () => {
    if (details.open && details.children.length === 1) details.append(h('pre', { class: 'json' }, pretty(e)));
  });
  return details;
}

function historyTable(events) {
  const t0 = events.reduce((min, e) => Math.min(min, Date.parse(e.Timestamp) || Infinity), Infinity);
  const cut = events.length > 2 * EVENTS_SHOWN_EACH_END;
  const shown = cut ? [...events.slice(0, EVENTS_SHOWN_EACH_END), null, ...events.slice(-EVENTS_SHOWN_EACH_END)] : events;
  const rows = shown.map((e) => {
    if (!e) {
      return h('tr', { class: 'gap' }, h('td', { colspan: 7 },
        `… ${events.length - 2 * EVENTS_SHOWN_EACH_END} events between not shown (the first and last ${EVENTS_SHOWN_EACH_END} are) …`));
    }
    const payload = e.Result !== undefined ? e.Result : e.Input;
    return h('tr', { class: e.FailureDetails ? 'failed' : '' },
      h('td', { class: 'mono' }, e.EventType),
      h('td', { class: 'time' }, time(e.Timestamp)),
      h('td', { class: 'num' }, `+${duration(Date.parse(e.Timestamp) - t0)}`),
      h('td', { class: 'num' }, e.EventId !== undefined ? String(e.EventId) : ''),
      h('td', {}, e.Name || ''),
      h('td', {}, details(e)),
      h('td', {}, rawEvent(e, payload)));
  });
  return h('div', { class: 'table-wrap tall' },
    h('table', { id: 'history', class: 'data' },
      h('thead', {}, h('tr', {}, ['Event', 'Time', 'Offset', 'Id', 'Name', 'Details', 'Payload'].map((c) => h('th', {}, c)))),
      h('tbody', {}, rows)));
}

export async function mount(ctx) {
  const id = ctx.parts[0] || '';
  let status = '';
  let purged = false;
  const head = h('div', { class: 'page-head' });
  const summary = h('div', { class: 'summary' });
  const buttons = ACTIONS.map((a) => h('button', {
    type: 'button', class: a.danger ? 'danger' : '', dataset: { action: a.action }, disabled: true,
  }, a.label));
  const result = h('p', { id: 'action-result', class: 'action-result', role: 'status' });
  const values = h('div', { class: 'values' });
  const timelineBox = h('section', {}, h('h2', {}, 'Timeline'));
  const historyBox = h('section', {}, h('h2', {}, 'History'));
  ctx.main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/instances' }, 'Instances'), ' / ', h('span', { class: 'mono' }, id)),
    head, summary, h('div', { class: 'actions' }, buttons), result, values, timelineBox, historyBox);

  const load = async () => {
    ctx.loading();
    const { data } = await api.get(api.path('instances', id), {
      query: { showHistory: 'true', showHistoryOutput: 'true', showInput: 'true' },
    });
    if (!ctx.alive() || purged) return;
    status = data.runtimeStatus;
    const events = Array.isArray(data.historyEvents) ? data.historyEvents : [];
    const started = events.find((e) => e.EventType === 'ExecutionStarted');
    const children = events.filter((e) => e.EventType === 'SubOrchestrationInstanceCreated' && e.InstanceId);
    const failed = status === 'Failed';
    head.replaceChildren(
      h('h1', { id: 'instance-name' }, data.name),
      statusBadge(status, { id: 'instance-status', class: 'big' }));
    summary.replaceChildren(h('dl', { class: 'fields' },
      field('Instance id', h('span', { id: 'instance-id', class: 'mono' }, data.instanceId)),
      field('Version', h('span', { class: 'mono' }, data.version || '—')),
      field('Created', time(data.createdTime)),
      field('Last updated', `${time(data.lastUpdatedTime)}${TERMINAL.has(status) ? '' : ` (refreshing every ${REFRESH_MS / 1000} s)`}`),
      started && started.ParentInstanceId
        ? field('Parent', link(['instance', started.ParentInstanceId], started.ParentInstanceId, { class: 'parent-link mono' }))
        : null,
      children.length
        ? field(`Children (${children.length})`, h('span', { class: 'children' },
          children.map((c) => link(['instance', c.InstanceId], c.InstanceId, { class: 'child-link mono' }))))
        : null));
    values.replaceChildren(
      h('section', {}, h('h2', {}, 'Input'), jsonView(data.input, { id: 'instance-input' })),
      h('section', {}, h('h2', {}, 'Output'), jsonView(failed ? null : data.output, { id: 'instance-output' })),
      h('section', {}, h('h2', {}, 'Custom status'), jsonView(data.customStatus, { id: 'instance-custom-status' })),
      h('section', { class: failed ? 'failure' : '' }, h('h2', {}, 'Failure'),
        jsonView(failed ? data.output : null, { id: 'instance-failure' })));
    // A refresh keeps where the user was: scroll positions, expanded events.
    const kept = {
      timeline: timelineBox.querySelector('.timeline')?.scrollTop || 0,
      history: historyBox.querySelector('.table-wrap')?.scrollTop || 0,
      open: [...historyBox.querySelectorAll('details')].map((d) => d.open),
    };
    timelineBox.replaceChildren(h('h2', {}, 'Timeline'), timeline.render(timeline.bars(events, TERMINAL.has(status))));
    historyBox.replaceChildren(h('h2', {}, `History (${events.length} events)`), historyTable(events));
    historyBox.querySelectorAll('details').forEach((d, i) => { d.open = Boolean(kept.open[i]); });
    timelineBox.querySelector('.timeline').scrollTop = kept.timeline;
    historyBox.querySelector('.table-wrap').scrollTop = kept.history;
    buttons.forEach((b, i) => {
      b.disabled = !ACTIONS[i].when(status);
    });
    ctx.ready();
  };

  const act = async (a) => {
    const answer = await ask({
      title: `${a.label} ${id}?`,
      text: a.action === 'purge' ? 'Its history and state are deleted for good.' : `The instance is ${status} now.`,
      reason: a.reason, event: a.event, flag: a.flag,
    });
    if (!answer || !ctx.alive()) return;
    delete result.dataset.ok;
    result.textContent = `${a.label}…`;
    try {
      const res = await a.call(id, answer);
      result.dataset.ok = 'true';
      if (a.action === 'restart' && res.data && res.data.id) {
        result.replaceChildren(`${a.label}: started (${res.status}) as `,
          link(['instance', res.data.id], res.data.id, { class: 'mono' }), '.');
      } else if (a.action === 'purge') {
        purged = true;
        result.replaceChildren(`Purged (${res.status}). `, h('a', { href: '#/instances' }, 'Back to the instances'));
        buttons.forEach((b) => { b.disabled = true; });
        return;
      } else {
        result.textContent = `${a.label}: accepted (${res.status}); the instance's owner applies it.`;
      }
    } catch (e) {
      result.dataset.ok = 'false';
      result.textContent = `${a.label} failed (${e.status || 'no answer'}): ${e.message}`;
    }
    await load().catch((e) => ctx.error(e));
  };
  buttons.forEach((b, i) => b.addEventListener('click', () => act(ACTIONS[i])));

  ctx.every(REFRESH_MS, async () => {
    if (!purged && !TERMINAL.has(status)) await load();
  });
  await load();
}
