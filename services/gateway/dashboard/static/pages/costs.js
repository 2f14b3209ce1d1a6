// Cost over time, per user (the seed's cost route and metrics) and per
// agent (its stats, and its conversations summed per day): credits,
// minutes, cost per minute and latency.

import { get, serves, session } from '../api.js';
import { go } from '../app.js';
import { lineChart } from '../chart.js';
import * as f from '../format.js';
import { toastError } from '../toast.js';
import { facts, field, h, notice } from '../view.js';

// How many pages of an agent's conversations the per-day view reads.
const AGENT_PAGES_MAX = 5;
const DAY_SECS = 86400;

export async function render(main, route) {
  const q = route.query;
  const charts = [];
  const user = h('input', { name: 'userId', value: q.get('userId') ?? session.me.userId, autocomplete: 'off', spellcheck: 'false' });
  const from = h('input', { type: 'date', name: 'from', value: q.get('from') ?? '' });
  const to = h('input', { type: 'date', name: 'to', value: q.get('to') ?? '' });
  const period = h('select', { name: 'period' },
    ['day', 'month'].map((p) => h('option', { value: p, selected: p === (q.get('period') ?? 'day') }, p)));
  const agent = h('input', { name: 'agentId', value: q.get('agentId') ?? '', autocomplete: 'off', spellcheck: 'false' });
  const apply = (event) => {
    event.preventDefault();
    go('costs', { query: { userId: user.value.trim(), from: from.value, to: to.value, period: period.value, agentId: agent.value.trim() } });
  };
  const userSection = h('section', { 'aria-labelledby': 'user-h', 'aria-busy': 'true' }, h('h2', { id: 'user-h' }, 'Per user'));
  const agentSection = h('section', { 'aria-labelledby': 'agent-h', 'aria-busy': 'true' }, h('h2', { id: 'agent-h' }, 'Per agent'));
  main.append(
    h('h1', {}, 'Cost over time'),
    h('form', { class: 'filters', onsubmit: apply },
      field('User id', user), field('From', from), field('To', to), field('Period', period), field('Agent id', agent),
      h('button', { type: 'submit' }, 'Show')),
    userSection,
    agentSection,
  );
  const chart = (options) => {
    const made = lineChart(options);
    charts.push(made);
    return made.figure;
  };
  const userId = user.value.trim();
  await Promise.all([
    userCosts(userSection, chart, userId, { from: from.value, to: to.value, period: period.value }),
    agent.value.trim() ? agentCosts(agentSection, chart, agent.value.trim()) : agentSection.append(h('p', { class: 'muted' }, 'Enter an agent id to see its figures.')),
  ]);
  agentSection.setAttribute('aria-busy', 'false');
  return () => charts.forEach((c) => c.destroy());
}

async function userCosts(section, chart, userId, query) {
  try {
    const [cost, metrics] = await Promise.all([
      get('/api/users/{userId}/conversation-cost', { params: { userId }, query }),
      serves('GET', '/api/users/{userId}/metrics') ? get('/api/users/{userId}/metrics', { params: { userId }, query: { from: query.from, to: query.to } }) : null,
    ]);
    const t = cost.totals ?? {};
    section.append(facts([
      ['Conversations', f.num(t.conversations), 'conversations'],
      ['Credits', f.credits(t.credits), 'credits'],
      ['Money', t.money !== undefined ? `${f.num(t.money)} ${cost.currency ?? ''}` : null, 'money'],
      ['Minutes', f.num(t.minutes), 'minutes'],
      ['Cost per minute', f.num(t.costPerMinute, ' credits/min'), 'cost-per-minute'],
      ['Average latency', metrics ? f.ms(metrics.averageLatency) : null, 'average-latency'],
      ['Messages', metrics ? f.num(metrics.messageCount) : null, 'message-count'],
    ]));
    const periods = cost.periods ?? [];
    if (!periods.length) {
      section.append(h('p', {}, 'No conversations in this window.'));
      return;
    }
    const x = periods.map((p) => Date.parse(p.start) / 1000);
    // A period's figures sit beside its key (older shapes nested them).
    const of = (pick) => periods.map((p) => pick({ ...p, ...p.figures }));
    section.append(h('div', { class: 'charts' },
      chart({ title: 'Credits', x, series: [{ label: 'credits', values: of((p) => p.credits) }] }),
      chart({ title: 'Minutes', x, series: [{ label: 'minutes', values: of((p) => p.minutes) }] }),
      chart({ title: 'Cost per minute', x, series: [{ label: 'credits/min', values: of((p) => p.costPerMinute) }] }),
      chart({ title: 'Average latency', x, unit: ' ms', series: [{ label: 'ms per turn', values: of((p) => p.averageLatency) }] })));
  } catch (error) {
    section.append(notice(error.status === 404 ? 'No such user, or not yours to see.' : error.message));
    if (error.name !== 'Missing' && error.status !== 404) toastError(error);
  } finally {
    section.setAttribute('aria-busy', 'false');
  }
}

