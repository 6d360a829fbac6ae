// dead_letters.js: messages that could not be processed (undecodable ones,
// and those of quarantined instances), with retry and discard; the
// quarantined instances are listed apart (mend one by fixing its code,
// handling its letters, and rewinding it from its page).

import * as api from './api.js';
import { pager } from './pager.js';
import { ask } from './confirm.js';
import { h, link, time } from './dom.js';

const PAGE_SIZE = 50;
const QUARANTINE = /^episode crashed/;

function message(letter) {
  const m = letter.message;
  if (!m) return h('span', { class: 'subtle' }, 'undecodable');
  return [h('span', { class: 'mono' }, m.EventType), m.Name ? ` ${m.Name}` : ''];
}

export async function mount(ctx) {
  const paging = pager(() => load(), (e) => ctx.error(e));
  const tbody = h('tbody');
  const quarantined = h('div', { class: 'quarantined' });
  const result = h('p', { id: 'action-result', class: 'action-result', role: 'status' });
  ctx.main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Dead letters')),
    h('p', { class: 'note' }, 'Messages that could not be processed. Retry puts one back at the end of the inbox it '
      + 'came from; discard deletes it. A quarantined instance (its episode crashed again and again) is Failed: '
      + 'fix its code, retry or discard its letters, then rewind it from its page.'),
    quarantined,
    result,
    h('div', { class: 'table-wrap' },
      h('table', { id: 'dead-letters', class: 'data' },
        h('thead', {}, h('tr', {}, ['Id', 'Instance', 'Reason', 'Dead-lettered', 'Message', 'Size', ''].map((c) => h('th', {}, c)))),
        tbody)),
    paging.element);

  const act = async (letter, action) => {
    const retry = action === 'retry';
    const answer = await ask({
      title: `${retry ? 'Retry' : 'Discard'} dead letter ${letter.id}?`,
      text: retry ? `It goes back to the end of ${letter.instanceId}'s inbox.`
        : `It is deleted for good; ${letter.instanceId} never sees it.`,
    });
    if (!answer || !ctx.alive()) return;
    try {
      const res = retry ? await api.post(api.path('deadLetters', letter.id, 'retry'))
        : await api.del(api.path('deadLetters', letter.id));
      result.dataset.ok = 'true';
      result.textContent = `${retry ? 'Retried' : 'Discarded'} ${letter.id} (${res.status}).`;
    } catch (e) {
      result.dataset.ok = 'false';
      result.textContent = `${retry ? 'Retry' : 'Discard'} of ${letter.id} failed (${e.status || 'no answer'}): ${e.message}`;
    }
    await load().catch((e) => ctx.error(e));
  };

  const load = async () => {
    ctx.loading();
    const res = await api.get('/deadLetters', {
      query: { top: PAGE_SIZE },
      headers: paging.headers(),
    });
    if (!ctx.alive()) return;
    const letters = Array.isArray(res.data) ? res.data : [];
    paging.update(res);
    tbody.replaceChildren(...letters.map((d) => h('tr', { dataset: { deadLetter: d.id } },
      h('td', { class: 'mono' }, d.id),
      h('td', { class: 'mono' }, link(['instance', d.instanceId], d.instanceId)),
      h('td', {}, d.reason),
      h('td', { class: 'time' }, time(d.deadLetteredTime)),
      h('td', {}, message(d)),
      h('td', { class: 'num' }, `${d.sizeBytes} B`),
      h('td', { class: 'row-actions' },
        h('button', { type: 'button', dataset: { action: 'retry' }, onclick: () => act(d, 'retry') }, 'Retry'),
        h('button', { type: 'button', class: 'danger', dataset: { action: 'discard' }, onclick: () => act(d, 'discard') }, 'Discard')))));
    if (!letters.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: 7 }, 'No dead letters.')));
    const ids = [...new Set(letters.filter((d) => QUARANTINE.test(d.reason || '')).map((d) => d.instanceId))];
    quarantined.replaceChildren(...(ids.length
      ? [h('h2', {}, `Quarantined instances (${ids.length} on this page)`),
        h('ul', { class: 'plain' }, ids.map((id) => h('li', {}, link(['instance', id], id, { class: 'mono' }))))]
      : []));
    ctx.ready();
  };
  await load();
}
