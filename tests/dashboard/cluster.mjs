// The cluster page (#/cluster) against a real cluster: each node a live row
// with its addresses, every partition owned by one of them, a rates chart
// per node; before it, the dead letters page and the navigation.
// DASH_EXPECT: {"nodes": ["a", "b", "c"], "partitions": n,
//   "letter": {"id", "text": ["literal", ...]}   an undecodable dead letter: shown as text,
//                                                its retry refused, its discard done}
import { run, visit, waitUntil, waitReady, rows, checkInert, api } from './common.mjs';

// Presses a dead letter's button and confirms; returns #action-result's data-ok.
async function press(session, id, action) {
  const { page } = session;
  await page.evaluate(() => document.querySelector('#action-result')?.removeAttribute('data-ok'));
  const clicked = await page.evaluate((id, action) => {
    const tr = [...document.querySelectorAll('table#dead-letters tbody tr')].find((r) => r.dataset.deadLetter === id);
    const b = tr && tr.querySelector(`button[data-action="${action}"]`);
    if (b) b.click();
    return !!b;
  }, id, action);
  if (!clicked) throw new Error(`no button[data-action="${action}"] in tr[data-dead-letter] of ${id}`);
  await waitUntil(page, `dialog#confirm opens for ${action}`, () => document.querySelector('dialog#confirm')?.open === true);
  await page.click('#confirm-ok');
  return waitUntil(page, `#action-result[data-ok] after ${action}`, () =>
    document.querySelector('#action-result[data-ok]')?.getAttribute('data-ok') ?? false, null,
  () => document.querySelector('#action-result')?.outerHTML);
}

async function deadLetter(session, s, letter) {
  const { page, report } = session;
  const rowText = () => page.evaluate((id) => {
    const tr = [...document.querySelectorAll('table#dead-letters tbody tr')].find((r) => r.dataset.deadLetter === id);
    return tr ? tr.textContent : null;
  }, letter.id);
  const text = await rowText();
  if (!report.check(text !== null, `tr[data-dead-letter] for ${letter.id}`)) return;
  for (const lit of letter.text) report.check(text.includes(lit), `the dead letter shows ${JSON.stringify(lit)} as text`);
  await checkInert(session, 'a hostile dead letter');

  // Undecodable: the node refuses to retry it (409), and the page says so.
  session.expectStatus = 409;
  report.equal(await press(session, letter.id, 'retry'), 'false', 'retry of an undecodable letter: #action-result data-ok');
  session.expectStatus = undefined;
  report.check(await rowText() !== null, 'the refused letter stays listed');

  report.equal(await press(session, letter.id, 'discard'), 'true', 'discard: #action-result data-ok');
  await waitUntil(page, 'the discarded letter leaves table#dead-letters', (id) =>
    ![...document.querySelectorAll('table#dead-letters tbody tr')].some((r) => r.dataset.deadLetter === id), letter.id);
  report.check(true, 'the discarded letter is no longer listed');
  const listed = await api(s, '/deadLetters');
  report.equal(Array.isArray(listed.body) ? listed.body.map((d) => d.id) : listed.body, [],
               'GET /deadLetters after the discard');
}

