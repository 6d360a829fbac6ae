// The instance page (#/instance/<id>) against real instances: status, input
// and output as JSON text, the timeline's bars, the raw events, the links to
// parent and children, and the action buttons (each asks first; what it
// did is checked through the API too).
// DASH_EXPECT: {
//   "cases": [{
//     "id", "name", "status",
//     "output": <JSON>                      pre#instance-output parses to it (optional)
//     "text": {"<selector>": ["literal", ...]}  texts each element's textContent must contain
//     "bars": {"<kind>": {"count": n, "failed": n, "open": n}}  exact, per kind listed
//     "barNames": [{"kind", "name"}]        bars that must exist (data-name as given)
//     "events": {"<EventType>": n}          rows of table#history whose first cell is the type, exact
//     "children": ["<child id>"]            a.child-link hrefs, exactly these
//     "parent": "<parent id>"               a.parent-link href
//   }],
//   "actions": [{"id", "action", "reason"?, "eventName"?, "eventData"?, "flag"?, "endStatus", "fromStatus"?,
//                "cancelFirst"?}]            buttons pressed, in order; a restart also checks that a new
//                                           execution began (the id's created time moved), a purge that
//                                           the API answers 404 for the id (its endStatus is "purged")
//   "missing": "<id>"                       no such instance: its route shows the error, as text
//   "screenshot": "<id>"                    the instance shown last (for the screenshot)
// }
import { run, visit, waitUntil, api, checkInert, TIMEOUT_MS } from './common.mjs';

const instanceHash = (id) => `#/instance/${encodeURIComponent(id)}`;

// Opens an instance's page and waits until it shows that instance, ready.
async function show(session, s, id) {
  await visit(session, s, instanceHash(id), 'instance');
  await waitUntil(session.page, `#instance-id shows ${JSON.stringify(id)} and the page is ready`, (id) => {
    const e = document.querySelector('#instance-id');
    const m = document.querySelector('main#page[data-page="instance"]');
    return e && e.textContent.trim() === id && m && m.dataset.state === 'ready';
  }, id, () => {
    const e = document.querySelector('#instance-id');
    const m = document.querySelector('main#page');
    return { instanceId: e ? e.textContent : null, state: m ? m.dataset.state : null };
  });
}

function text(page, sel) {
  return page.$eval(sel, (e) => e.textContent.trim()).catch(() => null);
}

async function checkCase(session, s, c) {
  const { page, report } = session;
  const name = JSON.stringify(c.id);
  await show(session, s, c.id);
  // The status settles with the page's refreshes (the C++ side waited for it already).
  await waitUntil(page, `${name}: #instance-status is ${c.status}`, (st) => {
    const e = document.querySelector('#instance-status');
    return e && e.textContent.trim() === st;
  }, c.status, () => document.querySelector('#instance-status')?.textContent);
  report.check(true, `${name}: #instance-status ${c.status}`);
  report.equal(await text(page, '#instance-name'), c.name, `${name}: #instance-name`);

  if ('output' in c) {
    const raw = await text(page, 'pre#instance-output');
    let parsed;
    try { parsed = JSON.parse(raw); } catch { parsed = `(not JSON: ${raw})`; }
    report.equal(parsed, c.output, `${name}: pre#instance-output is the output as JSON`);
  }
  for (const [sel, literals] of Object.entries(c.text || {})) {
    const t = await page.$eval(sel, (e) => e.textContent).catch(() => null);
    for (const lit of literals) {
      report.check(t !== null && t.includes(lit), `${name}: ${sel} holds ${JSON.stringify(lit)} as text`,
                   t === null ? `no ${sel}` : JSON.stringify(t.slice(0, 300)));
    }
  }

  // Timeline: bars by kind.
  const bars = await page.evaluate(() => [...document.querySelectorAll('#timeline .bar')].map((b) => ({
    kind: b.getAttribute('data-kind'), name: b.getAttribute('data-name'),
    failed: b.classList.contains('failed'), open: b.classList.contains('open') })));
  report.observed[c.id] = { bars };
  for (const [kind, want] of Object.entries(c.bars || {})) {
    const of = bars.filter((b) => b.kind === kind);
    const got = { count: of.length };
    if ('failed' in want) got.failed = of.filter((b) => b.failed).length;
    if ('open' in want) got.open = of.filter((b) => b.open).length;
    report.equal(got, want, `${name}: #timeline .bar[data-kind="${kind}"] (count, failed, open)`);
  }
  if (['Completed', 'Failed', 'Terminated'].includes(c.status)) {
    report.equal(bars.filter((b) => b.open).map((b) => [b.kind, b.name]), [],
                 `${name}: a finished instance has no #timeline .bar.open (nothing is still waited for)`);
  }
  for (const want of c.barNames || []) {
    report.check(bars.some((b) => b.kind === want.kind && (b.name || '').includes(want.name)),
                 `${name}: a .bar[data-kind="${want.kind}"] named ${JSON.stringify(want.name)}`,
                 JSON.stringify(bars.map((b) => [b.kind, b.name])));
  }

  // Raw events.
  const types = await page.evaluate(() => {
    const t = document.querySelector('table#history');
    if (!t) return null;
    return [...t.querySelectorAll('tbody tr')].map((tr) => (tr.cells[0] ? tr.cells[0].textContent.trim() : ''));
  });
  report.observed[c.id].events = types;
  for (const [type, n] of Object.entries(c.events || {})) {
    report.equal((types || []).filter((t) => t === type).length, n, `${name}: table#history rows of ${type}`);
  }

  // Links.
  const links = await page.evaluate(() => ({
    children: [...document.querySelectorAll('a.child-link')].map((a) => a.getAttribute('href')),
    parent: [...document.querySelectorAll('a.parent-link')].map((a) => a.getAttribute('href')),
  }));
  if (c.children) report.equal(links.children.sort(), c.children.map(instanceHash).sort(), `${name}: a.child-link`);
  if (c.parent) report.equal(links.parent, [instanceHash(c.parent)], `${name}: a.parent-link`);
  if (!c.parent) report.equal(links.parent, [], `${name}: no a.parent-link`);
  await checkInert(session, c.id);
}

