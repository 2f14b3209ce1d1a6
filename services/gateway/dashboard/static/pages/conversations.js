// Conversations: filters (agent, status, time range, text search), cursor
// paging, and per row status, duration, cost, latency and sentiment.

import { get } from '../api.js';
import { go } from '../app.js';
import * as f from '../format.js';
import { toastError } from '../toast.js';
import { field, fill, h, notice, table } from '../view.js';

const STATUSES = ['initiated', 'in-progress', 'processing', 'done', 'failed'];
const FILTERS = ['agentId', 'status', 'from', 'to', 'q'];

export async function render(main, route) {
  const query = Object.fromEntries(FILTERS.map((key) => [key, route.query.get(key) ?? '']));
  const cursor = route.query.get('cursor') ?? undefined;
  const inputs = {
    agentId: h('input', { name: 'agentId', value: query.agentId, autocomplete: 'off' }),
    status: h('select', { name: 'status' },
      h('option', { value: '' }, 'Any'),
      STATUSES.map((s) => h('option', { value: s, selected: s === query.status }, s))),
    from: h('input', { type: 'datetime-local', name: 'from', value: f.localInput(query.from) }),
    to: h('input', { type: 'datetime-local', name: 'to', value: f.localInput(query.to) }),
    q: h('input', { type: 'search', name: 'q', value: query.q, placeholder: 'Words said in the call' }),
  };
  const results = h('section', { 'aria-live': 'polite', 'aria-busy': 'true' }, h('p', {}, 'Loading…'));
  const submit = (event) => {
    event.preventDefault();
    go('conversations', {
      query: {
        agentId: inputs.agentId.value.trim(),
        status: inputs.status.value,
        from: f.rfc3339(inputs.from.value),
        to: f.rfc3339(inputs.to.value),
        q: inputs.q.value.trim(),
      },
    });
  };
  main.append(
    h('h1', {}, 'Conversations'),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter conversations', onsubmit: submit },
      field('Agent', inputs.agentId), field('Status', inputs.status), field('From', inputs.from),
      field('To', inputs.to), field('Search', inputs.q),
      h('button', { type: 'submit' }, 'Apply'),
      h('button', { type: 'button', class: 'secondary', onclick: () => go('conversations') }, 'Clear')),
    results,
  );
  let page;
  try {
    page = await get('/api/conversations', { query: { ...query, cursor } });
  } catch (error) {
    fill(results, notice(error.message));
    if (error.name !== 'Missing') toastError(error);
    results.setAttribute('aria-busy', 'false');
    return;
  }
  const rows = page.conversations ?? page.items ?? [];
  results.setAttribute('aria-busy', 'false');
  fill(results,
    rows.length ? conversationTable(rows) : h('p', {}, 'No conversations match.'),
    h('nav', { class: 'pager', 'aria-label': 'Pages of conversations' },
      cursor ? h('button', { type: 'button', class: 'secondary', onclick: () => go('conversations', { query }) }, 'First page') : null,
      page.has_more && page.next_cursor
        ? h('button', { type: 'button', onclick: () => go('conversations', { query: { ...query, cursor: page.next_cursor } }) }, 'Next page')
        : null));
}

export function conversationTable(rows) {
  return table([
    { label: 'Started', value: (c) => h('a', { href: `#/conversations/${encodeURIComponent(c.id)}` }, f.time(c.startedAt) ?? c.id) },
    { label: 'Agent', value: (c) => c.agentId },
    { label: 'Status', value: (c) => h('span', { class: f.statusClass(c.status) }, c.status) },
    { label: 'Duration', value: (c) => f.duration(c.duration), num: true },
    { label: 'Cost', value: (c) => f.credits(c.cost), num: true },
    { label: 'Latency', value: (c) => f.ms(c.metrics?.averageLatency), num: true },
    { label: 'Sentiment', value: (c) => f.sentiment(c.sentiment) },
    { label: 'Live', value: (c) => (isOpen(c.status) ? h('a', { href: `#/live/${encodeURIComponent(c.id)}` }, 'Follow') : '') },
  ], rows);
}

export function isOpen(status) {
  return status === 'initiated' || status === 'in-progress';
}
