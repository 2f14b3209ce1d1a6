// The dashboard's shell: sign-in, navigation by role, and the router. Pages
// are ES modules under pages/, each `render(main, route)` returning an
// optional cleanup that runs when the page is left.

import { loadRoutes, session, signIn, signOut } from './api.js';
import { toast, toastError } from './toast.js';
import { fill, h } from './view.js';

// [hash prefix, label, module, roles that see it in the menu]
const PAGES = [
  ['conversations', 'Conversations', () => import('./pages/conversations.js'), ['user', 'admin']],
  ['live', 'Live', () => import('./pages/live.js'), ['user', 'admin']],
  ['costs', 'Costs', () => import('./pages/costs.js'), ['user', 'finance', 'admin']],
  ['talk', 'Talk', () => import('./pages/talk.js'), ['user', 'admin']],
  ['admin', 'Admin', () => import('./pages/admin.js'), ['admin']],
  ['finance', 'Finance', () => import('./pages/finance.js'), ['finance', 'admin']],
];
const DETAIL = () => import('./pages/conversation.js');
const SIGN_IN = () => import('./pages/signin.js');

let cleanup = null;
let rendering = 0;

// `#/conversations/abc?status=done` → {name, id, query}.
export function parseHash(hash = location.hash) {
  const [pathPart, queryPart = ''] = hash.replace(/^#\/?/, '').split('?');
  const [name = '', id] = pathPart.split('/').map(decodeURIComponent);
  return { name, id, query: new URLSearchParams(queryPart) };
}

export function go(name, { id, query } = {}) {
  const qs = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== '')).toString() : '';
  location.hash = `#/${name}${id ? `/${encodeURIComponent(id)}` : ''}${qs ? `?${qs}` : ''}`;
}

function home() {
  return session.me?.role === 'finance' ? 'finance' : 'conversations';
}

function drawChrome(current) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  if (!session.me) {
    fill(nav);
    fill(who);
    return;
  }
  const visible = PAGES.filter(([, , , roles]) => roles.includes(session.me.role));
  fill(nav, h('ul', {}, visible.map(([name, label]) => h('li', {},
    h('a', { href: `#/${name}`, 'aria-current': name === current ? 'page' : null }, label)))));
  fill(who,
    h('span', {}, `${session.me.role} · `, h('code', {}, session.me.userId)),
    h('button', { type: 'button', onclick: () => { signOut(); toast('Signed out.'); go('signin'); } }, 'Sign out'));
}

async function render() {
  const turn = ++rendering;
  if (cleanup) {
    try { cleanup(); } catch (error) { toastError(error); }
    cleanup = null;
  }
  const route = parseHash();
  if (!session.me && route.name !== 'signin') {
    go('signin', { query: { next: location.hash } });
    return;
  }
  if (session.me && (route.name === '' || route.name === 'signin')) {
    go(home());
    return;
  }
  const loader = route.name === 'signin' ? SIGN_IN
    : route.name === 'conversations' && route.id ? DETAIL
      : PAGES.find(([name]) => name === route.name)?.[2];
  drawChrome(route.id && route.name === 'conversations' ? 'conversations' : route.name);
  const main = document.getElementById('main');
  if (!loader) {
    fill(main, h('h1', {}, 'Not found'), h('p', {}, 'There is no such page. ', h('a', { href: `#/${home()}` }, 'Go to the start page.')));
    return;
  }
  try {
    const page = await loader();
    if (turn !== rendering) return;
    fill(main);
    const done = await page.render(main, route);
    if (turn !== rendering) { if (typeof done === 'function') done(); return; }
    cleanup = typeof done === 'function' ? done : null;
    const heading = main.querySelector('h1');
    document.title = heading ? `${heading.textContent} · Parlor` : 'Parlor dashboard';
  } catch (error) {
    toastError(error);
    fill(main, h('h1', {}, 'Something went wrong'), h('p', { role: 'alert' }, error.message));
  }
}

async function start() {
  window.addEventListener('parlor:unauthorized', () => {
    signOut();
    toast('Your session has ended; sign in again.', 'error');
    go('signin');
  });
  document.querySelector('.skip').addEventListener('click', (event) => {
    event.preventDefault();
    document.getElementById('main').focus();
  });
  try {
    await loadRoutes();
  } catch (error) {
    toastError(error);
  }
  if (session.token) {
    try {
      await signIn(session.token);
    } catch (error) {
      toastError(error);
    }
  }
  window.addEventListener('hashchange', render);
  await render();
}

start();
