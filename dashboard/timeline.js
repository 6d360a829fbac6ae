// timeline.js: an instance's history as bars: each activity, timer,
// sub-orchestration, event wait and entity call from when it was scheduled
// to when its answer came, failures marked, open ones drawn to "now"; those
// a finished instance left unanswered are drawn to its end, marked abandoned.
//
// History records no "started waiting" for an external event: an event's bar
// runs from the instance's start (or the previous event of that name) to its
// arrival, and a wait still open cannot be drawn.

import { h, duration, time } from './dom.js';

const MAX_BARS = 2000;

/** The bars of `events` (GET /instances/{id}?showHistory=true's historyEvents), in scheduling order. */
export function bars(events, finished) {
  const out = [];
  const byEventId = new Map();
  const byRequest = new Map();
  const lastEvent = new Map();
  let start = events.length ? Date.parse(events[0].Timestamp) : Date.now();
  let last = start;
  const open = (map, id, bar) => {
    out.push(bar);
    if (id !== undefined && id !== null) map.set(id, bar);
  };
  const close = (map, id, at, failure) => {
    const bar = map.get(id);
    if (!bar || bar.end !== undefined) return;
    bar.end = at;
    if (failure) {
      bar.failed = true;
      bar.failure = failure.ErrorMessage || failure.ErrorType || 'failed';
    }
  };
  for (const e of events) {
    const at = Date.parse(e.Timestamp);
    if (Number.isFinite(at)) last = Math.max(last, at);
    switch (e.EventType) {
      case 'ExecutionStarted': start = at; break;
      case 'TaskScheduled':
        open(byEventId, e.EventId, { kind: 'activity', name: e.Name || '', start: at });
        break;
      case 'TimerCreated':
        open(byEventId, e.EventId, { kind: 'timer', name: e.FireAt ? `until ${time(e.FireAt)}` : 'timer', start: at });
        break;
      case 'SubOrchestrationInstanceCreated':
        open(byEventId, e.EventId, { kind: 'suborchestration', name: e.Name || '', start: at, child: e.InstanceId });
        break;
      case 'TaskCompleted': case 'TimerFired': case 'SubOrchestrationInstanceCompleted':
        close(byEventId, e.TaskScheduledId, at);
        break;
      case 'TaskFailed': case 'SubOrchestrationInstanceFailed':
        close(byEventId, e.TaskScheduledId, at, e.FailureDetails || {});
        break;
      case 'EntityOperationCalled':
        open(byRequest, e.RequestId, { kind: 'entity', name: `${e.Name || ''} ${e.InstanceId || ''}`.trim(), start: at });
        break;
      case 'EntityLockRequested':
        open(byRequest, e.RequestId, { kind: 'entity', name: `lock ${(e.LockSet || []).join(', ')}`, start: at });
        break;
      case 'EntityOperationCompleted': case 'EntityLockGranted':
        close(byRequest, e.RequestId, at);
        break;
      case 'EntityOperationFailed':
        close(byRequest, e.RequestId, at, e.FailureDetails || {});
        break;
      case 'EventRaised': {
        const name = e.Name || '';
        out.push({ kind: 'event', name, start: lastEvent.has(name) ? lastEvent.get(name) : start, end: at });
        lastEvent.set(name, at);
        break;
      }
      default: break;
    }
  }
  // Unanswered in a finished instance: it never will be (a timer an event
  // beat, a task of a terminated instance): drawn to the end, not "open".
  const end = finished ? last : Math.max(last, Date.now());
  for (const bar of out) {
    const unanswered = bar.end === undefined;
    bar.open = unanswered && !finished;
    bar.abandoned = unanswered && finished;
    if (unanswered) bar.end = end;
  }
  return { bars: out, start, end };
}

const KIND_LABEL = { activity: 'activity', timer: 'timer', suborchestration: 'sub-orch.', event: 'event', entity: 'entity' };

/** div#timeline: a time axis and a row per bar, placed through CSSOM. */
export function render({ bars: list, start, end }) {
  const span = Math.max(1, end - start);
  const pct = (t) => `${Math.min(100, Math.max(0, ((t - start) / span) * 100))}%`;
  const axis = h('div', { class: 'tl-axis' }, h('span', { class: 'tl-label' }));
  const scale = h('div', { class: 'tl-track' });
  for (let i = 0; i <= 4; i++) {
    const tick = h('span', { class: 'tl-tick' }, i === 0 ? time(new Date(start).toISOString()).slice(11) : `+${duration((span * i) / 4)}`);
    tick.style.left = `${i * 25}%`;
    scale.append(tick);
  }
  axis.append(scale);
  const rows = list.slice(0, MAX_BARS).map((b) => {
    const bar = h('div', {
      class: ['bar', b.failed && 'failed', b.open && 'open', b.abandoned && 'abandoned'],
      dataset: { kind: b.kind, name: b.name },
      title: `${b.name}: ${duration(b.end - b.start)}${b.open ? ' so far' : ''}${b.abandoned ? ', never answered' : ''}`
        + `${b.failed ? ` (failed: ${b.failure})` : ''}`,
    });
    bar.style.left = pct(b.start);
    bar.style.width = `max(3px, ${((b.end - b.start) / span) * 100}%)`;
    return h('div', { class: 'tl-row' },
      h('span', { class: 'tl-label' }, h('span', { class: ['tl-kind', `kind-${b.kind}`] }, KIND_LABEL[b.kind]), ' ', b.name),
      h('div', { class: 'tl-track' }, bar),
      h('span', { class: 'tl-duration' }, b.open ? 'open' : b.abandoned ? 'abandoned' : duration(b.end - b.start)));
  });
  const box = h('div', { id: 'timeline', class: 'timeline' }, axis, rows);
  if (!list.length) box.append(h('p', { class: 'note' }, 'Nothing scheduled yet: no activity, timer, sub-orchestration, event or entity call.'));
  if (list.length > MAX_BARS) box.append(h('p', { class: 'note' }, `The first ${MAX_BARS} of ${list.length} bars.`));
  return box;
}
