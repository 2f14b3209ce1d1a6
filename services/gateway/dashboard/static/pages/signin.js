// Sign-in: a Parlor token (kept in this tab's sessionStorage), or the
// NextAuth session the browser already holds for this host.

import { signIn } from '../api.js';
import { go } from '../app.js';
import { toast, toastError } from '../toast.js';
import { field, h } from '../view.js';

export function render(main, route) {
  const next = route.query.get('next');
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true, spellcheck: 'false' });
  const status = h('p', { class: 'muted', 'aria-live': 'polite' });
  const done = (me) => {
    toast(`Signed in as ${me.role} ${me.userId}.`);
    if (next && next.startsWith('#/') && !next.startsWith('#/signin')) location.hash = next;
    else go('');
  };
  const attempt = async (value) => {
    status.textContent = 'Signing in…';
    try {
      done(await signIn(value));
    } catch (error) {
      status.textContent = '';
      toastError(error);
    }
  };
  main.append(
    h('h1', {}, 'Sign in'),
    h('form', { class: 'panel', onsubmit: (event) => { event.preventDefault(); attempt(token.value.trim()); } },
      h('p', {}, 'Paste a Parlor token (it is kept only for this browser tab).'),
      field('Parlor token', token),
      h('p', {}, h('button', { type: 'submit' }, 'Sign in'))),
    h('div', { class: 'panel' },
      h('p', {}, 'Signed in to the app with NextAuth on this host? Use that session instead.'),
      h('button', { type: 'button', class: 'secondary', onclick: () => attempt(null) }, 'Use my NextAuth session')),
    status,
  );
  token.focus();
}
