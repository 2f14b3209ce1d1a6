// For admins: users' accounts and balances, one account's entries, and
// credit grants whose new balance shows at once.

import { get, post } from '../api.js';
import { go } from '../app.js';
import * as f from '../format.js';
import { toast, toastError } from '../toast.js';
import { facts, field, fill, h, notice, table } from '../view.js';

const USER_PREFIX = 'user-';

export async function render(main, route) {
  const cursor = route.query.get('cursor') ?? undefined;
  const user = h('input', { name: 'userId', required: true, autocomplete: 'off', spellcheck: 'false', value: route.query.get('userId') ?? '' });
  const credits = h('input', { type: 'number', name: 'credits', min: '1', step: '1', required: true, inputmode: 'numeric' });
  const reason = h('input', { name: 'reason', maxlength: '200', autocomplete: 'off' });
  const balance = h('div', { 'aria-live': 'polite' });
  const accounts = h('section', { 'aria-labelledby': 'accounts-h', 'aria-busy': 'true' }, h('h2', { id: 'accounts-h' }, 'Users and balances'));
  const entries = h('section', { 'aria-labelledby': 'entries-h' });

  const showBalance = (b) => fill(balance, h('div', { class: 'panel' },
    h('h3', {}, `Balance of ${b.userId}`),
    facts([
      ['Available', f.credits(b.available), 'available'],
      ['Held', f.credits(b.held), 'held'],
      ['Balance', f.credits(b.balance), 'balance'],
    ])));
  const lookUp = async (userId) => {
    try {
      showBalance(await get('/api/users/{userId}/balance', { params: { userId } }));
    } catch (error) {
      fill(balance, notice(error.status === 404 ? `No account for ${userId}.` : error.message));
      if (error.name !== 'Missing' && error.status !== 404) toastError(error);
    }
  };
  const grant = async (event) => {
    event.preventDefault();
    const body = { userId: user.value.trim(), credits: Number(credits.value) };
    if (reason.value.trim()) body.reason = reason.value.trim();
    try {
      const done = await post('/api/admin/grants', body, { extraHeaders: { 'idempotency-key': crypto.randomUUID() } });
      toast(`Granted ${f.credits(body.credits)} to ${body.userId}.`);
      showBalance(done.balance);
      credits.value = '';
      await listAccounts(accounts, cursor, user, lookUp);
    } catch (error) {
      toastError(error);
    }
  };

  main.append(
    h('h1', {}, 'Admin'),
    h('section', { class: 'panel', 'aria-labelledby': 'grant-h' },
      h('h2', { id: 'grant-h' }, 'Grant credits'),
      h('form', { class: 'inline', onsubmit: grant },
        field('User id', user), field('Credits', credits), field('Reason (optional)', reason),
        h('button', { type: 'submit' }, 'Grant'),
        h('button', { type: 'button', class: 'secondary', onclick: () => user.value.trim() && lookUp(user.value.trim()) }, 'Show balance'))),
    balance,
    accounts,
    entries,
  );
  if (route.query.get('userId')) await lookUp(route.query.get('userId'));
  await listAccounts(accounts, cursor, user, lookUp);
  const account = route.query.get('account');
  if (account) await listEntries(entries, account);
}

async function listAccounts(section, cursor, userInput, lookUp) {
  const heading = section.querySelector('h2');
  try {
    const page = await get('/api/ledger/accounts', { query: { kind: 'user', cursor } });
    const rows = page.items ?? [];
    fill(section, heading,
      rows.length ? table([
        { label: 'User', value: (a) => userOf(a.accountId) },
        { label: 'Available', value: (a) => f.num(a.available), num: true },
        { label: 'Held', value: (a) => f.num(a.held), num: true },
        { label: 'Balance', value: (a) => f.num(a.balance), num: true },
        { label: 'Entries', value: (a) => h('a', { href: `#/admin?account=${encodeURIComponent(a.accountId)}` }, String(a.entries ?? 'entries')) },
        {
          label: 'Actions',
          value: (a) => h('button', {
            type: 'button',
            class: 'secondary',
            'aria-label': `Grant credits to ${userOf(a.accountId)}`,
            onclick: () => { userInput.value = userOf(a.accountId); userInput.focus(); lookUp(userOf(a.accountId)); },
          }, 'Grant…'),
        },
      ], rows) : h('p', {}, 'No user accounts yet.'),
      h('nav', { class: 'pager', 'aria-label': 'Pages of accounts' },
        cursor ? h('button', { type: 'button', class: 'secondary', onclick: () => go('admin') }, 'First page') : null,
        page.has_more ? h('button', { type: 'button', onclick: () => go('admin', { query: { cursor: page.next_cursor } }) }, 'Next page') : null));
  } catch (error) {
    fill(section, heading, notice(error.message));
    if (error.name !== 'Missing') toastError(error);
  } finally {
    section.setAttribute('aria-busy', 'false');
  }
}

async function listEntries(section, accountId) {
  fill(section, h('h2', { id: 'entries-h' }, `Entries of ${accountId}`));
  try {
    const page = await get('/api/ledger/accounts/{accountId}/entries', { params: { accountId } });
    const rows = page.items ?? [];
    section.append(rows.length ? table([
      { label: 'When', value: (e) => f.time(e.occurredAt) },
      { label: 'Event', value: (e) => e.eventType },
      { label: 'Credits', value: (e) => f.num(e.credits), num: true },
      { label: 'Conversation', value: (e) => (e.conversationId ? h('a', { href: `#/conversations/${encodeURIComponent(e.conversationId)}` }, e.conversationId) : '—') },
      { label: 'Sequence', value: (e) => e.sequence, num: true },
    ], rows) : h('p', {}, 'No entries.'));
  } catch (error) {
    section.append(notice(error.message));
    if (error.name !== 'Missing') toastError(error);
  }
}

function userOf(accountId) {
  return accountId?.startsWith(USER_PREFIX) ? accountId.slice(USER_PREFIX.length) : accountId;
}
