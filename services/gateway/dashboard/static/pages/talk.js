// The seed's conversation widget: talk to an agent through the gateway with
// ElevenLabs' own `@elevenlabs/client`, opened by the gateway's signed URL,
// in text or by voice (the browser's microphone). Shows start and end, the
// live transcript, the agent's mode and errors.

import { get, post, serves } from '../api.js';
import { toast, toastError } from '../toast.js';
import { field, fill, h, notice } from '../view.js';

const SDK_DIR = 'vendor/@elevenlabs/client@1.25.0/';
const SIGNED_URL = '/v1/convai/conversation/get-signed-url';
const AGENT_KEY = 'parlor.agentId';

let sdk = null;

// The SDK's browser bundle sets `window.ElevenLabsClient`; loaded once,
// on the first visit to this page (it is a megabyte).
function loadSdk() {
  sdk ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = `${SDK_DIR}lib.iife.js`;
    script.onload = () => resolve(window.ElevenLabsClient);
    script.onerror = () => { sdk = null; reject(new Error('Could not load the ElevenLabs client.')); };
    document.head.append(script);
  });
  return sdk;
}

export function render(main, route) {
  const agent = h('input', {
    name: 'agentId', required: true, autocomplete: 'off', spellcheck: 'false',
    value: route.query.get('agentId') ?? localStorage.getItem(AGENT_KEY) ?? '',
  });
  const startText = h('button', { type: 'button' }, 'Start text chat');
  const startVoice = h('button', { type: 'button' }, 'Start voice call');
  const end = h('button', { type: 'button', class: 'secondary', disabled: true }, 'End conversation');
  const status = h('span', { 'data-field': 'status' }, 'disconnected');
  const mode = h('span', { class: 'mode', 'data-field': 'mode' }, '—');
  const conversationLink = h('span', { 'data-field': 'conversation' }, '—');
  const lines = h('ol', { class: 'transcript', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const text = h('input', { name: 'message', autocomplete: 'off', disabled: true });
  const send = h('button', { type: 'submit', disabled: true }, 'Send');
  const errors = h('div', { 'aria-live': 'assertive' });

  let conversation = null;
  let starting = false;

  const connected = (on) => {
    startText.disabled = on || starting;
    startVoice.disabled = on || starting;
    agent.disabled = on || starting;
    end.disabled = !on;
    text.disabled = !on;
    send.disabled = !on;
  };
  const fail = (message) => {
    fill(errors, notice(message));
    toast(message, 'error');
  };
  const say = (role, message) => {
    lines.append(h('li', { class: role }, h('span', { class: 'who-said' }, role === 'user' ? 'You' : 'Agent'), message));
  };

  const start = async (textOnly) => {
    const agentId = agent.value.trim();
    if (!agentId) {
      fail('Enter the id of the agent to talk to.');
      agent.focus();
      return;
    }
    localStorage.setItem(AGENT_KEY, agentId);
    fill(errors);
    fill(lines);
    starting = true;
    connected(false);
    fill(status, 'connecting');
    try {
      const { Conversation } = await loadSdk();
      const { signed_url: signedUrl } = await get(SIGNED_URL, { query: { agent_id: agentId } });
      const worklet = (name) => new URL(`${SDK_DIR}${name}.js`, location.href).href;
      conversation = await Conversation.startSession({
        signedUrl,
        connectionType: 'websocket',
        textOnly,
        workletPaths: { rawAudioProcessor: worklet('rawAudioProcessor'), audioConcatProcessor: worklet('audioConcatProcessor') },
        onConnect: ({ conversationId }) => {
          fill(conversationLink, h('a', { href: `#/live/${encodeURIComponent(conversationId)}` }, conversationId));
          main.dataset.conversationId = conversationId;
        },
        onDisconnect: (details) => {
          conversation = null;
          connected(false);
          fill(status, 'ended');
          fill(mode, '—');
          if (details?.reason === 'error') fail(`The conversation ended with an error: ${details.message ?? 'unknown'}`);
          else toast('The conversation has ended.');
        },
        onMessage: ({ source, message }) => say(source === 'user' ? 'user' : 'agent', message),
        onModeChange: ({ mode: now }) => fill(mode, now === 'speaking' ? 'Agent speaking' : 'Agent listening'),
        onStatusChange: ({ status: now }) => fill(status, now),
        onError: (message) => fail(String(message)),
      });
      fill(status, 'connected');
      toast(textOnly ? 'Text chat started.' : 'Voice call started.');
    } catch (error) {
      conversation = null;
      fill(status, 'disconnected');
      fail(error.name === 'NotAllowedError' ? 'The browser did not allow the microphone.' : error.message ?? String(error));
    } finally {
      starting = false;
      connected(Boolean(conversation));
    }
  };

  startText.addEventListener('click', () => start(true));
  startVoice.addEventListener('click', () => start(false));
  end.addEventListener('click', async () => {
    try {
      await conversation?.endSession();
    } catch (error) {
      toastError(error);
    }
  });

  main.append(
    h('h1', {}, 'Talk to an agent'),
    h('div', { class: 'panel' },
      h('form', { class: 'inline', onsubmit: (event) => event.preventDefault() },
        field('Agent id', agent), startText, startVoice, end),
      h('p', {}, 'Status: ', status, ' · Mode: ', mode),
      h('p', {}, 'Conversation: ', conversationLink)),
    errors,
    h('section', { 'aria-labelledby': 'transcript-h' },
      h('h2', { id: 'transcript-h' }, 'Transcript'),
      lines,
      h('form', {
        class: 'inline',
        onsubmit: (event) => {
          event.preventDefault();
          const message = text.value.trim();
          if (!message || !conversation) return;
          // The SDK reports the sent line back through onMessage.
          conversation.sendUserMessage(message);
          text.value = '';
        },
      }, field('Message', text), send)),
  );
  main.append(seedChat(agent));
  return () => {
    conversation?.endSession().catch(() => {});
    conversation = null;
  };
}

// The seed's own text chat, `POST /api/agent`: one request per message, the
// conversation id carried from the first reply; the gateway closes the
// conversation when it goes idle.
function seedChat(agent) {
  const ROUTE = '/api/agent';
  const section = h('section', { class: 'panel', 'aria-labelledby': 'seed-h' }, h('h2', { id: 'seed-h' }, 'Text chat through the gateway (POST /api/agent)'));
  if (!serves('POST', ROUTE)) {
    section.append(notice(`This gateway does not serve POST ${ROUTE} yet.`));
    return section;
  }
  let conversationId = null;
  const lines = h('ol', { class: 'transcript', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const id = h('span', { 'data-field': 'seed-conversation' }, '—');
  const text = h('input', { name: 'seedMessage', autocomplete: 'off' });
  const send = h('button', { type: 'submit' }, 'Send to agent');
  const line = (role, message) => lines.append(h('li', { class: role }, h('span', { class: 'who-said' }, role === 'user' ? 'You' : 'Agent'), message));
  section.append(
    h('p', {}, 'Conversation: ', id, ' ',
      h('button', { type: 'button', class: 'secondary', onclick: () => { conversationId = null; fill(id, '—'); fill(lines); } }, 'New chat')),
    lines,
    h('form', {
      class: 'inline',
      onsubmit: async (event) => {
        event.preventDefault();
        const message = text.value.trim();
        const agentId = agent.value.trim();
        if (!message || !agentId) {
          toast('Enter the agent id and a message.', 'error');
          return;
        }
        send.disabled = true;
        line('user', message);
        text.value = '';
        try {
          const body = { agentId, message };
          if (conversationId) body.conversationId = conversationId;
          const answer = await post(ROUTE, body);
          conversationId = answer.conversationId;
          fill(id, h('a', { href: `#/conversations/${encodeURIComponent(conversationId)}` }, conversationId));
          line('agent', answer.reply);
        } catch (error) {
          toastError(error);
        } finally {
          send.disabled = false;
        }
      },
    }, field('Message to the agent', text), send));
  return section;
}