async function agentCosts(section, chart, agentId) {
  try {
    const stats = await get('/api/agents/{agentId}/stats', { params: { agentId } });
    const l = stats.latency ?? {};
    section.append(
      h('p', { class: 'muted' }, stats.coverage === 'own' ? 'Over your own conversations with this agent.' : 'Over every user’s conversations with this agent.'),
      facts([
        ['Calls', f.num(stats.calls), 'calls'],
        ['Success rate', stats.analyzed ? f.num(stats.successRate * 100, ' %') : null, 'success-rate'],
        ['Average duration', f.duration(stats.averageDuration), 'average-duration'],
        ['Credits', f.credits(stats.credits), 'agent-credits'],
        ['Latency p50', f.ms(l.p50), 'p50'],
        ['Latency p90', f.ms(l.p90), 'p90'],
        ['Latency p99', f.ms(l.p99), 'p99'],
      ]));
  } catch (error) {
    section.append(notice(error.status === 404 ? 'No conversations with this agent that you may see.' : error.message));
    if (error.name !== 'Missing' && error.status !== 404) toastError(error);
  }
  if (!serves('GET', '/api/conversations')) return;
  try {
    const days = await perDay(agentId);
    if (!days.length) return;
    const x = days.map((d) => d.day);
    section.append(
      h('h3', {}, 'Per day'),
      h('p', { class: 'muted' }, 'Summed from the agent’s conversations; latency percentiles are over each call’s average turn latency.'),
      h('div', { class: 'charts' },
        chart({ title: 'Agent credits', x, series: [{ label: 'credits', values: days.map((d) => d.credits) }] }),
        chart({ title: 'Agent minutes', x, series: [{ label: 'minutes', values: days.map((d) => d.minutes) }] }),
        chart({ title: 'Agent cost per minute', x, series: [{ label: 'credits/min', values: days.map((d) => (d.minutes ? d.credits / d.minutes : 0)) }] }),
        chart({
          title: 'Agent latency',
          x,
          unit: ' ms',
          series: ['p50', 'p90', 'p99'].map((p) => ({ label: p, values: days.map((d) => d[p]) })),
        })));
  } catch (error) {
    if (error.name !== 'Missing') toastError(error);
  }
}

async function perDay(agentId) {
  const byDay = new Map();
  let cursor;
  for (let page = 0; page < AGENT_PAGES_MAX; page += 1) {
    const found = await get('/api/conversations', { query: { agentId, cursor, page_size: 100 } });
    for (const c of found.conversations ?? []) {
      const day = Math.floor(Date.parse(c.startedAt) / 1000 / DAY_SECS) * DAY_SECS;
      const entry = byDay.get(day) ?? { day, credits: 0, minutes: 0, latencies: [] };
      entry.credits += c.cost ?? 0;
      entry.minutes += (c.duration ?? 0) / 60;
      if (c.metrics?.averageLatency) entry.latencies.push(c.metrics.averageLatency);
      byDay.set(day, entry);
    }
    if (!found.has_more) break;
    cursor = found.next_cursor;
  }
  return [...byDay.values()].sort((a, b) => a.day - b.day).map((d) => {
    const sorted = d.latencies.sort((a, b) => a - b);
    const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : null);
    return { ...d, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
  });
}
