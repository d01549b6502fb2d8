// Two people, two browsers, the real server: what `npm start` shows, driven end to end, in
// every engine (scripts/browsers.mjs; REELCHAT_ENGINES picks them). Each person has a browser
// of their own. WebKit's recorder gives no bytes here (its mock camera; see docs/recorder.md),
// so in the WebKit run Alice records in Chromium and Bob, in WebKit, plays her clips.
// Needs the built library (npm run build) — `npm test` builds first.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  enginesFromEnv,
  openBrowser,
  type Engine,
  type EngineBrowser,
} from '../scripts/browsers.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';

type Server = Awaited<ReturnType<typeof startReferenceServer>>;

const dataDir = mkdtempSync(join(tmpdir(), 'reelchat-e2e-'));
let server: Server;
const browsers: EngineBrowser[] = [];

before(async () => {
  server = await startReferenceServer({ dataDir, args: ['--demo'] });
});

after(async () => {
  await Promise.all(browsers.map((browser) => browser.close()));
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** What the page's functions below may use (as `helpers()`): queries through shadow roots. */
interface Helpers {
  /**
   * Elements matching the last selector inside those matching the one before, and so on, each
   * looked for in light and open shadow trees below (as Playwright's descendant combinator).
   */
  all(...chain: string[]): Element[];
  one(...chain: string[]): Element | null;
  /** Whether the element is there and shown. */
  visible(element: Element | null): boolean;
  /** The text of every message in the chat. */
  texts(): string[];
  reelEvents: { type: string; detail: { index: number; id: string } | null }[];
}
/** In the page (the setup in `open` defines it there); declared here for the types. */
const helpers = () => (window as unknown as { e2e: Helpers }).e2e;

/** One person's browser with only their own dialog, as on a real site. */
async function open(engine: Engine, user: 'alice' | 'bob', conversation: string) {
  const browser = await openBrowser(engine);
  browsers.push(browser);
  const page = await browser.newPage();
  await page.goto(`${server.url}/?as=${user}&conversation=${conversation}`);
  await page.waitFor(() => !!customElements.get('reel-chat'), undefined, {
    message: `[${user}] the library did not load`,
  });
  // Everything reelchat fires bubbles to the document: keep a log the test can read.
  await page.evaluate(() => {
    const below = (selector: string, root: Element | Document | ShadowRoot): Element[] => {
      const found: Element[] = [];
      const scopes: (Element | Document | ShadowRoot)[] = [root];
      if (root instanceof Element && root.shadowRoot) scopes.push(root.shadowRoot);
      for (const scope of scopes) {
        found.push(...scope.querySelectorAll(selector));
        for (const element of scope.querySelectorAll('*'))
          if (element.shadowRoot) found.push(...below(selector, element.shadowRoot));
      }
      return [...new Set(found)];
    };
    const all = (...chain: string[]) =>
      chain.reduce<Element[]>(
        (roots, selector) => [...new Set(roots.flatMap((root) => below(selector, root)))],
        [document as unknown as Element],
      );
    const log: Helpers['reelEvents'] = [];
    const e2e: Helpers = {
      all,
      one: (...chain) => all(...chain)[0] ?? null,
      // As Playwright has it: rendered, and not of zero size.
      visible: (element) => {
        const box = element?.isConnected ? element.getBoundingClientRect() : undefined;
        return !!box && box.width > 0 && box.height > 0 && element!.checkVisibility();
      },
      texts: () =>
        all('reel-chat', '[part~="text"]').map((element) => element.textContent?.trim() ?? ''),
      reelEvents: log,
    };
    // `helpers()` in the functions this test runs in the page.
    Object.assign(window, { e2e, helpers: () => e2e });
    // A dialog would mean script ran from a message.
    window.alert = () => log.push({ type: 'dialog', detail: null });
    for (const type of ['reel-clip-change', 'reel-ended', 'reel-error']) {
      document.addEventListener(type, (event) => {
        const detail = (event as CustomEvent).detail as Record<string, unknown>;
        log.push({
          type,
          detail:
            type === 'reel-clip-change'
              ? { index: detail.index as number, id: (detail.clip as { id: string }).id }
              : null,
        });
      });
    }
  });
  await page.waitFor(() => helpers().one('reel-chat', '[part~="input"]'), undefined, {
    message: `[${user}] no message input`,
  });
  return { browser, page, user };
}

type Person = Awaited<ReturnType<typeof open>>;

async function send({ page }: Person, text: string): Promise<void> {
  await page.type(() => helpers().one('reel-chat', '[part~="input"]'), undefined, `${text}\n`);
}

async function countText({ page }: Person, text: string): Promise<number> {
  return (await page.evaluate(() => helpers().texts())).filter((t) => t === text).length;
}

async function waitForText({ page, user }: Person, text: string, timeout = 20_000) {
  await page.waitFor(
    (text) =>
      helpers()
        .texts()
        .some((t) => t.includes(text)),
    text,
    {
      timeout,
      message: `[${user}] "${text}" did not arrive`,
    },
  );
}

async function recordClip({ page, user }: Person, seconds: number): Promise<void> {
  await page.click(() =>
    helpers().one('reel-chat', '[part~="composer"]', '[part~="record-button"]'),
  );
  const state = (wanted: string) =>
    page
      .waitFor((wanted) => helpers().one(`reel-recorder[state="${wanted}"]`), wanted, {
        timeout: 15_000,
      })
      .catch(async () => {
        const states = await page.evaluate(() =>
          helpers()
            .all('reel-recorder')
            .map((recorder) => recorder.getAttribute('state')),
        );
        throw new Error(`[${user}] the recorder did not reach ${wanted}: ${states.join(', ')}`);
      });
  const press = (name: string) =>
    page.click((name) => helpers().one('reel-recorder', `[part~="${name}"]`), name);
  await state('previewing');
  await press('record-button');
  await state('recording');
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await press('stop-button');
  await state('reviewing');
  await press('send-button');
  // The chat closes the recorder once the clip is uploaded and its message sent.
  await page.waitFor(() => !helpers().visible(helpers().one('reel-recorder')), undefined, {
    timeout: 30_000,
    message: `[${user}] the recorder did not close after sending`,
  });
}

async function closeAll(...people: Person[]): Promise<void> {
  for (const person of people) {
    browsers.splice(browsers.indexOf(person.browser), 1);
    await person.browser.close();
  }
}

for (const engine of enginesFromEnv()) {
  // Where the engine cannot record here, Alice records in Chromium (see the top).
  const recordsIn: Engine = engine === 'webkit' ? 'chromium' : engine;

  describe(`two people chatting with video (${engine})`, { timeout: 240_000 }, () => {
    it('sends text and clips live, and Bob plays Alice’s clips back to back', async () => {
      const conversation = `live-${engine}`;
      const alice = await open(recordsIn, 'alice', conversation);
      const bob = await open(engine, 'bob', conversation);

      await send(alice, 'Hello Bob, two clips coming');
      await waitForText(bob, 'Hello Bob, two clips coming');

      await recordClip(alice, 2.5);
      await recordClip(alice, 2.5);

      // Both clip messages reach Bob without a reload, and become playable.
      await bob.page.waitFor(
        () => helpers().all('reel-chat', '[part~="video"]').length === 2,
        undefined,
        {
          timeout: 30_000,
          message: 'Bob did not get both clips',
        },
      );
      await bob.page.waitFor(
        () => helpers().all('reel-chat', '[part~="play-button"]').length >= 2,
        undefined,
        {
          timeout: 60_000,
          message: 'the clips did not become playable',
        },
      );

      await bob.page.click(() => helpers().one('reel-chat', '[part~="play-all"]'));
      await bob.page.waitFor(
        () => helpers().reelEvents.some((e) => e.type === 'reel-ended'),
        undefined,
        {
          timeout: 60_000,
          message: 'the reel did not end',
        },
      );
      const events = await bob.page.evaluate(() => helpers().reelEvents);
      const changes = events
        .filter((e) => e.type === 'reel-clip-change')
        .map((e) => e.detail!.index);
      assert.deepEqual(changes, [0, 1], 'clip 1, then clip 2');
      assert.equal(events.filter((e) => e.type === 'reel-ended').length, 1);
      assert.deepEqual(
        events.filter((e) => e.type === 'reel-error' || e.type === 'dialog'),
        [],
      );

      await bob.page.click(() =>
        helpers().one('reel-chat', '[part~="reel-sheet"]', '[part~="close-button"]'),
      );
      await send(bob, 'Nice clips!');
      await waitForText(alice, 'Nice clips!');
      assert.equal(await countText(alice, 'Nice clips!'), 1);
      await closeAll(alice, bob);
    });

    it('shows both people offline while the server is down, then catches up with nothing lost or doubled', async () => {
      const conversation = `outage-${engine}`;
      const alice = await open(engine, 'alice', conversation);
      const bob = await open(engine, 'bob', conversation);
      await send(alice, 'before the outage');
      await waitForText(bob, 'before the outage');

      const offline = (person: Person, shown: boolean, timeout: number) =>
        person.page.waitFor(
          (shown) => helpers().visible(helpers().one('reel-chat', '[part~="offline"]')) === shown,
          shown,
          { timeout, message: `[${person.user}] offline banner not ${shown ? 'shown' : 'hidden'}` },
        );
      const port = new URL(server.url).port;
      await server.stop();
      await offline(alice, true, 15_000);
      await offline(bob, true, 15_000);
      // Written while the server is away: it fails now and goes once the server is back.
      await send(alice, 'during the outage');
      await new Promise((resolve) => setTimeout(resolve, 10_000));

      server = await startReferenceServer({ dataDir, args: ['--demo'], env: { PORT: port } });
      await offline(alice, false, 30_000);
      await send(alice, 'after the outage');
      await waitForText(bob, 'after the outage', 30_000);
      await waitForText(bob, 'during the outage', 30_000);
      await offline(bob, false, 30_000);

      for (const person of [alice, bob]) {
        for (const text of ['before the outage', 'during the outage', 'after the outage']) {
          assert.equal(await countText(person, text), 1, `${text} once`);
        }
      }
      await closeAll(alice, bob);
    });

    it('shows markup in a message as text and runs none of it', async () => {
      const conversation = `markup-${engine}`;
      const alice = await open(engine, 'alice', conversation);
      const bob = await open(engine, 'bob', conversation);
      const markup = '<img src=x onerror=alert(1)>';
      await send(alice, markup);
      await waitForText(bob, markup);
      assert.equal(await countText(bob, markup), 1);
      assert.equal(
        await bob.page.evaluate(() => helpers().all('reel-chat', '[part~="text"]', 'img').length),
        0,
      );
      assert.deepEqual(
        (await bob.page.evaluate(() => helpers().reelEvents)).filter((e) => e.type === 'dialog'),
        [],
      );
      await closeAll(alice, bob);
    });
  });
}