await run('cluster', async (session, s) => {
  const { page, report } = session;
  const { nodes, partitions, letter } = s.expect;
  // The dead letters page, then the navigation leads to the cluster.
  await visit(session, s, '#/dead-letters', 'dead-letters');
  report.check(await page.$('table#dead-letters') !== null, '#/dead-letters: table#dead-letters');
  if (letter) await report.step('a dead letter', () => deadLetter(session, s, letter));
  await checkInert(session, 'the dead letters');
  const nav = await page.$$eval('nav a', (as) => as.map((a) => a.getAttribute('href')));
  for (const href of ['#/instances', '#/entities', '#/cluster', '#/dead-letters']) {
    report.check(nav.includes(href), `nav a[href="${href}"]`, JSON.stringify(nav));
  }
  await page.click('nav a[href="#/cluster"]');
  await waitReady(session, 'cluster');
  report.check(true, 'nav a[href="#/cluster"] opens the cluster page');

  // Leases settle within a few renewals: wait until every partition has an owner among the nodes.
  await report.step('every partition owned', async () => {
    const what = `#partitions holds ${partitions} .partition, each owned by one of ${nodes}`;
    await waitUntil(page, what, ({ nodes, n }) => {
      const ps = [...document.querySelectorAll('#partitions .partition[data-partition]')];
      return ps.length === n && ps.every((p) => nodes.includes(p.getAttribute('data-owner')));
    }, { nodes, n: partitions }, () => [...document.querySelectorAll('#partitions .partition')]
        .map((p) => [p.getAttribute('data-partition'), p.getAttribute('data-owner')]));
    report.check(true, `#partitions: ${partitions} partitions, each owned by one of the three`);
  });
  const grid = await page.evaluate(() => [...document.querySelectorAll('#partitions .partition')]
      .map((p) => ({ partition: p.getAttribute('data-partition'), owner: p.getAttribute('data-owner') })));
  report.observed.partitions = grid;
  report.equal(grid.map((p) => Number(p.partition)).sort((a, b) => a - b), [...Array(partitions).keys()],
               '#partitions: data-partition 0..n-1, once each');
  const owned = {};
  for (const p of grid) owned[p.owner] = (owned[p.owner] || 0) + 1;
  for (const n of nodes) {
    report.check((owned[n] || 0) > 0, `node ${n} owns partitions in the grid`, JSON.stringify(owned));
  }
  const colours = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#partitions .partition')]
      .map((p) => {
        const c = getComputedStyle(p);
        return [p.getAttribute('data-owner'), `${c.backgroundColor} ${c.borderColor} ${c.color} ${c.fill}`];
      })));
  report.check(new Set(Object.values(colours)).size === Object.keys(colours).length,
               '#partitions: a colour per owner', JSON.stringify(colours));

  // The nodes table.
  await report.step('three live nodes', async () => {
    await waitUntil(page, `table#nodes has live rows for exactly ${nodes}`, (nodes) => {
      const got = [...document.querySelectorAll('table#nodes tbody tr[data-node]')];
      const ids = got.map((tr) => tr.getAttribute('data-node')).sort();
      return JSON.stringify(ids) === JSON.stringify([...nodes].sort()) && got.every((tr) => tr.classList.contains('live'));
    }, nodes, () => [...document.querySelectorAll('table#nodes tbody tr')]
        .map((tr) => [tr.getAttribute('data-node'), tr.className]));
    report.check(true, `table#nodes: ${nodes.join(', ')}, each tr.live`);
  });
  const table = (await rows(page, 'table#nodes', 'data-node')) || [];
  report.observed.nodes = table.map((r) => ({ node: r.key, cells: r.cells, className: r.className }));
  let sum = 0;
  for (const r of table) {
    report.check(r.cells.length >= 8,
                 `node ${r.key}: 8 cells (id, state, version, heartbeat, HTTP, gRPC, peer, partitions)`,
                 JSON.stringify(r.cells));
    report.equal(r.cells[0], r.key, `node ${r.key}: id cell`);
    report.check(/^127\.0\.0\.1:\d+$/.test(r.cells[4] || ''), `node ${r.key}: HTTP address cell`,
                 JSON.stringify(r.cells[4]));
    report.check(/:\d+$/.test(r.cells[6] || ''), `node ${r.key}: peer address cell`, JSON.stringify(r.cells[6]));
    report.equal(Number(r.cells[7]), owned[r.key] || 0, `node ${r.key}: partitions cell agrees with the grid`);
    sum += Number(r.cells[7]) || 0;
  }
  report.equal(sum, partitions, 'the partitions cells add up to the partitions');

  // A rates chart per node, built as SVG.
  const charts = await page.evaluate(() => [...document.querySelectorAll('#rates [data-node]')].map((c) => ({
    node: c.getAttribute('data-node'), svg: c.tagName.toLowerCase() === 'svg' || c.querySelector('svg') !== null })));
  report.observed.rates = charts;
  report.equal(charts.map((c) => c.node).sort(), [...nodes].sort(), '#rates: one [data-node] per node');
  report.check(charts.every((c) => c.svg), '#rates: each chart is SVG', JSON.stringify(charts));
  await checkInert(session, 'the cluster');
});
