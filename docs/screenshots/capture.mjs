/* global console, document, process, setTimeout, URLSearchParams */
// Makes the screenshots in this folder from the demo on the real server (issue 22): the demo at
// 1280×800 and 390×844, light and dark, each state of the recorder and the buddy's reel, in
// Chromium with its fake camera; axe runs in every state and its violations are printed.
// `npm run build && node docs/screenshots/capture.mjs` (a few minutes; writes the PNGs here).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../scripts/browsers.mjs';
import { startReferenceServer } from '../../scripts/reference-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const axeSource = readFileSync(join(here, '../../node_modules/axe-core/axe.min.js'), 'utf8');
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const dataDir = mkdtempSync(join(tmpdir(), 'reelchat-screenshots-'));
const server = await startReferenceServer({ dataDir, args: ['--demo'] });
const browser = await launchChromium();
const problems = [];

/** A page of its own (storage and all) for `user`, or the whole demo without one. */
async function open(size, theme, user) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  // The machine may be busy (the suites of others): waits are long, none is a measurement.
  page.setDefaultTimeout(90_000);
  await page.setViewport({ ...SIZES[size], deviceScaleFactor: 1 });
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: theme }]);
  const query = new URLSearchParams({ live: 'off', ...(user ? { as: user } : {}) });
  await page.goto(`${server.url}/?${query}`);
  await page.waitForSelector('reel-chat >>> [part~="input"]');
  await page.waitForFunction(() =>
    [...document.querySelectorAll('reel-chat')].every((chat) => chat.connection === 'online'),
  );
  return page;
}

/** The page as it is, as `name`.png, after axe looked at it. */
async function shot(page, name) {
  await sleep(400);
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await globalThis.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`);
  });
  for (const violation of violations) problems.push(`${name}: ${violation}`);
  await page.screenshot({ path: join(here, `${name}.png`) });
  console.log(`${name}.png${violations.length ? ` — axe: ${violations.join('; ')}` : ''}`);
}

/** Waits until `chat`'s recorder is in `state` (puppeteer's `>>>` misses its attribute). */
const recorderIn = (page, chat, state) =>
  page.waitForFunction(
    (chat, state) =>
      document.querySelector(chat)?.shadowRoot?.querySelector('reel-recorder')?.state === state,
    { timeout: 30_000 },
    chat,
    state,
  );

/** Records a take of `seconds` in `chat`'s recorder and sends it, or shoots each state on the way. */
async function record(page, chat, seconds, shots) {
  await (await page.waitForSelector(`${chat} >>> [part~="record-button"]`)).click();
  await recorderIn(page, chat, 'previewing');
  if (shots) await shot(page, `${shots}-recorder-previewing`);
  const button = (name) => page.waitForSelector(`${chat} >>> reel-recorder >>> [part~="${name}"]`);
  await (await button('record-button')).click();
  await recorderIn(page, chat, 'recording');
  await sleep(seconds * 1000);
  if (shots) await shot(page, `${shots}-recorder-recording`);
  await (await button('stop-button')).click();
  await recorderIn(page, chat, 'reviewing');
  if (shots) await shot(page, `${shots}-recorder-reviewing`);
  // Shooting, the take is left unsent (the page closes): the chat's history stays as it is.
  else await (await button('send-button')).click();
}

/** The take is sent: the chat closed its recorder (on `reel-upload-complete`). */
const sent = (page, chat) =>
  page.waitForFunction(
    (chat) => !document.querySelector(chat)?.shadowRoot?.querySelector('reel-recorder'),
    { timeout: 30_000 },
    chat,
  );

/** Alice's "Play all", once Bob's clips are listed (found in the page: `>>>` missed it at times). */
async function playAll(page) {
  await page.waitForFunction(() =>
    document.querySelector('#alice')?.shadowRoot?.querySelector('[part~="play-all"]'),
  );
  return page.evaluateHandle(() =>
    document.querySelector('#alice').shadowRoot.querySelector('[part~="play-all"]'),
  );
}

async function say(page, chat, text) {
  const input = await page.waitForSelector(`${chat} >>> [part~="input"]`);
  await input.type(text);
  await page.keyboard.press('Enter');
}

try {
  // What the chat holds: Bob's text and two clips, Alice's clip and answer.
  const bob = await open('desktop', 'light', 'bob');
  await say(bob, '#bob', 'Hi Alice! Two clips from the trip.');
  for (let take = 0; take < 2; take++) {
    await record(bob, '#bob', 2);
    await sent(bob, '#bob');
  }
  const alice = await open('desktop', 'light', 'alice');
  await record(alice, '#alice', 2);
  await sent(alice, '#alice');
  await say(alice, '#alice', 'Lovely! Mine from the station.');
  // Bob's clips converted: "Play all" shows once one is ready.
  await playAll(alice);
  // Each page's event streams end with its context: the server limits them per person.
  await bob.browserContext().close();
  await alice.browserContext().close();

  for (const size of Object.keys(SIZES)) {
    for (const theme of ['light', 'dark']) {
      const name = `${size}-${theme}`;
      const demo = await open(size, theme);
      await playAll(demo);
      await shot(demo, `${name}-demo`);
      await demo.browserContext().close();

      const page = await open(size, theme, 'alice');
      await playAll(page);
      await shot(page, `${name}-chat`);
      // The recorder, each state up to review; closed then, the take goes unsent.
      await record(page, '#alice', 2, name);
      await (await page.waitForSelector('#alice >>> [part~="close-button"]')).click();
      await sent(page, '#alice');

      // The buddy's reel, playing Bob's first clip with its caption.
      await (await playAll(page)).click();
      // Puppeteer's nested `>>>` misses the caption: looked for in the page.
      await page.waitForFunction(() => {
        const player = document.querySelector('#alice').shadowRoot.querySelector('[part~="reel"]');
        return (
          player?.shadowRoot?.querySelector('[part~="caption"]') && player.position.offset > 0.5
        );
      });
      await shot(page, `${name}-reel`);
      await page.browserContext().close();
    }
  }
} finally {
  await browser.close();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(problems.length ? `axe and other problems:\n${problems.join('\n')}` : 'axe: clean');
process.exitCode = problems.length ? 1 : 0;
