// main.js: the dashboard's shell: the hash router, the navigation, the key
// form. Each page is a module whose mount(ctx) renders into <main id="page">;
// ctx says when the page is ready or failed (data-state), and its timers end
// when the user leaves the page.
//
// Routes (location.hash):
//   #/instances[?status=A,B&name=&id=&from=ISO&to=ISO]   (the default)
//   #/instance/<id>   #/entities[?prefix=]   #/entity/<name>/<key>
//   #/cluster   #/dead-letters

import * as api from './api.js';
import { h } from './dom.js';
import * as instances from './instances.js';
import * as instance from './instance.js';
import * as entities from './entities.js';
import * as cluster from './cluster.js';
import * as deadLetters from './dead_letters.js';

const PAGES = {
  instances: { mount: instances.mount, nav: 'instances' },
  instance: { mount: instance.mount, nav: 'instances' },
  entities: { mount: entities.mountList, nav: 'entities' },
  entity: { mount: entities.mountEntity, nav: 'entities' },
  cluster: { mount: cluster.mount, nav: 'cluster' },
  'dead-letters': { mount: deadLetters.mount, nav: 'dead-letters' },
};

const main = document.getElementById('page');
const keyForm = document.getElementById('key-form');
const keyInput = document.getElementById('key-input');
let current = null;  // the mounted page's context
let refused = false;  // the last 401 refused a key the user gave (not a missing one)

// "#/entity/Counter/c%2F1?x=1" -> {name: 'entity', parts: ['Counter', 'c/1'], params}
function parse(hash) {
  const text = hash.replace(/^#\/?/, '');
  const question = text.indexOf('?');
  const pathText = question < 0 ? text : text.slice(0, question);
  const params = new URLSearchParams(question < 0 ? '' : text.slice(question + 1));
  const parts = pathText.split('/').filter((p) => p !== '').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { name: parts.shift() || 'instances', parts, params };
}

class Context {
  constructor(route) {
    this.route = route;
    this.parts = route.parts;
    this.params = route.params;
    this.main = main;
    this.timers = new Set();
    this.left = false;
  }

  alive() {
    return !this.left && current === this;
  }

  loading() {
    if (this.alive()) main.dataset.state = 'loading';
  }

  ready() {
    if (!this.alive()) return;
    document.getElementById('page-error')?.remove();
    main.dataset.state = 'ready';
  }

  error(err) {
    if (!this.alive()) return;
    let box = document.getElementById('page-error');
    if (!box) {
      box = h('p', { id: 'page-error', class: 'page-error', role: 'alert' });
      main.prepend(box);
    }
    box.textContent = err && err.status === 401
      ? (refused ? 'The node refused that key: enter it again above.' : 'This node wants its HTTP key: enter it above.')
      : String((err && err.message) || err);
    main.dataset.state = 'error';
  }

  /** Runs `fn` once after `ms`, unless the page is left first. */
  after(ms, fn) {
    const timer = setTimeout(async () => {
      this.timers.delete(timer);
      if (!this.alive()) return;
      try {
        await fn();
      } catch (e) {
        this.error(e);
      }
    }, ms);
    this.timers.add(timer);
  }

  /** Runs `fn` every `ms` after the last run ended, until the page is left. */
  every(ms, fn) {
    const tick = async () => {
      this.timers.delete(timer);
      if (!this.alive()) return;
      try {
        if (!document.hidden) await fn();  // a tab out of sight reads nothing
      } catch (e) {
        this.error(e);
      }
      if (this.alive()) {
        timer = setTimeout(tick, ms);
        this.timers.add(timer);
      }
    };
    let timer = setTimeout(tick, ms);
    this.timers.add(timer);
  }

  leave() {
    this.left = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

async function render() {
  if (current) current.leave();
  const route = parse(location.hash);
  const page = PAGES[route.name];
  const ctx = new Context(route);
  current = ctx;
  main.replaceChildren();
  main.dataset.page = page ? route.name : 'unknown';
  main.dataset.state = 'loading';
  for (const a of document.querySelectorAll('nav a')) {
    const on = page && a.getAttribute('href') === '#/' + page.nav;
    a.classList.toggle('active', Boolean(on));
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!page) {
    ctx.error(new Error(`No page '${route.name}': see the links above.`));
    return;
  }
  try {
    await page.mount(ctx);
  } catch (e) {
    ctx.error(e);
  }
}

function showKeyForm() {
  if (!keyForm.hidden) return;
  keyForm.hidden = false;
  keyInput.value = '';
  keyInput.focus();
}

function updateKeyButton() {
  document.getElementById('forget-key').hidden = !api.key();
}

api.onUnauthorized(() => {
  refused = Boolean(api.key());
  if (refused) api.setKey('');  // the one kept is wrong
  updateKeyButton();
  showKeyForm();
});

keyForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const value = keyInput.value.trim();
  if (!value) return;
  api.setKey(value);
  keyForm.hidden = true;
  updateKeyButton();
  render();
});

document.getElementById('forget-key').addEventListener('click', () => {
  api.setKey('');
  updateKeyButton();
  render();
});

window.addEventListener('hashchange', render);
if (!location.hash) history.replaceState(null, '', '#/instances');
updateKeyButton();
render();
