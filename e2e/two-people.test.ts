// Two people, two browsers, the real server: what `npm start` shows, driven end to end, in
// every engine (scripts/browsers.mjs; REELCHAT_ENGINES picks them). Each person has a browser
// of their own. WebKit's recorder gives no bytes here (its mock camera; see docs/recorder.md),
// so in the WebKit run Alice records in Chromium and Bob, in WebKit, plays her clips.
// Needs the built library (npm run build) — `npm test` builds first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enginesFromEnv, type Engine } from '../scripts/browsers.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';
import {
  closeAll,
  countText,
  demoSite,
  helpers,
  open,
  type Person,
  recordClip,
  send,
  site,
  waitForText,
} from './people.js';

const demo = demoSite('two-people');

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
      const port = new URL(demo.server.url).port;
      await demo.server.stop();
      await offline(alice, true, 15_000);
      await offline(bob, true, 15_000);
      // Written while the server is away: it fails now and goes once the server is back.
      await send(alice, 'during the outage');
      await new Promise((resolve) => setTimeout(resolve, 10_000));

      demo.server = await startReferenceServer({
        dataDir: demo.dataDir,
        args: ['--demo'],
        env: { PORT: port },
      });
      site.url = demo.server.url;
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
