// How numbers, times and states read on screen.

const number = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });

export function credits(value) {
  return value === undefined || value === null ? null : `${number.format(value)} credits`;
}

export function num(value, unit = '') {
  return value === undefined || value === null || Number.isNaN(value) ? null : `${number.format(value)}${unit}`;
}

export function ms(value) {
  return num(value === null || value === undefined ? value : Math.round(value), ' ms');
}

// Seconds as `m:ss` (or `h:mm:ss`).
export function duration(secs) {
  if (secs === undefined || secs === null) return null;
  const s = Math.max(0, Math.round(secs));
  const hours = Math.floor(s / 3600);
  const mins = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return hours ? `${hours}:${String(mins).padStart(2, '0')}:${rest}` : `${mins}:${rest}`;
}

export function time(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

// A status badge with its name as text (colour is never the only cue).
export function statusClass(status) {
  return `status status-${String(status ?? 'unknown').replace(/[^a-z-]/g, '')}`;
}

// A sentiment as words, whichever shape the API gives it.
export function sentiment(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return num(value);
  const label = value.label ?? value.sentiment ?? value.overall;
  const score = value.score ?? value.value;
  if (label && score !== undefined) return `${label} (${num(score)})`;
  return label ?? (score !== undefined ? num(score) : JSON.stringify(value));
}

// `datetime-local` input value → RFC 3339 (UTC), or undefined when empty.
export function rfc3339(local) {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

// RFC 3339 → `datetime-local` input value.
export function localInput(value) {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
