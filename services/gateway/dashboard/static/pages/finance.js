// For finance: the reconciliation report with its flags, and exports of
// conversations and ledger entries (CSV or NDJSON).

import { get, request, serves } from '../api.js';
import { go } from '../app.js';
import * as f from '../format.js';
import { toast, toastError } from '../toast.js';
import { facts, field, fill, h, notice, table } from '../view.js';

const EXPORTS = [
  ['conversations', 'Conversations', '/api/exports/conversations'],
  ['ledger', 'Ledger entries', '/api/exports/ledger'],
];
const FORMATS = [['csv', 'text/csv'], ['ndjson', 'application/x-ndjson']];

export async function render(main, route) {
  const from = h('input', { type: 'date', name: 'from', value: route.query.get('from') ?? '' });
  const to = h('input', { type: 'date', name: 'to', value: route.query.get('to') ?? '' });
  const flaggedOnly = h('input', { type: 'checkbox', name: 'flagged', checked: route.query.get('flagged') === '1' });
  const report = h('section', { 'aria-labelledby': 'recon-h', 'aria-busy': 'true' }, h('h2', { id: 'recon-h' }, 'Reconciliation'));
  const span = { from: from.value || undefined, to: to.value || undefined };
  main.append(
    h('h1', {}, 'Finance'),
    h('form', {
      class: 'filters',
      onsubmit: (event) => {
        event.preventDefault();
        go('finance', { query: { from: from.value, to: to.value, flagged: flaggedOnly.checked ? '1' : '' } });
      },
    },
    field('From', from), field('To', to),
    h('label', { class: 'check' }, h('span', {}, 'Only flagged'), flaggedOnly),
    h('button', { type: 'submit' }, 'Show')),
    report,
    exportsPanel(span),
  );
  try {
    const r = await get('/api/ledger/reconciliation', { query: span });
    reconciliation(report, r, flaggedOnly.checked);
  } catch (error) {
    report.append(notice(error.message));
    if (error.name !== 'Missing') toastError(error);
  } finally {
    report.setAttribute('aria-busy', 'false');
  }
}

function flagged(line) {
  return (line.flags?.length ?? 0) + (line.issues?.length ?? 0) > 0;
}

function reconciliation(section, r, onlyFlagged) {
  const t = r.totals ?? {};
  const trial = r.trial_balance?.total;
  section.append(
    facts([
      ['Conversations', f.num(t.conversations), 'conversations'],
      ['Estimated', f.credits(t.estimate), 'estimate'],
      ['Charged', f.credits(t.final_charge), 'final-charge'],
      ['Reported by ElevenLabs', f.credits(t.reported), 'reported'],
      ['Difference', f.credits(t.difference), 'difference'],
      ['Flagged', f.num(t.flagged), 'flagged'],
      ['Amount', t.amount !== undefined ? String(t.amount) : null, 'amount'],
      ['Trial balance', trial === 0 ? '0 (balanced)' : h('span', { class: 'flag' }, `${trial} — does not balance`), 'trial-balance'],
    ]));
  const lines = (r.conversations ?? []).filter((l) => !onlyFlagged || flagged(l));
  section.append(
    h('h3', {}, onlyFlagged ? 'Flagged conversations' : 'Conversations'),
    lines.length ? table([
      { label: 'Conversation', value: (l) => h('code', {}, l.conversation_id) },
      { label: 'User', value: (l) => l.user_id },
      { label: 'Held', value: (l) => f.num(l.held), num: true },
      { label: 'Estimate', value: (l) => f.num(l.estimate), num: true },
      { label: 'Charged', value: (l) => f.num(l.final_charge), num: true },
      { label: 'Reported', value: (l) => f.num(l.reported), num: true },
      { label: 'Difference', value: (l) => f.num(l.difference), num: true },
      { label: 'Cause', value: (l) => l.cause?.replace(/_/g, ' ') },
      { label: 'Flags', value: (l) => (flagged(l) ? h('span', { class: 'flag' }, [...(l.flags ?? []), ...(l.issues ?? [])].map(word).join(', ')) : 'none') },
    ], lines) : h('p', {}, onlyFlagged ? 'Nothing is flagged.' : 'No conversations in this window.'));
  for (const [key, title] of [['no_cost_report', 'Ended without a cost report'], ['charges_without_conversation', 'Charges without a conversation']]) {
    const ids = r[key] ?? [];
    if (ids.length) section.append(h('h3', {}, title), h('ul', {}, ids.map((id) => h('li', {}, h('code', {}, id)))));
  }
  const users = r.users ?? [];
  if (users.length) {
    section.append(h('h3', {}, 'Per user'), table([
      { label: 'User', value: (u) => u.user_id },
      { label: 'Conversations', value: (u) => f.num(u.conversations), num: true },
      { label: 'Charged', value: (u) => f.num(u.final_charge), num: true },
      { label: 'Difference', value: (u) => f.num(u.difference), num: true },
      { label: 'Flagged', value: (u) => f.num(u.flagged), num: true },
    ], users));
  }
}

// `"no_cost_report"` → "no cost report"; `{kind: "exceeds_hold", held: 800,
// excess: 13}` → "exceeds hold (held 800, excess 13)".
function word(flag) {
  if (typeof flag === 'string') return flag.replace(/_/g, ' ');
  const { kind, ...details } = flag ?? {};
  const rest = Object.entries(details).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`).join(', ');
  return `${String(kind ?? 'flag').replace(/_/g, ' ')}${rest ? ` (${rest})` : ''}`;
}

function exportsPanel(span) {
  const status = h('p', { 'aria-live': 'polite' });
  const format = h('select', { name: 'format' }, FORMATS.map(([name]) => h('option', { value: name }, name.toUpperCase())));
  const download = async (name, template) => {
    const [fmt, accept] = FORMATS.find(([n]) => n === format.value);
    fill(status, `Preparing the ${name} export…`);
    try {
      const response = await request('GET', template, { query: { ...span, format: fmt }, accept });
      const blob = await response.blob();
      const link = h('a', { href: URL.createObjectURL(blob), download: `parlor-${name}.${fmt}` }, `Save parlor-${name}.${fmt} (${f.num(blob.size / 1024)} KiB)`);
      fill(status, link);
      link.click();
      toast(`The ${name} export is ready.`);
    } catch (error) {
      fill(status, notice(error.message));
      if (error.name !== 'Missing') toastError(error);
    }
  };
  return h('section', { class: 'panel', 'aria-labelledby': 'exports-h' },
    h('h2', { id: 'exports-h' }, 'Exports'),
    h('p', {}, 'The same window as the report above.'),
    h('div', { class: 'inline' }, field('Format', format),
      EXPORTS.map(([name, label, template]) => h('button', {
        type: 'button',
        disabled: !serves('GET', template),
        title: serves('GET', template) ? null : 'Not served by this gateway yet',
        onclick: () => download(name, template),
      }, `Export ${label.toLowerCase()}`))),
    EXPORTS.some(([, , template]) => !serves('GET', template)) ? notice('Some exports are not served by this gateway yet.') : null,
    status);
}
