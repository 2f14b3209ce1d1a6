// The dashboard's browser test (issue 14), run by cli/tests/dashboard.rs:
// headless Debian Chromium driven by playwright-core, at 390 px width, with
// Chromium's fake microphone. It signs in, holds a text chat and a voice
// call with the simulator's agent, follows the call live, opens it and
// reads its cost, has an admin grant credits and watch the balance change,
// and screenshots every page. Throughout: no console errors, every request
// 2xx, no horizontal overflow.
//
// Steps whose gateway route is not served yet (absent from /openapi.json)
// are skipped with a `skip:` line; everything else must pass.
//
// Environment: PARLOR_GATEWAY, PARLOR_USER_TOKEN, PARLOR_USER_ID,
// PARLOR_ADMIN_TOKEN, PARLOR_AGENT_ID, PARLOR_CHROMIUM, PARLOR_NPM_DIR
// (where playwright-core is installed), PARLOR_SHOTS (screenshot folder).

import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const GATEWAY = env('PARLOR_GATEWAY');
const SHOTS = env('PARLOR_SHOTS');
const AGENT = env('PARLOR_AGENT_ID');
const USER_ID = env('PARLOR_USER_ID');
const WIDTH = 390;
const STEP_MS = 60000;
const GRANT = 250;

const require = createRequire(path.join(env('PARLOR_NPM_DIR'), 'node_modules', 'noop.js'));
const { chromium } = require('playwright-core');

const problems = [];
const skipped = [];
const served = new Set();

function log(line) {
  process.stdout.write(`${line}\n`);
}

function skip(step, route) {
  skipped.push(step);
  log(`skip: ${step}: the gateway does not serve ${route} yet`);
}

function serves(method, template) {
  return served.has(`${method} ${template}`);
}

async function loadRoutes() {
  const response = await fetch(`${GATEWAY}/openapi.json`);
  const doc = await response.json();
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item)) served.add(`${method.toUpperCase()} ${p}`);
  }
}

