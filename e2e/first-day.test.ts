// A new person's first day on a bad network (issue 22), against the real server through a
// proxy that slows uploads or drops requests (e2e/network.ts): a reload mid-upload shows the
// clip at once and sends it exactly once without the recorder being opened; a text that failed
// while requests were failing survives a reload and arrives once when they go through again.
// WebKit's recorder gives no bytes here (docs/recorder.md), so the recording test runs in the
// engines that record. Needs the built library (npm run build).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { enginesFromEnv, type EnginePage } from '../scripts/browsers.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';
import { browsers, open, send, site, type Person } from './people.js';
import { startBadNetwork, type BadNetwork } from './network.js';

type Server = Awaited<ReturnType<typeof startReferenceServer>>;

const dataDir = mkdtempSync(join(tmpdir(), 'reelchat-e2e-firstday-'));
let server: Server;
let network: BadNetwork;

before(async () => {
  server = await startReferenceServer({ dataDir, args: ['--demo'] });
  network = await startBadNetwork(server.url);
  site.url = network.url;
});

after(async () => {
  await Promise.all(browsers.map((browser) => browser.close()));
  await network?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Query {
  /** Selectors, each looked for inside the matches of the one before (through shadow roots). */
  chain: string[];
  /** Only matches whose text includes this. */
  text?: string;
  /** Click the first match. */
  click?: boolean;
}

/** Runs in the page (sent as text, so it carries its own search): the matches' texts. */
function query({ chain, text, click }: Query): string[] {
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
  let matches: Element[] = [document.documentElement];
  for (const selector of chain) matches = [...new Set(matches.flatMap((m) => below(selector, m)))];
  matches = matches.filter((m) => text === undefined || (m.textContent ?? '').includes(text));
  if (click) (matches[0] as HTMLElement | undefined)?.click();
  return matches.map((m) => (m.textContent ?? '').trim());
}

const ask = (page: EnginePage, q: Query) => page.evaluate(query, q);

/** Waits until `q` matches `count` elements (at least one by default); resolves to the ms it took. */
async function until(page: EnginePage, q: Query, what: string, count?: number, timeout = 30_000) {
  const start = Date.now();
  for (;;) {
    const found = (await ask(page, q)).length;
    if (count === undefined ? found > 0 : found === count) return Date.now() - start;
    if (Date.now() - start > timeout) throw new Error(`timed out: ${what} (${found} found)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Records a take of `seconds` in the chat's recorder and presses Send (it starts uploading). */
async function recordAndSend({ page }: Person, seconds: number): Promise<void> {
  const recorder = (state: string) => ({ chain: [`reel-recorder[state="${state}"]`] });
  const press = (part: string) =>
    ask(page, { chain: ['reel-recorder', `[part~="${part}"]`], click: true });
  await until(page, { chain: ['reel-chat[connection="online"]'] }, 'online');
  await ask(page, { chain: ['reel-chat', '[part~="record-button"]'], click: true });
  await until(page, recorder('previewing'), 'the preview');
  await press('record-button');
  await until(page, recorder('recording'), 'recording');
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await press('stop-button');
  await until(page, recorder('reviewing'), 'the review');
  await press('send-button');
}

const RECORDS = new Set(['chromium', 'firefox']);

for (const engine of enginesFromEnv()) {
  describe(`a first day on a bad network (${engine})`, { timeout: 180_000 }, () => {
    if (RECORDS.has(engine)) {
      it('shows a take at once after a reload mid-upload and sends it exactly once, recorder closed', async () => {
        const conversation = `reload-${engine}`;
        // Slow enough that after Send a backlog of several PATCHes is left: the reload cuts one
        // that is not the last. (A reload during the last PATCH, which declares the length, is
        // refused on resume: tus-js-client declares it again (src/transport/http/tus-upload.ts).)
        network.uploadRate = 10_000;
        const alice = await open(engine, 'alice', conversation);
        const bob = await open(engine, 'bob', conversation);
        await recordAndSend(alice, 6);
        // Well under way, far from done: its row says how far ("Sending… 14%").
        await until(
          alice.page,
          { chain: ['reel-chat', '[data-id="upload"]'], text: '%' },
          'the upload’s progress',
        );
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal(
          (await ask(bob.page, { chain: ['reel-chat', '[part~="video"]'] })).length,
          0,
          'the clip arrived before the reload',
        );

        await alice.page.goto(`${site.url}/?as=alice&conversation=${conversation}`);
        const shownIn = await until(
          alice.page,
          { chain: ['reel-chat', '[data-id^="take:"]'] },
          'the take after the reload',
        );
        assert.ok(shownIn < 1000, `the take showed ${shownIn} ms after the page loaded`);
        const row = await ask(alice.page, { chain: ['reel-chat', '[data-id^="take:"]'] });
        assert.match(row[0], /Sending|Waiting|Processing/);

        network.uploadRate = 400_000;
        await until(bob.page, { chain: ['reel-chat', '[part~="video"]'] }, 'Bob’s clip', 1, 90_000);
        await until(alice.page, { chain: ['reel-chat', '[data-id^="take:"]'] }, 'the row went', 0);
        // Once: nothing more comes.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        assert.equal((await ask(bob.page, { chain: ['reel-chat', '[part~="video"]'] })).length, 1);
        assert.equal(
          (await ask(alice.page, { chain: ['reel-chat', '[part~="video"]'] })).length,
          1,
        );
        assert.deepEqual(await ask(alice.page, { chain: ['reel-recorder'] }), []);
        network.uploadRate = undefined;
      });
    }

    if (RECORDS.has(engine)) {
      it('shows the take’s length in review and seeks', async () => {
        const alice = await open(engine, 'alice', `review-${engine}`);
        const recorder = (state: string) => ({ chain: [`reel-recorder[state="${state}"]`] });
        const press = (part: string) =>
          ask(alice.page, { chain: ['reel-recorder', `[part~="${part}"]`], click: true });
        await until(alice.page, { chain: ['reel-chat[connection="online"]'] }, 'online');
        await ask(alice.page, { chain: ['reel-chat', '[part~="record-button"]'], click: true });
        await until(alice.page, recorder('previewing'), 'the preview');
        await press('record-button');
        await new Promise((resolve) => setTimeout(resolve, 3000));
        await press('stop-button');
        await until(alice.page, recorder('reviewing'), 'the review');
        const [time] = await ask(alice.page, { chain: ['reel-recorder', '[part~="review-time"]'] });
        assert.match(time, /^0:00 \/ 0:0[234]$/);
        const at = await alice.page.evaluate(async () => {
          const find = (root: Document | ShadowRoot, selector: string): Element | null => {
            const hit = root.querySelector(selector);
            if (hit) return hit;
            for (const element of root.querySelectorAll('*')) {
              const inner = element.shadowRoot && find(element.shadowRoot, selector);
              if (inner) return inner;
            }
            return null;
          };
          const input = find(document, '[part~="scrubber"]') as HTMLInputElement;
          const video = find(document, '[part~="review"]') as HTMLVideoElement;
          for (let i = 0; i < 100 && !Number.isFinite(video.duration); i++)
            await new Promise((resolve) => setTimeout(resolve, 50));
          input.value = String(Number(input.max) / 2);
          input.dispatchEvent(new Event('input', { bubbles: true }));
          for (let i = 0; i < 100 && video.currentTime < 0.5; i++)
            await new Promise((resolve) => setTimeout(resolve, 50));
          return { time: video.currentTime, max: Number(input.max), duration: video.duration };
        });
        assert.ok(at.max > 2 && at.max < 4.5, `the scrubber's length: ${at.max}`);
        assert.ok(Math.abs(at.time - at.max / 2) < 0.5, `seeked to ${at.time} of ${at.max}`);
      });
    }

    if (RECORDS.has(engine)) {
      it('sends a clip of the held length when Record is held and let go', async () => {
        const conversation = `hold-${engine}`;
        const alice = await open(engine, 'alice', conversation);
        const bob = await open(engine, 'bob', conversation);
        const recorder = (state: string) => ({ chain: [`reel-recorder[state="${state}"]`] });
        await until(alice.page, { chain: ['reel-chat[connection="online"]'] }, 'online');
        await ask(alice.page, { chain: ['reel-chat', '[part~="record-button"]'], click: true });
        await until(alice.page, recorder('previewing'), 'the preview');
        // The pointer's press and release, as a mouse gives them, 3 s apart on Record.
        const pointer = (type: string) =>
          alice.page.evaluate((type: string) => {
            const find = (root: Document | ShadowRoot, selector: string): Element | null => {
              const hit = root.querySelector(selector);
              if (hit) return hit;
              for (const element of root.querySelectorAll('*')) {
                const inner = element.shadowRoot && find(element.shadowRoot, selector);
                if (inner) return inner;
              }
              return null;
            };
            const recorder = find(document, 'reel-recorder')!;
            const button = recorder.shadowRoot!.querySelector('[part~="primary-button"]')!;
            const box = button.getBoundingClientRect();
            const event = new PointerEvent(type, {
              bubbles: true,
              composed: true,
              button: 0,
              pointerId: 1,
              pointerType: 'mouse',
              clientX: box.left + box.width / 2,
              clientY: box.top + box.height / 2,
            });
            (type === 'pointerdown' ? button : window).dispatchEvent(event);
            if (type === 'pointerup') (button as HTMLElement).click();
            return true;
          }, type);
        await pointer('pointerdown');
        await until(alice.page, recorder('recording'), 'recording while held');
        await new Promise((resolve) => setTimeout(resolve, 3000));
        await pointer('pointerup');
        await until(alice.page, recorder('reviewing'), 'the review after the release');
        await ask(alice.page, { chain: ['reel-recorder', '[part~="send-button"]'], click: true });
        await until(
          bob.page,
          { chain: ['reel-chat', '[part~="duration"]'] },
          'Bob’s clip',
          1,
          90_000,
        );
        const [length] = await ask(bob.page, { chain: ['reel-chat', '[part~="duration"]'] });
        assert.match(length, /^0:0[34]$/, `the clip's length: ${length}`);
      });
    }

    it('keeps a text that failed on a dropping network across a reload and sends it once', async () => {
      const conversation = `texts-${engine}`;
      const alice = await open(engine, 'alice', conversation);
      const bob = await open(engine, 'bob', conversation);
      const sends = (method: string, path: string) =>
        method === 'POST' && path.endsWith('/messages');
      network.setDown(sends);
      await send(alice, 'kept across a reload');
      await until(alice.page, { chain: ['reel-chat[connection="offline"]'] }, 'the offline banner');
      await until(
        alice.page,
        { chain: ['reel-chat', '[part~="status"]'], text: 'Not sent' },
        'the failed text',
      );

      await alice.page.goto(`${site.url}/?as=alice&conversation=${conversation}`);
      await until(
        alice.page,
        { chain: ['reel-chat', '[part~="text"]'], text: 'kept across a reload' },
        'the kept text after the reload',
      );
      network.setDown(false);
      await until(
        bob.page,
        { chain: ['reel-chat', '[part~="text"]'], text: 'kept across a reload' },
        'Bob’s text',
      );
      await until(alice.page, { chain: ['reel-chat[connection="online"]'] }, 'back online');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const texts = (page: EnginePage) =>
        ask(page, { chain: ['reel-chat', '[part~="text"]'], text: 'kept across a reload' });
      assert.equal((await texts(bob.page)).length, 1);
      assert.equal((await texts(alice.page)).length, 1);
      assert.deepEqual(await ask(alice.page, { chain: ['reel-chat', '[part~="status"]'] }), []);
    });
  });
}
