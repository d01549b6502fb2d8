// A take shared live through the demo (issue 25), against the real server in Chromium: Alice
// records with <reel-chat live>; Bob sees her message and "Alice is recording…" with a Live
// badge within a second, watches it in place and reaches its end after she sends it; and
// Alice cancelling mid-take, which Bob sees as a deleted message, its media gone. Needs the
// built library (npm run build).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoSite, helpers, open } from './people.js';

demoSite('livechat');

describe('a take shared live (chromium)', { timeout: 120_000 }, () => {
  it('Bob sees Alice recording, watches her take live and reaches its end', async () => {
    const conversation = 'live-chat';
    const alice = await open('chromium', 'alice', conversation, { live: true });
    const bob = await open('chromium', 'bob', conversation);
    const press = (name: string) =>
      alice.page.click((name) => helpers().one('reel-recorder', `[part~="${name}"]`), name);
    const recorder = (state: string) =>
      alice.page.waitFor((state) => helpers().one(`reel-recorder[state="${state}"]`), state, {
        timeout: 15_000,
      });
    await alice.page.click(() =>
      helpers().one('reel-chat', '[part~="composer"]', '[part~="record-button"]'),
    );
    await recorder('previewing');
    await press('record-button');
    const recordAt = Date.now();
    await bob.page.waitFor(() => helpers().one('reel-chat', '[part~="video"]'), undefined, {
      timeout: 10_000,
      message: 'Bob did not get the message',
    });
    const messageMs = Date.now() - recordAt;
    await bob.page.waitFor(
      () =>
        helpers()
          .one('reel-chat', '[part~="video"]', '[part~="video-state"]')
          ?.textContent?.includes('Alice is recording…') &&
        helpers().one('reel-chat', '[part~="video"]', '[part~="live-badge"]'),
      undefined,
      { timeout: 20_000, message: 'Bob does not see Alice recording' },
    );
    const liveMs = Date.now() - recordAt;
    console.log(`Record → Bob sees the message ${messageMs} ms, "is recording…" ${liveMs} ms`);
    assert.ok(messageMs <= 1000, `the message took ${messageMs} ms`);
    // The video is `live` from its upload's creation: "is recording…" comes with the message.
    assert.ok(liveMs <= 1000, `"is recording…" took ${liveMs} ms`);
    await bob.page.click(() =>
      helpers().one('reel-chat', '[part~="video"]', '[part~="play-button"]'),
    );
    await bob.page.waitFor(() => helpers().one('reel-chat', '[part~="video"] reel-player'));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await press('stop-button');
    await recorder('reviewing');
    await press('send-button');
    await bob.page.waitFor(
      () => helpers().reelEvents.some((event) => event.type === 'reel-ended'),
      undefined,
      { timeout: 40_000, message: 'Bob did not reach the end of the take' },
    );
    const errors = await bob.page.evaluate(() =>
      helpers().reelEvents.filter((event) => event.type === 'reel-error'),
    );
    assert.deepEqual(errors, []);
  });
  it("Alice cancels mid-take: Bob's view says the message is deleted, and the take's media is 404", async () => {
    const conversation = 'live-cancel';
    const alice = await open('chromium', 'alice', conversation, { live: true });
    const bob = await open('chromium', 'bob', conversation);
    const press = (name: string) =>
      alice.page.click((name) => helpers().one('reel-recorder', `[part~="${name}"]`), name);
    await alice.page.click(() =>
      helpers().one('reel-chat', '[part~="composer"]', '[part~="record-button"]'),
    );
    await alice.page.waitFor(() => helpers().one('reel-recorder[state="previewing"]'), undefined, {
      timeout: 15_000,
    });
    await press('record-button');
    await bob.page.waitFor(
      () => helpers().one('reel-chat', '[part~="video"]', '[part~="live-badge"]'),
      undefined,
      { timeout: 10_000, message: 'Bob does not see Alice recording' },
    );
    // Bob watches; his player has the take's playlist (a signed URL).
    await bob.page.click(() =>
      helpers().one('reel-chat', '[part~="video"]', '[part~="play-button"]'),
    );
    const playlist = String(
      await bob.page.waitFor(
        () =>
          (
            helpers().one('reel-chat', '[part~="video"] reel-player') as
              (Element & { clips?: { src: string }[] }) | null
          )?.clips?.[0]?.src,
        undefined,
        { timeout: 10_000, message: 'Bob has no player' },
      ),
    );
    assert.equal((await fetch(playlist)).status, 200, 'the live playlist plays before Cancel');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await press('cancel-button');
    await bob.page.waitFor(
      () =>
        helpers().one('reel-chat', '[part~="deleted"]')?.textContent?.includes('Message deleted'),
      undefined,
      { timeout: 10_000, message: 'Bob is not told the take was withdrawn' },
    );
    assert.equal(
      await bob.page.evaluate(() => helpers().one('reel-chat', '[part~="video"]')),
      null,
    );
    assert.equal((await fetch(playlist)).status, 404, 'the playlist is gone');
  });
});
