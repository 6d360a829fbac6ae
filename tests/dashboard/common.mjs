// Shared by the dashboard's browser tests (tests/dashboard/*.mjs, run by
// dashboard_test.cpp): Debian's chromium, headless, driven by puppeteer-core;
// the key entered once; waits on the DOM contract (main#page[data-state]);
// console errors, page errors and native dialogs collected; a screenshot.
//
// A script reads its settings from the environment (the key never on the
// command line, which ps shows):
//   DASH_URL         the dashboard's address, e.g. http://127.0.0.1:PORT/dashboard/
//   DASH_KEY         the node's --http-key (empty: the node has none)
//   DASH_EXPECT      JSON: what the page must show (each script documents its fields)
//   DASH_SCREENSHOT  where to write the page's PNG (optional)
//   DASH_TIMEOUT_MS  how long one wait lasts (15000); DASH_DEADLINE_MS the whole script (120000)
// It prints one line per check ("ok ..." or "FAIL ...") and, last, one JSON
// line {"script","ok","checks","failures":[...],"observed":{...}}; exit code
// 0 when every check passed, 1 when one failed, 2 when it could not run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export const CHROMIUM = '/usr/bin/chromium';
// Per wait: the pages refresh every 2-5 s, so 15 s is several refreshes.
export const TIMEOUT_MS = Number(process.env.DASH_TIMEOUT_MS || 15000);
// What a page of hostile data must never do (set by the payloads the test starts).
export const PWNED = '__pwned';

export function settings() {
  const url = process.env.DASH_URL;
  if (!url) throw new Error('DASH_URL is not set (the dashboard address, e.g. http://127.0.0.1:8080/dashboard/)');
  let expect = {};
  if (process.env.DASH_EXPECT) {
    try {
      expect = JSON.parse(process.env.DASH_EXPECT);
    } catch (e) {
      throw new Error(`DASH_EXPECT is not JSON: ${e.message}`);
    }
  }
  return { url, key: process.env.DASH_KEY || '', expect, screenshot: process.env.DASH_SCREENSHOT || '' };
}

// The checks of one script, and what it observed (reported to the C++ side).
export class Report {
  constructor(script) {
    this.script = script;
    this.checks = 0;
    this.failures = [];
    this.observed = {};
    this.started = Date.now();
  }
  check(ok, what, detail = '') {
    this.checks++;
    if (ok) {
      console.log(`ok   ${String(Date.now() - this.started).padStart(6)} ms  ${what}`);
    } else {
      const line = detail ? `${what}: ${detail}` : what;
      this.failures.push(line);
      console.log(`FAIL ${String(Date.now() - this.started).padStart(6)} ms  ${line}`);
    }
    return ok;
  }
  equal(actual, expected, what) {
    const a = JSON.stringify(actual), e = JSON.stringify(expected);
    return this.check(a === e, what, `got ${a}, expected ${e}`);
  }
  // Runs a step; an exception is a failed check named after the step (later steps still run).
  async step(what, fn) {
    try {
      return await fn();
    } catch (e) {
      if (!e || !e.reported) this.check(false, what, String(e && e.message ? e.message : e).split('\n')[0]);
      // A page that never came up: the later steps could only time out too.
      if (e && e.fatal) {
        e.reported = true;
        throw e;
      }
      return undefined;
    }
  }
  finish() {
    const ok = this.failures.length === 0;
    console.log(JSON.stringify({ script: this.script, ok, checks: this.checks, failures: this.failures,
                                 observed: this.observed }));
    return ok ? 0 : 1;
  }
}