// Records what the issue forbids on any page: console errors, uncaught
// exceptions, non-2xx answers and failed requests.
async function watch(page, label) {
  // Error toasts are the pages' own way of saying something failed.
  await page.addInitScript(() => {
    window.__toastErrors = [];
    new MutationObserver((changes) => {
      for (const change of changes) {
        for (const node of change.addedNodes) {
          if (node.classList?.contains('toast') && node.classList.contains('error')) window.__toastErrors.push(node.textContent);
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${label}: console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${label}: uncaught: ${error.message}`));
  page.on('response', (response) => {
    const status = response.status();
    // 304: the browser revalidated its cached copy; 101: a WebSocket.
    if ((status < 200 || status > 299) && status !== 304 && status !== 101) {
      problems.push(`${label}: ${status} from ${response.request().method()} ${response.url()}`);
    }
  });
  page.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText ?? 'failed';
    // Leaving a page aborts its open event stream; that is not an error.
    if (failure === 'net::ERR_ABORTED' && request.url().includes('/live')) return;
    problems.push(`${label}: request failed (${failure}): ${request.method()} ${request.url()}`);
  });
}

async function noOverflow(page, name) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  if (scroll > width) problems.push(`${name}: overflows horizontally (${scroll} px content in ${width} px)`);
}

async function noErrorToasts(page, name) {
  const shown = await page.evaluate(() => window.__toastErrors.splice(0));
  for (const text of shown) problems.push(`${name}: error toast: ${text}`);
}

async function shot(page, name) {
  await noOverflow(page, name);
  await noErrorToasts(page, name);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  log(`screenshot: ${name}.png`);
}

async function open(page, hash) {
  await page.goto(`${GATEWAY}/dashboard/${hash}`);
  await page.locator('main h1').first().waitFor();
}

// Until no part of the page is still loading.
async function settled(page) {
  await page.locator('main section').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('main [aria-busy="true"]'));
}

async function signIn(page, token) {
  await page.goto(`${GATEWAY}/dashboard/`);
  await page.getByLabel('Parlor token').fill(token);
  await shot(page, 'signin');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who code').waitFor();
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Parlor token').waitFor();
}

const field = (page, name) => page.locator(`main [data-field="${name}"]`).first();

async function textChat(page) {
  await open(page, '#/talk');
  await page.getByLabel('Agent id').fill(AGENT);
  await page.getByRole('button', { name: 'Start text chat' }).click();
  await page.locator('main [data-field="status"]', { hasText: 'connected' }).waitFor();
  await page.locator('main [data-field="conversation"] a').waitFor();
  const before = await page.locator('ol.transcript li.agent').count();
  await page.getByLabel('Message', { exact: true }).fill('Hello from the browser test');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await page.locator('ol.transcript li.user', { hasText: 'Hello from the browser test' }).waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('ol.transcript li.agent').length > n, before);
  await shot(page, 'talk-text');
  const id = await page.locator('main [data-field="conversation"] a').textContent();
  await page.getByRole('button', { name: 'End conversation' }).click();
  await page.locator('main [data-field="status"]', { hasText: 'ended' }).waitFor();
  log(`ok: text chat ${id}`);
  if (serves('POST', '/api/agent')) {
    await page.getByLabel('Message to the agent').fill('Hello through POST /api/agent');
    await page.getByRole('button', { name: 'Send to agent' }).click();
    await page.locator('main [data-field="seed-conversation"] a').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('section[aria-labelledby="seed-h"] li.agent').length > 0);
    await shot(page, 'talk-seed-chat');
    log('ok: the seed text chat (POST /api/agent) answered');
  } else {
    skip('the seed text chat', 'POST /api/agent');
  }
  return id;
}

async function voiceCall(page, context, userToken) {
  await open(page, '#/talk');
  await page.getByLabel('Agent id').fill(AGENT);
  await page.getByRole('button', { name: 'Start voice call' }).click();
  await page.locator('main [data-field="status"]', { hasText: 'connected' }).waitFor();
  const id = (await page.locator('main [data-field="conversation"] a').textContent()).trim();
  await page.locator('main [data-field="mode"]', { hasText: /Agent (speaking|listening)/ }).waitFor();
  await page.locator('ol.transcript li.agent').first().waitFor();
  log(`ok: voice call ${id} connected, agent heard`);

  if (serves('GET', '/api/conversations/{id}/live')) {
    // A second tab follows the call while it runs (sessionStorage is per tab, so it signs in too).
    const live = await context.newPage();
    await watch(live, 'live tab');
    await signIn(live, userToken);
    await open(live, `#/live/${encodeURIComponent(id)}`);
    await live.locator('main ol.transcript li').first().waitFor();
    await shot(live, 'live');
    log('ok: the call appeared live');
    await live.close();
  } else {
    skip('follow the call live', 'GET /api/conversations/{id}/live');
  }
  // The fake microphone's tone is heard as the user speaking.
  await page.locator('ol.transcript li.user').first().waitFor();
  await shot(page, 'talk-voice');
  await page.getByRole('button', { name: 'End conversation' }).click();
  await page.locator('main [data-field="status"]', { hasText: 'ended' }).waitFor();
  log('ok: voice call ended');
  return id;
}

async function conversationCost(page, id) {
  if (!serves('GET', '/api/conversations') || !serves('GET', '/api/conversations/{id}')) {
    skip('open the conversation and read its cost', 'GET /api/conversations and /api/conversations/{id}');
    return;
  }
  // The cost arrives after the call (ElevenLabs' report); reload until it does.
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    await open(page, '#/conversations');
    await settled(page);
    const row = page.locator('main table a').first();
    if (await row.count()) {
      await row.click();
      await page.locator('main dd[data-field="cost"]').waitFor();
      const status = (await field(page, 'status').textContent()).trim();
      const cost = (await field(page, 'cost').textContent()).trim();
      if (status === 'done' && /^[1-9][\d,.]* credits$/.test(cost)) {
        await shot(page, 'conversation');
        log(`ok: conversation ${await page.locator('main h1').textContent()} cost ${cost}`);
        break;
      }
    }
    if (Date.now() > deadline) throw new Error(`no conversation with a cost within ${STEP_MS} ms`);
    await page.waitForTimeout(500);
  }
  await open(page, '#/conversations');
  await settled(page);
  await shot(page, 'conversations');
}

async function grant(page, adminToken) {
  await signIn(page, adminToken);
  await open(page, '#/admin');
  await settled(page);
  if (!serves('POST', '/api/admin/grants') || !serves('GET', '/api/users/{userId}/balance')) {
    await shot(page, 'admin');
    skip('grant credits and see the balance change', 'POST /api/admin/grants and GET /api/users/{userId}/balance');
    return;
  }
  await page.getByLabel('User id', { exact: true }).fill(USER_ID);
  await page.getByRole('button', { name: 'Show balance' }).click();
  const available = field(page, 'available');
  await available.waitFor();
  const credits = async () => Number((await available.textContent()).replace(/[^\d-]/g, ''));
  const before = await credits();
  await page.getByLabel('Credits', { exact: true }).fill(String(GRANT));
  await page.getByLabel('Reason (optional)').fill('browser test');
  await page.getByRole('button', { name: 'Grant', exact: true }).click();
  await page.waitForFunction(([b, g]) => {
    const text = document.querySelector('main [data-field="available"]')?.textContent ?? '';
    return Number(text.replace(/[^\d-]/g, '')) === b + g;
  }, [before, GRANT]);
  await shot(page, 'admin');
  log(`ok: granted ${GRANT}: ${before} → ${await credits()} available`);
}

// What the fake microphone says, looped: a second of a 440 Hz tone (speech
// to the simulator's level detector), then a second and a half of silence
// (which ends the utterance). 16-bit mono PCM WAV at 16 kHz.
function microphoneWav(file) {
  const rate = 16000;
  const samples = Math.round(rate * 2.5);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < rate; i += 1) {
    data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 0.3 * 32767), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  writeFileSync(file, Buffer.concat([header, data]));
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const wav = path.join(SHOTS, 'microphone.wav');
  microphoneWav(wav);
  await loadRoutes();
  const browser = await chromium.launch({
    executablePath: env('PARLOR_CHROMIUM'),
    args: [
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  let failed = null;
  try {
    const context = await browser.newContext({ viewport: { width: WIDTH, height: 844 }, baseURL: GATEWAY });
    await context.grantPermissions(['microphone'], { origin: GATEWAY });
    context.setDefaultTimeout(STEP_MS);
    const page = await context.newPage();
    await watch(page, 'main tab');
    const userToken = env('PARLOR_USER_TOKEN');
    await signIn(page, userToken);
    log('ok: signed in');
    await textChat(page);
    await voiceCall(page, context, userToken);
    await conversationCost(page, USER_ID);
    await open(page, `#/costs?agentId=${encodeURIComponent(AGENT)}`);
    await settled(page);
    await shot(page, 'costs');
    await signOut(page);
    await grant(page, env('PARLOR_ADMIN_TOKEN'));
    await open(page, '#/finance');
    await settled(page);
    await shot(page, 'finance');
  } catch (error) {
    failed = error;
    for (const [i, open] of browser.contexts().flatMap((c) => c.pages()).entries()) {
      await open.screenshot({ path: path.join(SHOTS, `failure-${i}.png`), fullPage: true }).catch(() => {});
      log(`screenshot: failure-${i}.png (${open.url()})`);
    }
  } finally {
    await browser.close();
  }
  if (failed) problems.unshift(`step failed: ${failed.message}`);
  for (const problem of problems) log(`problem: ${problem}`);
  log(`done: ${problems.length} problem(s), ${skipped.length} step(s) skipped`);
  process.exit(problems.length ? 1 : 0);
}

main();
