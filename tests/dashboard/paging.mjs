// Paging on the instances page (#/instances): button#next-page walks the
// API's continuation tokens until it is disabled, every instance shows on
// exactly one page, button#prev-page goes back a page.
// DASH_EXPECT: {"ids": ["<id>", ...], "minPages": n, "counts": {"Completed": n}}
import { run, visit, waitUntil } from './common.mjs';

const pageIds = (page) => page.$$eval('table#instances tbody tr[data-id]', (trs) => trs.map((tr) => tr.dataset.id));
const disabled = (page, sel) => page.$eval(sel, (b) => b.disabled).catch(() => null);

// Clicks a paging button and waits for rows other than `before`, rendered and ready.
async function turn(page, sel, before) {
  await page.click(sel);
  await waitUntil(page, `${sel} shows other rows`, (before) => {
    const m = document.querySelector('main#page[data-page="instances"]');
    const ids = [...document.querySelectorAll('table#instances tbody tr[data-id]')].map((tr) => tr.dataset.id);
    return m && m.dataset.state === 'ready' && ids.length > 0 && JSON.stringify(ids) !== JSON.stringify(before);
  }, before);
  return pageIds(page);
}

await run('paging', async (session, s) => {
  const { page, report } = session;
  const { ids, minPages, counts } = s.expect;
  await visit(session, s, '#/instances', 'instances');
  await waitUntil(page, 'table#instances has rows', () =>
    document.querySelectorAll('table#instances tbody tr[data-id]').length > 0);
  report.equal(await disabled(page, '#prev-page'), true, 'page 1: button#prev-page disabled');

  const pages = [await pageIds(page)];
  while ((await disabled(page, '#next-page')) === false && pages.length <= ids.length) {
    pages.push(await turn(page, '#next-page', pages.at(-1)));
  }
  report.observed.pageSizes = pages.map((p) => p.length);
  report.check(pages.length >= minPages, `at least ${minPages} pages`, `${pages.length}: ${report.observed.pageSizes}`);
  const seen = pages.flat();
  report.equal(seen.length, new Set(seen).size, 'no instance on two pages');
  report.equal([...new Set(seen)].sort(), [...ids].sort(), 'every instance on some page');
  report.equal(await disabled(page, '#next-page'), true, 'the last page: button#next-page disabled');

  if (pages.length >= 2) {
    const back = await turn(page, '#prev-page', pages.at(-1));
    report.equal(back, pages.at(-2), 'button#prev-page shows the page before again');
  }
  for (const [status, n] of Object.entries(counts || {})) {
    const shown = await page.$eval(`#status-counts [data-status="${status}"] .count`, (e) => e.textContent.trim())
        .catch(() => null);
    report.equal(shown, String(n), `#status-counts [data-status="${status}"] .count`);
  }
});
