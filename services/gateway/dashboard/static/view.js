// Building DOM without innerHTML: every text is a text node, so nothing a
// transcript or a name holds can become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Appends children, skipping null, undefined and false (DOM `append` would
// write them out as text).
export function add(el, ...children) {
  append(el, children);
  return el;
}

// Replaces an element's children.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
// A labelled control: `field('Agent id', h('input', {name: 'agentId'}))`.
export function field(label, control) {
  if (!control.id) control.id = `f${++ids}`;
  return h('label', { for: control.id }, label, control);
}

// A definition list of [term, value] pairs; values may be nodes. Each value
// carries `data-field` (its key) so tests and styles can find it.
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([term, value, key]) => [
    h('dt', {}, term),
    h('dd', { dataset: { field: key ?? term.toLowerCase().replace(/\W+/g, '-') } }, value ?? '—'),
  ]));
}

// A table whose rows become labelled cards on a narrow screen.
// `columns`: [{ label, value(row) -> text|node, num? }].
export function table(columns, rows, caption) {
  return h('table', { class: 'cards' },
    caption ? h('caption', { class: 'muted' }, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.map((row) => h('tr', {},
      columns.map((c) => h('td', { 'data-label': c.label, class: c.num ? 'num' : null }, c.value(row) ?? '—'))))),
  );
}

// A page-level notice, e.g. for a route this gateway does not serve yet.
export function notice(text) {
  return h('p', { class: 'notice', role: 'note' }, text);
}
