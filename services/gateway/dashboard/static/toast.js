// Toast notifications: errors are announced at once (role=alert) and stay
// until dismissed or 10 s pass; information is announced politely.

const LIFETIME_MS = { error: 10000, info: 4000 };
// Older toasts give way so the stack never covers the page.
const VISIBLE_MAX = 3;

export function toast(message, kind = 'info') {
  const region = document.getElementById('toasts');
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'secondary';
  close.setAttribute('aria-label', 'Dismiss');
  close.textContent = '×';
  const text = document.createElement('p');
  text.textContent = message;
  const item = document.createElement('div');
  item.className = `toast ${kind}`;
  item.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  item.append(text, close);
  const remove = () => item.remove();
  close.addEventListener('click', remove);
  setTimeout(remove, LIFETIME_MS[kind] ?? LIFETIME_MS.info);
  region.append(item);
  while (region.children.length > VISIBLE_MAX) region.firstElementChild.remove();
}

// Shows an error thrown by an API call (or anything else) as a toast.
export function toastError(error) {
  toast(error?.message ?? String(error), 'error');
}