// A page of a fresh headless chromium (its own profile folder, no network
// beyond the node), with the collectors the checks read:
//   session.consoleErrors  console messages of type error (text and URL)
//   session.pageErrors     uncaught exceptions in the page
//   session.dialogs        native alert/confirm/prompt opened (dismissed at once)
//   session.requests       every request: method and URL
export async function open(report) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'durable-dashboard-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    pipe: true,  // chromium ends when this process does, however it ends
    userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run', '--disable-extensions', '--disable-default-apps',
           '--window-size=1400,900'],
    defaultViewport: { width: 1400, height: 900 },
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const session = { browser, page, profile, report, consoleErrors: [], pageErrors: [], dialogs: [], requests: [],
                    keyPhase: false };
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location() && m.location().url ? ` (${m.location().url})` : '';
    // Before the key is entered the API answers 401, which chromium logs as a
    // failed resource load: that one is the prompt's cause, not a page error.
    if (session.keyPhase && /status of 401/.test(m.text())) return;
    // Likewise a step that asks for a refusal on purpose (session.expectStatus: 404, 409).
    const status = /status of (\d{3})/.exec(m.text());
    if (status && session.expectStatus === Number(status[1])) return;
    session.consoleErrors.push(m.text() + where);
  });
  page.on('pageerror', (e) => session.pageErrors.push(String(e && e.message ? e.message : e)));
  page.on('dialog', async (d) => {
    session.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('request', (r) => session.requests.push({ method: r.method(), url: r.url() }));
  return session;
}

export async function close(session) {
  await session.browser.close().catch(() => {});
  fs.rmSync(session.profile, { recursive: true, force: true });
}

// Runs `body(session, settings)` in a fresh browser, then the checks every
// page shares (no console error, page error or native dialog, nothing the
// hostile payloads would set, the key never in a URL); exits with the code.
export async function run(script, body) {
  const report = new Report(script);
  let session;
  let code;
  try {
    const s = settings();
    const deadline = Number(process.env.DASH_DEADLINE_MS || 120000);
    setTimeout(() => {
      report.check(false, `the script's deadline (${deadline} ms) passed`);
      console.log(JSON.stringify({ script, ok: false, checks: report.checks, failures: report.failures,
                                   observed: report.observed }));
      process.kill(process.pid, 'SIGTERM');  // puppeteer closes chromium on SIGTERM
    }, deadline).unref();
    session = await open(report);
    await report.step('the page script', () => body(session, s)).catch(() => {});
    await report.step('the shared checks', () => sharedChecks(session, s));
    await report.step(`screenshot ${s.screenshot}`, () => screenshot(session, s.screenshot));
    code = report.finish();
  } catch (e) {
    console.log(`FAIL could not run: ${e && e.stack ? e.stack : e}`);
    code = 2;
  } finally {
    if (session) await close(session);
  }
  process.exit(code);
}

async function sharedChecks(session, s) {
  const { report } = session;
  report.equal(session.consoleErrors, [], 'no console error');
  report.equal(session.pageErrors, [], 'no uncaught page error');
  report.equal(session.dialogs, [], 'no native dialog opened');
  // Actions are POSTs and DELETEs, never GETs.
  const actionGets = session.requests.filter((r) => r.method === 'GET' &&
      /\/(terminate|suspend|resume|rewind|restart|raiseEvent|retry)(\/|\?|$)/.test(new URL(r.url).pathname));
  report.equal(actionGets.map((r) => r.url), [], 'no action sent as a GET');
  if (s.key) {
    const leaks = session.requests.filter((r) => r.url.includes(encodeURIComponent(s.key)) || r.url.includes(s.key));
    report.equal(leaks.map((r) => `${r.method} ${r.url}`), [], 'the key is in no request URL');
    const cookies = await session.page.cookies();
    report.equal(cookies.filter((c) => c.value.includes(s.key)).map((c) => c.name), [], 'the key is in no cookie');
  }
  await checkInert(session, 'at the end');
}

// Nothing of the hostile payloads ran or was parsed as markup: no flag set,
// no inline script, no event-handler attribute, no image of theirs.
export async function checkInert(session, when) {
  const found = await session.page.evaluate((flag) => ({
    flag: typeof window[flag],
    inlineScripts: document.querySelectorAll('script:not([src])').length,
    handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name)))
        .map((e) => e.outerHTML.slice(0, 120)),
    images: [...document.querySelectorAll('img')].filter((i) => i.getAttribute('src') === 'x').length,
    svgs: [...document.querySelectorAll('svg')].filter((e) => e.hasAttribute('onload')).length,
  }), PWNED);
  session.report.equal(found, { flag: 'undefined', inlineScripts: 0, handlers: [], images: 0, svgs: 0 },
                       `nothing injected ran or was parsed (${when})`);
}

export async function screenshot(session, file) {
  if (!file) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await session.page.screenshot({ path: file, fullPage: true });
}

