// The live view: follows a running call over server-sent events
// (`GET /api/conversations/{id}/live`), showing its status and each line as
// it is said.

import { Missing, serves, url } from '../api.js';
import { go } from '../app.js';
import * as f from '../format.js';
import { follow } from '../sse.js';
import { toastError } from '../toast.js';
import { field, fill, h, notice } from '../view.js';
import { messageItem } from './conversation.js';

const LIVE = '/api/conversations/{id}/live';
const FINAL = new Set(['processing', 'done', 'failed']);

export function render(main, route) {
  const idInput = h('input', { name: 'id', value: route.id ?? '', autocomplete: 'off', required: true, spellcheck: 'false' });
  main.append(
    h('h1', {}, 'Live call'),
    h('form', { class: 'inline', onsubmit: (event) => { event.preventDefault(); go('live', { id: idInput.value.trim() }); } },
      field('Conversation id', idInput),
      h('button', { type: 'submit' }, 'Follow')),
  );
  if (!route.id) {
    main.append(h('p', { class: 'muted' }, 'Enter the id of a running conversation, or start one on the Talk page.'));
    return undefined;
  }
  if (!serves('GET', LIVE)) {
    main.append(notice(new Missing('GET', LIVE).message));
    return undefined;
  }
  const state = h('span', { class: f.statusClass('initiated') }, 'connecting');
  const connection = h('p', { 'aria-live': 'polite' }, 'Status: ', state);
  const lines = h('ol', { class: 'transcript', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const empty = h('p', { class: 'muted' }, 'Waiting for the first words…');
  main.append(
    connection,
    h('p', {}, h('a', { href: `#/conversations/${encodeURIComponent(route.id)}` }, 'Open the conversation')),
    h('section', { 'aria-labelledby': 'live-h' }, h('h2', { id: 'live-h' }, 'Transcript'), empty, lines),
  );
  const setStatus = (status) => {
    state.className = f.statusClass(status);
    fill(state, status);
    main.dataset.status = status;
  };
  const abort = new AbortController();
  follow(url(LIVE, { params: { id: route.id } }), {
    signal: abort.signal,
    onOpen: () => setStatus('following'),
    onEvent: ({ event, data }) => {
      const said = message(event, data);
      if (said) {
        empty.remove();
        lines.append(messageItem(said));
      }
      const status = data?.status ?? (event === 'status' && typeof data === 'string' ? data : undefined);
      if (status) setStatus(status);
    },
  }).then(() => {
    if (!FINAL.has(main.dataset.status)) setStatus('ended');
  }, (error) => {
    if (error.name === 'AbortError') return;
    setStatus('unavailable');
    main.append(notice(error.status === 404 ? 'There is no such conversation, or it is not yours.' : error.message));
    if (error.status !== 404) toastError(error);
  });
  return () => abort.abort();
}

// A said line from an event, whichever of the live route's shapes it is.
function message(event, data) {
  if (!data || typeof data !== 'object') return null;
  const inner = data.message && typeof data.message === 'object' ? data.message : data;
  const text = typeof inner.message === 'string' ? inner.message : inner.text;
  if (typeof text !== 'string') return null;
  const role = inner.role ?? (/user/.test(event) ? 'user' : 'agent');
  return { ...inner, role, message: text };
}
