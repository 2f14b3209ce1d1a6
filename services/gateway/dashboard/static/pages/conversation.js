// One conversation: its facts and cost, messages, metrics, analysis,
// sentiment and the ledger entries booked for it.

import { get } from '../api.js';
import * as f from '../format.js';
import { toastError } from '../toast.js';
import { add, facts, h, notice, table } from '../view.js';
import { isOpen } from './conversations.js';

export async function render(main, route) {
  main.append(h('p', { class: 'muted' }, h('a', { href: '#/conversations' }, '← All conversations')));
  let c;
  try {
    c = await get('/api/conversations/{id}', { params: { id: route.id } });
  } catch (error) {
    main.append(h('h1', {}, 'Conversation'), notice(error.status === 404 ? 'There is no such conversation, or it is not yours.' : error.message));
    if (error.name !== 'Missing' && error.status !== 404) toastError(error);
    return;
  }
  const m = c.metrics ?? {};
  add(main,
    h('h1', {}, `Conversation ${c.id}`),
    isOpen(c.status) ? h('p', {}, h('a', { href: `#/live/${encodeURIComponent(c.id)}` }, 'Follow this call live')) : null,
    h('section', { class: 'panel', 'aria-labelledby': 'facts-h' },
      h('h2', { id: 'facts-h' }, 'Summary'),
      facts([
        ['Status', h('span', { class: f.statusClass(c.status) }, c.status), 'status'],
        ['Cost', f.credits(c.cost), 'cost'],
        ['Duration', f.duration(c.duration), 'duration'],
        ['Agent', c.agentId, 'agent'],
        ['User', c.userId, 'user'],
        ['Started', f.time(c.startedAt), 'started'],
        ['Ended', f.time(c.endedAt), 'ended'],
        ['Sentiment', f.sentiment(c.sentiment), 'sentiment'],
        ['ElevenLabs id', c.elevenlabsConversationId, 'elevenlabs-id'],
      ])),
    h('section', { 'aria-labelledby': 'metrics-h' },
      h('h2', { id: 'metrics-h' }, 'Metrics'),
      facts([
        ['Messages', f.num(m.messageCount), 'message-count'],
        ['Average latency', f.ms(m.averageLatency), 'average-latency'],
        ['Total latency', f.ms(m.totalLatency), 'total-latency'],
        ['Credits used', f.credits(m.creditsUsed), 'credits-used'],
        ['Cost per minute', f.num(m.costPerMinute, ' credits/min'), 'cost-per-minute'],
      ])),
    h('section', { 'aria-labelledby': 'messages-h' },
      h('h2', { id: 'messages-h' }, 'Messages'),
      c.messages?.length ? transcript(c.messages) : h('p', {}, 'Nothing was said.')),
    h('section', { 'aria-labelledby': 'analysis-h' },
      h('h2', { id: 'analysis-h' }, 'Analysis'),
      analysis(c.analysis)),
    h('section', { 'aria-labelledby': 'ledger-h' },
      h('h2', { id: 'ledger-h' }, 'Ledger trail'),
      c.ledger?.length
        ? table([
          { label: 'When', value: (e) => f.time(e.occurredAt) },
          { label: 'Event', value: (e) => e.eventType },
          { label: 'Account', value: (e) => e.account },
          { label: 'Credits', value: (e) => f.num(e.credits), num: true },
          { label: 'Sequence', value: (e) => e.sequence, num: true },
        ], c.ledger)
        : h('p', {}, 'No ledger entries yet.')),
  );
}

export function transcript(messages) {
  return h('ol', { class: 'transcript' }, messages.map(messageItem));
}

export function messageItem(m) {
  const role = m.role === 'user' ? 'user' : 'agent';
  const details = [
    m.timeInCallSecs !== undefined ? `at ${f.duration(m.timeInCallSecs)}` : null,
    m.latencyMs ? `${m.latencyMs} ms` : null,
    m.interrupted ? 'interrupted' : null,
  ].filter(Boolean).join(' · ');
  return h('li', { class: role },
    h('span', { class: 'who-said' }, role === 'user' ? 'User' : 'Agent', details ? h('span', { class: 'muted' }, ` · ${details}`) : null),
    m.message ?? m.text ?? '');
}

function analysis(value) {
  if (!value || (typeof value === 'object' && !Object.keys(value).length)) return h('p', {}, 'No analysis reported yet.');
  if (typeof value !== 'object') return h('p', {}, String(value));
  return facts(Object.entries(value).map(([key, v]) => [
    key.replace(/_/g, ' '),
    typeof v === 'object' && v !== null ? h('pre', {}, JSON.stringify(v, null, 2)) : String(v),
    key,
  ]));
}
