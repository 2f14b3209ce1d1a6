// Server-sent events read with fetch rather than EventSource: EventSource
// cannot send the Authorization header a token sign-in needs (it only
// carries cookies). The parsing follows the HTML spec's event-stream rules.

import { ApiError, headers } from './api.js';

// Follows `url` until the server ends the stream or `signal` aborts;
// calls `onEvent({event, data, id})` per event (`data` parsed as JSON when
// it is JSON). Resolves when the stream ends.
export async function follow(url, { onEvent, onOpen, signal }) {
  const response = await fetch(url, {
    headers: headers({ accept: 'text/event-stream' }),
    credentials: 'same-origin',
    cache: 'no-store',
    signal,
  });
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem);
  }
  onOpen?.();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { event: 'message', data: [], id: undefined };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === '') {
        if (event.data.length) onEvent(finish(event));
        event = { event: 'message', data: [], id: undefined };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (name === 'event') event.event = text;
      else if (name === 'data') event.data.push(text);
      else if (name === 'id') event.id = text;
    }
  }
}

function finish({ event, data, id }) {
  const text = data.join('\n');
  try {
    return { event, id, data: JSON.parse(text) };
  } catch {
    return { event, id, data: text };
  }
}