// The dashboard URL for a route ("#/instances", ...).
export function route(s, hash) {
  return s.url.replace(/#.*$/, '') + hash;
}

// Goes to a route and waits until the page named `name` is ready; the first
// visit (no key kept yet) must show #key-form, which gets the key. Returns
// whether a key was asked for. A page in state "error" fails with #page-error.
export async function visit(session, s, hash, name) {
  const first = session.visited === undefined;
  session.visited = true;
  try {
    return await arrive(session, s, hash, name, first);
  } catch (e) {
    e.fatal = first;  // the page never came up: later visits would only time out too
    throw e;
  } finally {
    session.keyPhase = false;
  }
}

async function arrive(session, s, hash, name, first) {
  const { page } = session;
  let asked = false;
  if (first) {
    session.keyPhase = true;
    await page.goto(route(s, hash), { waitUntil: 'domcontentloaded' });
    if (s.key) {
      await page.waitForSelector('#key-form', { visible: true }).catch(() => {
        throw new Error('the first visit with a key set shows no visible #key-form');
      });
      await enterKey(page, s.key);
      asked = true;
    }
    session.keyPhase = false;
  } else {
    await page.evaluate((h) => { window.location.hash = h; }, hash);
  }
  await waitReady(session, name);
  if (!first) {
    const form = await page.$('#key-form');
    const shown = form ? await form.isVisible() : false;
    session.report.check(!shown, `#/${name}: the key is not asked for again`);
  }
  return asked;
}

export async function enterKey(page, key) {
  await page.$eval('#key-input', (i) => { i.value = ''; });
  await page.type('#key-input', key);
  await page.click('#key-submit');
}

// Waits for main#page[data-page=name] to be "ready" (or "error": thrown with #page-error's text).
export async function waitReady(session, name) {
  const { page } = session;
  const sel = `main#page[data-page="${name}"]`;
  await page.waitForFunction((sel) => {
    const m = document.querySelector(sel);
    return m && (m.dataset.state === 'ready' || m.dataset.state === 'error');
  }, { timeout: TIMEOUT_MS }, sel).catch(async () => {
    const now = await page.evaluate(() => {
      const m = document.querySelector('main#page');
      return m ? `main#page data-page="${m.dataset.page}" data-state="${m.dataset.state}"` : 'no main#page';
    });
    throw new Error(`${sel} never became ready or error within ${TIMEOUT_MS} ms (now: ${now})`);
  });
  const state = await page.$eval(sel, (m) => m.dataset.state);
  if (state === 'error') {
    const text = await page.$eval('#page-error', (e) => e.textContent).catch(() => '(no #page-error)');
    throw new Error(`${sel} is in state "error": ${text}`);
  }
}

// Polls `fn(arg)` in the page until it returns something truthy; on timeout
// throws naming `what` and the last value of `describe(arg)` (for the message).
export async function waitUntil(page, what, fn, arg, describe) {
  try {
    const h = await page.waitForFunction(fn, { timeout: TIMEOUT_MS, polling: 100 }, arg);
    return await h.jsonValue();
  } catch (e) {
    const last = describe ? await page.evaluate(describe, arg).catch((x) => String(x)) : '';
    throw new Error(`${what} within ${TIMEOUT_MS} ms${last ? `; last seen: ${JSON.stringify(last)}` : ''}`);
  }
}

// The rows of a table as {attr: value, cells: [text...]} (attr: the row's data attribute).
export async function rows(page, tableSel, attr) {
  return page.evaluate((tableSel, attr) => {
    const t = document.querySelector(tableSel);
    if (!t) return null;
    return [...t.querySelectorAll('tbody tr')].map((tr) => ({
      key: tr.getAttribute(attr),
      cells: [...tr.cells].map((c) => c.textContent.trim()),
      links: [...tr.querySelectorAll('a')].map((a) => a.getAttribute('href')),
      className: tr.className,
    }));
  }, tableSel, attr);
}

// A call of the node's API from node (not the page), with the key as Bearer.
export async function api(s, pathAndQuery, method = 'GET', body = undefined) {
  const base = new URL(s.url);
  const headers = s.key ? { Authorization: `Bearer ${s.key}` } : {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${base.origin}/runtime/webhooks/durabletask${pathAndQuery}`,
                          { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let answer = text;
  try { answer = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: answer };
}