// Waits for dialog#confirm to be open (or closed).
function dialogBecomes(page, open, what) {
  return waitUntil(page, `dialog#confirm ${open ? 'opens' : 'closes'} ${what}`,
                   (open) => (document.querySelector('dialog#confirm')?.open === true) === open, open);
}

async function dialogOpen(page) {
  return page.$eval('dialog#confirm', (d) => d.open).catch(() => false);
}

// Types into a field of dialog#confirm (a failed check when it is missing).
async function fill(page, report, sel, value, what) {
  if (!report.check(await page.$(sel) !== null, `dialog#confirm has ${sel} (${what})`)) return;
  await page.$eval(sel, (i) => { i.value = ''; });
  await page.type(sel, value);
}

// Polls the API until `done(answer)` holds (or the timeout); returns the last answer.
async function apiUntil(s, id, done) {
  let r = null;
  for (const deadline = Date.now() + TIMEOUT_MS; Date.now() < deadline;) {
    r = await api(s, `/instances/${encodeURIComponent(id)}`);
    if (done(r)) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return r;
}

// A button of the instance page: asks first (with `cancelFirst`, a cancel
// sends nothing), then one POST (a purge: one DELETE), #action-result
// data-ok="true", and the page (refreshing while the instance runs) and the
// API reach `endStatus`.
// t: {id, action, reason?, eventName?, eventData?, flag?, endStatus, fromStatus? (Running), cancelFirst?}
async function act(session, s, t) {
  const { page, report } = session;
  const name = `${JSON.stringify(t.id)} ${t.action}`;
  const button = `button[data-action="${t.action}"]`;
  const route = { terminate: /\/terminate(\?|$)/, raise: /\/raiseEvent\//, suspend: /\/suspend(\?|$)/,
                  resume: /\/resume(\?|$)/, rewind: /\/rewind(\?|$)/, restart: /\/restart(\?|$)/,
                  purge: /\/instances\/[^/?]+(\?|$)/ }[t.action];
  const method = t.action === 'purge' ? 'DELETE' : 'POST';
  const createdBefore = t.action === 'restart' ? (await api(s, `/instances/${encodeURIComponent(t.id)}`)).body?.createdTime
                                               : undefined;
  await show(session, s, t.id);
  const from = t.fromStatus || 'Running';
  await waitUntil(page, `${name}: ${from} before the button`, (from) =>
    document.querySelector('#instance-status')?.textContent.trim() === from, from,
  () => document.querySelector('#instance-status')?.textContent);
  // The page's own reads of the instance are GETs of the purge's URL.
  const sent = () => session.requests.filter((r) => route.test(r.url) && (t.action !== 'purge' || r.method !== 'GET'));

  if (t.cancelFirst) {
    await page.click(button);
    await dialogBecomes(page, true, `for ${t.action}`);
    report.check(true, `${name}: asks first (dialog#confirm)`);
    await page.click('#confirm-cancel');
    await dialogBecomes(page, false, 'on #confirm-cancel');
    report.equal(sent().length, 0, `${name}: cancelled, nothing sent`);
  }

  await page.click(button);
  await dialogBecomes(page, true, `for ${t.action}`);
  if (t.reason !== undefined) await fill(page, report, '#confirm-reason', t.reason, 'the reason');
  if (t.eventName !== undefined) await fill(page, report, '#confirm-event-name', t.eventName, 'the event name');
  if (t.eventData !== undefined) await fill(page, report, '#confirm-event-data', t.eventData, 'the event data');
  if (t.flag) await page.click('#confirm-flag');
  // An earlier action's outcome must not pass for this one's.
  await page.evaluate(() => document.querySelector('#action-result')?.removeAttribute('data-ok'));
  await page.click('#confirm-ok');
  const ok = await waitUntil(page, `#action-result[data-ok] after ${t.action}`, () =>
    document.querySelector('#action-result[data-ok]')?.getAttribute('data-ok') ?? false, null,
  () => document.querySelector('#action-result')?.outerHTML);
  report.equal(ok, 'true', `${name}: #action-result data-ok`);
  report.check(!(await dialogOpen(page)), `${name}: dialog#confirm closed after #confirm-ok`);
  report.equal(sent().map((r) => r.method), [method], `${name}: sent once, as a ${method}`);
  report.observed[`${t.action}Request`] = sent().map((r) => `${r.method} ${r.url}`);

  if (t.action === 'purge') {
    const shown = await page.$eval('#action-result', (e) => e.textContent).catch(() => '');
    report.check(shown.startsWith('Purged'), `${name}: #action-result says it is purged`, JSON.stringify(shown));
    const r = await apiUntil(s, t.id, (r) => r.status === 404);
    report.equal(r.status, 404, `${name}: the API no longer knows the id`);
    return;
  }

  await waitUntil(page, `${name}: #instance-status becomes ${t.endStatus}`, (want) =>
    document.querySelector('#instance-status')?.textContent.trim() === want, t.endStatus,
  () => document.querySelector('#instance-status')?.textContent);
  report.check(true, `${name}: the page shows ${t.endStatus}, unreloaded`);
  const anew = (r) => t.action !== 'restart' || (r.body?.createdTime && r.body.createdTime !== createdBefore);
  const r = await apiUntil(s, t.id, (r) => r.body?.runtimeStatus === t.endStatus && anew(r));
  report.equal(r.body?.runtimeStatus, t.endStatus, `${name}: the API says ${t.endStatus}`);
  if (t.action === 'restart') {
    report.check(anew(r), `${name}: a new execution began (createdTime moved)`,
                 `${createdBefore} -> ${r.body?.createdTime}`);
  }
}

// A route naming an instance that does not exist (a link anyone can send):
// the page is in state "error", and the id in the route is never markup.
async function missing(session, s, id) {
  const { page, report } = session;
  session.expectStatus = 404;
  await page.evaluate((h) => { window.location.hash = h; }, instanceHash(id));
  const what = `main#page[data-page="instance"] settles for the missing ${JSON.stringify(id)}`;
  const state = await waitUntil(page, what, () => {
    const m = document.querySelector('main#page[data-page="instance"]');
    return m && (m.dataset.state === 'error' || m.dataset.state === 'ready') ? m.dataset.state : false;
  }, null, () => document.querySelector('main#page')?.dataset.state);
  report.equal(state, 'error', `a missing instance's route: main#page data-state`);
  const shown = await page.$eval('#page-error', (e) => e.textContent.trim()).catch(() => '');
  report.check(shown !== '', 'a missing instance: #page-error says why', JSON.stringify(shown));
  report.observed.missingError = shown;
  await checkInert(session, `the missing ${id}`);
  session.expectStatus = undefined;
}

await run('instance', async (session, s) => {
  const { report } = session;
  for (const c of s.expect.cases) await report.step(`case ${JSON.stringify(c.id)}`, () => checkCase(session, s, c));
  for (const t of s.expect.actions || []) {
    await report.step(`${t.action} ${JSON.stringify(t.id)}`, () => act(session, s, t));
  }
  if (s.expect.missing) await report.step('a missing instance', () => missing(session, s, s.expect.missing));
  if (s.expect.screenshot) await report.step('screenshot page', () => show(session, s, s.expect.screenshot));
});
