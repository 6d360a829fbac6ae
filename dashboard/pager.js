// pager.js: paging through the API's continuation tokens: the Previous and
// Next buttons, the page number, and the token of the page shown (a stack
// of the tokens that led to it, so Previous goes back).

import * as api from './api.js';
import { h } from './dom.js';

/**
 * A pager whose buttons move a page and then call `load()` (a promise; a
 * rejection goes to `onError`). `element` is the bar to show; `headers()`
 * the request headers of the page shown; `update(res)` takes the answer's
 * next-page token and sets the buttons and the page number.
 */
export function pager(load, onError) {
  const tokens = [''];  // the token of each page up to this one: tokens.at(-1) is this page's
  let nextToken = '';
  const prev = h('button', { id: 'prev-page', type: 'button', disabled: true }, '‹ Previous');
  const next = h('button', { id: 'next-page', type: 'button', disabled: true }, 'Next ›');
  const label = h('span', { class: 'page-number' });
  next.addEventListener('click', () => {
    if (!nextToken) return;
    tokens.push(nextToken);
    load().catch(onError);
  });
  prev.addEventListener('click', () => {
    if (tokens.length <= 1) return;
    tokens.pop();
    load().catch(onError);
  });
  return {
    element: h('div', { class: 'pager' }, prev, label, next),
    headers: () => (tokens.at(-1) ? { [api.CONTINUATION]: tokens.at(-1) } : {}),
    update(res) {
      nextToken = res.headers.get(api.CONTINUATION) || '';
      prev.disabled = tokens.length <= 1;
      next.disabled = !nextToken;
      label.textContent = `page ${tokens.length}`;
    },
  };
}
