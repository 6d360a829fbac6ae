// The instances page (#/instances) against a node with real instances.
// DASH_EXPECT: {
//   "instances": [{"id","name","status"}...]  every orchestration in the hub, as it is now
//   "counts": {"Completed": n, ...}             #status-counts, per status
//   "statusFilter": "Failed"                    a status to filter by (its rows: the instances with it)
//   "idPrefix": "dash-wait-"                    an id prefix to filter by
//   "nameFilter": "Approval"                    an orchestrator name to filter by (optional)
//   "late": {"name", "id", "input"}             started through the API while the page shows
//                                               (optional): auto-refresh must list it
//   "hostile": ["<id>", ...]                    ids whose text must show as text
// }
// Also: GET / redirects here, the first visit asks for the key (a wrong one
// is asked again), the page's answer carries the CSP the issue asks for.
import { run, route, enterKey, waitReady, waitUntil, rows, checkInert, visit, api, TIMEOUT_MS } from './common.mjs';

await run('instances', async (session, s) => {
  const { page, report } = session;
  const { instances, counts, statusFilter, idPrefix, nameFilter, late, hostile } = s.expect;
  const origin = new URL(s.url).origin;

  // GET / goes to the dashboard; the first visit shows the key form.
  session.keyPhase = true;
  session.visited = true;
  const response = await page.goto(`${origin}/`, { waitUntil: 'domcontentloaded' });
  report.check(page.url().startsWith(`${origin}/dashboard/`), 'GET / redirects to /dashboard/',
               `ended at ${page.url()}`);
  const csp = (response && response.headers()['content-security-policy']) || '';
  report.check(/frame-ancestors 'none'/.test(csp), "the page's CSP has frame-ancestors 'none'", `CSP: ${csp}`);
  report.check(!/unsafe-inline/.test((csp.match(/script-src[^;]*/) || [''])[0]) && /script-src|default-src/.test(csp),
               "the page's CSP allows no inline script", `CSP: ${csp}`);
  if (s.key) {
    await page.waitForSelector('#key-form', { visible: true }).catch(() => {
      throw new Error('the first visit with a key set shows no visible #key-form');
    });
    report.check(true, 'the first visit shows #key-form');
    // A wrong key: the API answers 401 and the form is shown again.
    const refused = page.waitForResponse((r) => r.url().includes('/runtime/webhooks/durabletask') && r.status() === 401,
                                         { timeout: TIMEOUT_MS });
    await enterKey(page, `${s.key}-wrong`);
    await refused;
    await page.waitForSelector('#key-form', { visible: true });
    const state = await page.$eval('main#page', (m) => m.dataset.state).catch(() => 'no main#page');
    report.check(state !== 'ready', 'a wrong key is refused and asked for again', `data-state="${state}"`);
    await enterKey(page, s.key);
  }
  session.keyPhase = false;
  if (!s.key) {
    await waitReady(session, 'instances');
    const form = await page.$('#key-form');
    report.check(!(form && await form.isVisible()), 'no key set: no #key-form');
  }
  await waitReady(session, 'instances');
  const kept = await page.evaluate(() => sessionStorage.getItem('durable.key'));
  report.equal(kept, s.key || null, 'the key is kept in sessionStorage "durable.key"');

  // Every instance, with its cells.
  const expectRows = (want) => waitUntil(page, `table#instances shows exactly ${JSON.stringify(want)}`, (want) => {
    const t = document.querySelector('table#instances');
    if (!t) return false;
    const got = [...t.querySelectorAll('tbody tr[data-id]')].map((tr) => tr.getAttribute('data-id')).sort();
    return JSON.stringify(got) === JSON.stringify([...want].sort());
  }, want, () => [...document.querySelectorAll('table#instances tbody tr')].map((tr) => tr.getAttribute('data-id')));

  const allIds = instances.map((i) => i.id);
  await report.step('all instances listed', async () => {
    await expectRows(allIds);
    report.check(true, `table#instances lists the ${allIds.length} instances`);
  });
  const table = await rows(page, 'table#instances', 'data-id');
  report.observed.rows = table ? table.map((r) => r.key) : null;
  for (const want of instances) {
    const row = (table || []).find((r) => r.key === want.id);
    if (!report.check(!!row, `a row for ${JSON.stringify(want.id)}`)) continue;
    report.equal(row.cells.slice(0, 3), [want.status, want.name, want.id],
                 `${JSON.stringify(want.id)}: status, name, id cells`);
    report.check(row.cells.length >= 6 && row.cells[4] !== '' && row.cells[5] !== '',
                 `${JSON.stringify(want.id)}: created and updated cells filled`, JSON.stringify(row.cells));
    report.check(row.links.includes(`#/instance/${encodeURIComponent(want.id)}`),
                 `${JSON.stringify(want.id)}: its id links to #/instance/<id>`, JSON.stringify(row.links));
  }

  // Counts per status.
  const shownCounts = await page.evaluate(() => Object.fromEntries(
      [...document.querySelectorAll('#status-counts [data-status]')].map((e) => [
        e.getAttribute('data-status'),
        (e.querySelector('.count') || { textContent: '(no .count)' }).textContent.trim()])));
  report.observed.counts = shownCounts;
  for (const [status, n] of Object.entries(counts)) {
    report.equal(shownCounts[status], String(n), `#status-counts [data-status="${status}"] .count`);
  }

  await checkInert(session, 'the list');
  for (const id of hostile) {
    const row = (table || []).find((r) => r.key === id);
    report.check(!!row && row.cells[2] === id, `the hostile id ${JSON.stringify(id)} shows as text`,
                 row ? JSON.stringify(row.cells[2]) : 'no row');
  }

  // Filter by status.
  await report.step(`filter status=${statusFilter}`, async () => {
    await page.$eval('#filter-status', (sel, v) => {
      for (const o of sel.options) o.selected = o.value === v;
      sel.dispatchEvent(new Event('change', { bubbles: true }));
    }, statusFilter);
    await page.click('#apply-filters');
    const want = instances.filter((i) => i.status === statusFilter).map((i) => i.id);
    await expectRows(want);
    report.check(true, `filter status=${statusFilter}: exactly its ${want.length} instance(s)`);
    const hash = await page.evaluate(() => decodeURIComponent(window.location.hash));
    report.check(/^#\/instances\?/.test(hash) && hash.includes(`status=${statusFilter}`),
                 'the status filter is in the route', hash);
  });

  // Filter by id prefix (any status).
  await report.step(`filter id prefix ${idPrefix}`, async () => {
    await page.$eval('#filter-status', (sel) => {
      for (const o of sel.options) o.selected = !sel.multiple && o.value === '';
      sel.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await page.$eval('#filter-id', (i) => { i.value = ''; });
    await page.type('#filter-id', idPrefix);
    await page.click('#apply-filters');
    const want = allIds.filter((id) => id.startsWith(idPrefix));
    await expectRows(want);
    report.check(true, `filter id prefix ${idPrefix}: exactly its ${want.length} instance(s)`);
  });

  // Filter by name (any status, any id).
  if (nameFilter) {
    await report.step(`filter name ${nameFilter}`, async () => {
      await page.$eval('#filter-id', (i) => { i.value = ''; });
      await page.$eval('#filter-name', (i) => { i.value = ''; });
      await page.type('#filter-name', nameFilter);
      await page.click('#apply-filters');
      const want = instances.filter((i) => i.name === nameFilter).map((i) => i.id);
      await expectRows(want);
      report.check(true, `filter name ${nameFilter}: exactly its ${want.length} instance(s)`);
    });
  }

  // Filter by created time (datetime-local, in the browser's time zone): an
  // hour ago until an hour ahead holds everything, from an hour ahead nothing.
  await report.step('filter created time', async () => {
    const local = (ms) => {
      const d = new Date(ms);
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    };
    const set = (sel, value) => page.$eval(sel, (i, v) => {
      i.value = v;
      i.dispatchEvent(new Event('input', { bubbles: true }));
      i.dispatchEvent(new Event('change', { bubbles: true }));
    }, value);
    await set('#filter-name', '');
    await set('#filter-id', '');
    const now = Date.now();
    await set('#filter-from', local(now - 3600e3));
    await set('#filter-to', local(now + 3600e3));
    await page.click('#apply-filters');
    await expectRows(allIds);
    report.check(true, 'created from an hour ago to an hour ahead: every instance');
    await set('#filter-from', local(now + 3600e3));
    await set('#filter-to', '');
    await page.click('#apply-filters');
    await expectRows([]);
    report.check(true, 'created from an hour ahead: none');
    await set('#filter-from', '');
  });

  // A route with a filter, opened directly: the key is not asked again.
  await report.step('route #/instances?status=Running', async () => {
    await page.goto(route(s, '#/instances?status=Running'), { waitUntil: 'domcontentloaded' });
    await waitReady(session, 'instances');
    const form = await page.$('#key-form');
    report.check(!(form && await form.isVisible()), 'a reload keeps the key (no #key-form)');
    await expectRows(instances.filter((i) => i.status === 'Running').map((i) => i.id));
    report.check(true, '#/instances?status=Running lists the running instances');
  });

  // Back to everything; with one started behind the page's back, auto-refresh shows it.
  await report.step('back to #/instances', async () => {
    await visit(session, s, '#/instances', 'instances');
    await expectRows(allIds);
    report.check(true, '#/instances lists everything again');
    const buttons = await page.evaluate(() => ['#next-page', '#prev-page'].map((sel) => {
      const b = document.querySelector(sel);
      return b ? `${sel} ${b.disabled ? 'disabled' : 'enabled'}` : `no ${sel}`;
    }));
    report.equal(buttons, ['#next-page disabled', '#prev-page disabled'], 'one page: no next or previous page');
  });
  if (late) {
    await report.step(`auto-refresh lists ${late.id}`, async () => {
      report.equal(await page.$eval('#auto-refresh', (c) => c.checked).catch(() => null), true,
                   'checkbox#auto-refresh is on by default');
      const started = Date.now();
      const r = await api(s, `/orchestrators/${encodeURIComponent(late.name)}/${encodeURIComponent(late.id)}`, 'POST',
                          late.input);
      if (!report.check(r.status === 202 || r.status === 200, `POST /orchestrators/${late.name}/${late.id}`,
                        `HTTP ${r.status} ${JSON.stringify(r.body)}`)) return;
      await expectRows([...allIds, late.id]);
      report.observed.autoRefreshMs = Date.now() - started;
      report.check(true, `auto-refresh listed ${late.id} after ${Date.now() - started} ms, untouched`);
    });
  }
});
