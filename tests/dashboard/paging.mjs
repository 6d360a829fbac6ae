// Paging on the instances page (#/instances) or the entities list
// (#/entities): button#next-page walks the API's continuation tokens until
// it is disabled, every row shows on exactly one page, button#prev-page
// goes back a page.
// DASH_EXPECT: {"list": "instances" (default) or "entities",
//               "ids": ["<instance id>" or "@name@key", ...], "minPages": n, "counts": {"Completed": n}}
import { run, visit, waitUntil } from './common.mjs';

// Each list's route, its rows, and the attribute naming a row.
const LISTS = {
  instances: { hash: '#/instances', rows: 'table#instances tbody tr[data-id]', attr: 'id' },
  entities: { hash: '#/entities', rows: 'table#entities tbody tr[data-entity]', attr: 'entity' },
};

const pageIds = (page, list) => page.$$eval(list.rows, (trs, attr) => trs.map((tr) => tr.dataset[attr]), list.attr);
const disabled = (page, sel) => page.$eval(sel, (b) => b.disabled).catch(() => null);

// Clicks a paging button and waits for rows other than `before`, rendered and ready.
async function turn(page, list, name, sel, before) {
  await page.click(sel);
  await waitUntil(page, `${sel} shows other rows`, ([name, rows, attr, before]) => {
    const m = document.querySelector(`main#page[data-page="${name}"]`);
    const ids = [...document.querySelectorAll(rows)].map((tr) => tr.dataset[attr]);
    return m && m.dataset.state === 'ready' && ids.length > 0 && JSON.stringify(ids) !== JSON.stringify(before);
  }, [name, list.rows, list.attr, before]);
  return pageIds(page, list);
}

await run('paging', async (session, s) => {
  const { page, report } = session;
  const { ids, minPages, counts } = s.expect;
  const name = s.expect.list || 'instances';
  const list = LISTS[name];
  await visit(session, s, list.hash, name);
  await waitUntil(page, `${list.rows} has rows`, (rows) => document.querySelectorAll(rows).length > 0, list.rows);
  report.equal(await disabled(page, '#prev-page'), true, 'page 1: button#prev-page disabled');

  const pages = [await pageIds(page, list)];
  while ((await disabled(page, '#next-page')) === false && pages.length <= ids.length) {
    pages.push(await turn(page, list, name, '#next-page', pages.at(-1)));
  }
  report.observed.pageSizes = pages.map((p) => p.length);
  report.check(pages.length >= minPages, `at least ${minPages} pages`, `${pages.length}: ${report.observed.pageSizes}`);
  const seen = pages.flat();
  report.equal(seen.length, new Set(seen).size, `no row of ${name} on two pages`);
  report.equal([...new Set(seen)].sort(), [...ids].sort(), `every row of ${name} on some page`);
  report.equal(await disabled(page, '#next-page'), true, 'the last page: button#next-page disabled');

  if (pages.length >= 2) {
    const back = await turn(page, list, name, '#prev-page', pages.at(-1));
    report.equal(back, pages.at(-2), 'button#prev-page shows the page before again');
  }
  for (const [status, n] of Object.entries(counts || {})) {
    const shown = await page.$eval(`#status-counts [data-status="${status}"] .count`, (e) => e.textContent.trim())
        .catch(() => null);
    report.equal(shown, String(n), `#status-counts [data-status="${status}"] .count`);
  }
});
