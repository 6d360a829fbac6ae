// The entities list (#/entities) and an entity's page (#/entity/<name>/<key>)
// against real entities: a counter's value after the test's signals, a
// signal sent from the page's form, hostile keys and states shown as text.
// DASH_EXPECT: {
//   "list": {"prefix", "entities": ["@name@key", ...]}   exactly these rows after a search by prefix
//   "values": [{"name", "key", "state": <JSON>, "text": ["literal", ...]}]  pre#entity-state
//   "signal": {"name", "key", "op", "input": "<JSON text>", "state": <JSON>}  sent from the form, then shown
//   "screenshot": {"name", "key"}                        the entity shown last
// }
import { run, visit, waitUntil, rows, checkInert, waitReady, TIMEOUT_MS } from './common.mjs';

const entityHash = (name, key) => `#/entity/${encodeURIComponent(name)}/${encodeURIComponent(key)}`;
const label = (e) => JSON.stringify(`@${e.name}@${e.key}`);

async function showEntity(session, s, e) {
  await visit(session, s, entityHash(e.name, e.key), 'entity');
  // Pages of one kind share data-page: wait for this entity's state to be rendered.
  await waitUntil(session.page, `${label(e)}: main#page ready on its route`, (hash) =>
    decodeURIComponent(window.location.hash) === decodeURIComponent(hash) &&
    document.querySelector('main#page[data-page="entity"]')?.dataset.state === 'ready' &&
    document.querySelector('pre#entity-state') !== null, entityHash(e.name, e.key),
  () => document.querySelector('main#page')?.dataset.state);
}

async function stateOf(page) {
  const raw = await page.$eval('pre#entity-state', (p) => p.textContent).catch(() => null);
  try { return { raw, json: JSON.parse(raw) }; } catch { return { raw, json: undefined }; }
}

await run('entity', async (session, s) => {
  const { page, report } = session;
  const { list, values, signal, screenshot } = s.expect;

  if (list) {
    await report.step(`entities with prefix ${list.prefix}`, async () => {
      await visit(session, s, '#/entities', 'entities');
      await page.$eval('#entity-prefix', (i) => { i.value = ''; });
      await page.type('#entity-prefix', list.prefix);
      await page.click('#entity-search');
      await waitUntil(page, `table#entities shows exactly ${JSON.stringify(list.entities)}`, (want) => {
        const got = [...document.querySelectorAll('table#entities tbody tr[data-entity]')]
            .map((tr) => tr.getAttribute('data-entity')).sort();
        return JSON.stringify(got) === JSON.stringify([...want].sort());
      }, list.entities, () => [...document.querySelectorAll('table#entities tbody tr')]
          .map((tr) => tr.getAttribute('data-entity')));
      report.check(true, `table#entities lists the ${list.entities.length} entities of prefix ${list.prefix}`);
      const table = await rows(page, 'table#entities', 'data-entity');
      report.observed.entities = table.map((r) => r.key);
      for (const r of table) {
        const [, name, key] = r.key.match(/^@([^@]*)@(.*)$/) || [];
        report.equal(r.cells.slice(0, 2), [name, key], `${JSON.stringify(r.key)}: name and key cells (as text)`);
        report.check(r.links.includes(entityHash(name, key)), `${JSON.stringify(r.key)}: its key links to its page`,
                     JSON.stringify(r.links));
      }
      await checkInert(session, 'the entities list');
    });
  }

  for (const e of values || []) {
    await report.step(`entity ${label(e)}`, async () => {
      await showEntity(session, s, e);
      const st = await stateOf(page);
      report.observed[`@${e.name}@${e.key}`] = st.raw;
      report.equal(st.json, e.state, `${label(e)}: pre#entity-state`);
      for (const lit of e.text || []) {
        report.check((st.raw || '').includes(lit), `${label(e)}: pre#entity-state holds ${JSON.stringify(lit)} as text`,
                     JSON.stringify(st.raw));
      }
      report.equal(await page.$eval('#entity-lock', (x) => x.textContent.trim()).catch(() => null), 'none',
                   `${label(e)}: #entity-lock`);
      await checkInert(session, `@${e.name}@${e.key}`);
    });
  }

  if (signal) {
    await report.step(`signal ${label(signal)} ${signal.op}`, async () => {
      await showEntity(session, s, signal);
      await page.$eval('#signal-op', (i) => { i.value = ''; });
      await page.type('#signal-op', signal.op);
      await page.$eval('#signal-input', (i) => { i.value = ''; });
      await page.type('#signal-input', signal.input);
      const before = session.requests.length;
      await page.click('#signal-send');
      const ok = await waitUntil(page, '#signal-result[data-ok] after #signal-send', () =>
        document.querySelector('#signal-result[data-ok]')?.getAttribute('data-ok') ?? false, null,
      () => document.querySelector('#signal-result')?.outerHTML);
      report.equal(ok, 'true', `${label(signal)}: #signal-result data-ok`);
      const sent = session.requests.slice(before)
          .filter((r) => r.url.includes('/runtime/webhooks/durabletask/entities/'));
      report.equal(sent.map((r) => r.method), ['POST'], `${label(signal)}: the signal is one POST`);
      // The signal runs on the entity's node; reload until the page shows its result.
      let st;
      for (const deadline = Date.now() + TIMEOUT_MS; Date.now() < deadline;) {
        st = await stateOf(page);
        if (JSON.stringify(st.json) === JSON.stringify(signal.state)) break;
        await page.reload({ waitUntil: 'domcontentloaded' });
        await waitReady(session, 'entity');
      }
      report.equal(st && st.json, signal.state, `${label(signal)}: pre#entity-state after the page's signal`);
      const form = await page.$('#key-form');
      report.check(!(form && await form.isVisible()), 'a reload keeps the key (no #key-form)');
    });
  }

  if (screenshot) await report.step('screenshot page', () => showEntity(session, s, screenshot));
});
