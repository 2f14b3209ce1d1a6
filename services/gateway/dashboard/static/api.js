// The gateway's public routes as the pages call them: the caller's
// credential on every request, problem+json errors as `ApiError`, and which
// routes this gateway serves (read once from /openapi.json), so a page can
// say that a feature is not there yet instead of failing on a 404.

const TOKEN_KEY = 'parlor.token';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

// A route this gateway does not serve (absent from /openapi.json, or a
// `no-route` 404).
export class Missing extends Error {
  constructor(method, template) {
    super(`This gateway does not serve ${method} ${template} yet.`);
    this.name = 'Missing';
    this.route = `${method} ${template}`;
  }
}

export const session = {
  token: sessionStorage.getItem(TOKEN_KEY),
  // {userId, role} once signed in.
  me: null,
};

let served = null;

// Reads /openapi.json (public) once.
export async function loadRoutes() {
  const response = await fetch('/openapi.json', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new ApiError(response.status, await problem(response));
  const doc = await response.json();
  served = new Set();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of Object.keys(item)) served.add(`${method.toUpperCase()} ${path}`);
  }
}

export function serves(method, template) {
  return served?.has(`${method} ${template}`) ?? false;
}

// Signs in with a Parlor token (or, with none, the NextAuth session cookie
// the browser holds); resolves to `{userId, role}`.
export async function signIn(token) {
  session.token = token || null;
  try {
    session.me = await get('/api/me');
  } catch (error) {
    session.token = null;
    session.me = null;
    throw error;
  }
  if (session.token) sessionStorage.setItem(TOKEN_KEY, session.token);
  else sessionStorage.removeItem(TOKEN_KEY);
  return session.me;
}

export function signOut() {
  session.token = null;
  session.me = null;
  sessionStorage.removeItem(TOKEN_KEY);
}

export function headers(extra = {}) {
  const out = { accept: 'application/json', ...extra };
  if (session.token) out.authorization = `Bearer ${session.token}`;
  return out;
}

// `/api/users/{userId}/balance` with `{userId: …}` → the path.
export function path(template, params = {}) {
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    if (params[name] === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(params[name]);
  });
}

export function url(template, { params, query } = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const qs = search.toString();
  return qs ? `${path(template, params)}?${qs}` : path(template, params);
}

// One call. Throws `Missing` before any request when the route is not
// served, `ApiError` for an error answer.
export async function request(method, template, { params, query, body, accept, extraHeaders } = {}) {
  if (served && !serves(method, template)) throw new Missing(method, template);
  const init = { method, headers: headers({ ...(accept ? { accept } : {}), ...extraHeaders }), credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(template, { params, query }), init);
  if (!response.ok) {
    const details = await problem(response);
    if (response.status === 404 && details?.type === 'urn:parlor:problem:not-found' && /^no route/.test(details.detail ?? '')) {
      throw new Missing(method, template);
    }
    if (response.status === 401 && template !== '/api/me') {
      window.dispatchEvent(new CustomEvent('parlor:unauthorized', { detail: details }));
    }
    throw new ApiError(response.status, details);
  }
  if (accept && accept !== 'application/json') return response;
  const type = response.headers.get('content-type') ?? '';
  return type.includes('json') ? response.json() : response.text();
}

export const get = (template, options = {}) => request('GET', template, options);
export const post = (template, body, options = {}) => request('POST', template, { ...options, body });

async function problem(response) {
  try {
    return await response.json();
  } catch {
    return { title: response.statusText, status: response.status };
  }
}
