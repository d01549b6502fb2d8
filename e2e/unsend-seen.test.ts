// Unsend and "Seen" end to end: two people, their own browsers, the real server (issue 15).
// Alice unsends a clip while Bob's reel plays it: Bob's reel goes on with the next clip, his
// dialog shows "Message deleted" and the clip's media answer 404. Bob watches Alice's next
// clip to its end: Alice sees "Seen", and Bob's other browser (another device, nothing in
// its own storage) starts "Play all" past it. In the WebKit run Alice records in Chromium
// (see two-people.test.ts). Needs the built library (npm run build).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enginesFromEnv, type Engine } from '../scripts/browsers.mjs';
import { closeAll, demoSite, helpers, open, type Person, recordClip } from './people.js';

const demo = demoSite('unsend');

interface Row {
  id: string;
  video?: string;
}

/** This person's own video messages, oldest first: message and video ids. */
function ownClips({ page }: Person): Promise<Row[]> {
  return page.evaluate(() =>
    helpers()
      .all('reel-chat', '[part~="message-own"]')
      .map((row) => ({
        id: (row as HTMLElement).dataset.id!,
        video: row.querySelector<HTMLElement>('[data-video]')?.dataset.video,
      }))
      .filter((row) => row.video !== undefined),
  );
}

/** In the page (`withRows` defines it there): a part inside the row of message `id`. */
declare function inRow(id: string, part: string): Element | null;

async function withRows(person: Person): Promise<Person> {
  await person.page.evaluate(() => {
    const inRow = (id: string, part: string) => {
      const row = helpers()
        .all('reel-chat', '[data-id]')
        .find((element) => (element as HTMLElement).dataset.id === id);
      return row?.querySelector(`[part~="${part}"]`) ?? null;
    };
    Object.assign(window, { inRow });
  });
  return person;
}

type ReelState = {
  clips: { id: string; src: string }[];
  position: { index: number; offset: number };
} | null;

function reelState({ page }: Person): Promise<ReelState> {
  return page.evaluate(() => {
    const reel = helpers().one('reel-chat', '[part~="reel"]') as
      | (Element & {
          clips: { id: string; src: string }[];
          position: { index: number; offset: number };
        })
      | null;
    return reel ? { clips: reel.clips, position: reel.position } : null;
  });
}

async function openReel(person: Person): Promise<void> {
  await person.page.click(() => helpers().one('reel-chat', '[part~="play-all"]'));
  await person.page.waitFor(() => helpers().one('reel-chat', '[part~="reel"]'), undefined, {
    timeout: 15_000,
    message: `[${person.user}] the reel did not open`,
  });
}

/** The ids of the clips the reel changed to, in order. */
async function changes({ page }: Person): Promise<string[]> {
  const events = await page.evaluate(() => helpers().reelEvents);
  return events.filter((e) => e.type === 'reel-clip-change').map((e) => e.detail!.id);
}

for (const engine of enginesFromEnv()) {
  const recordsIn: Engine = engine === 'webkit' ? 'chromium' : engine;

  describe(`unsend and seen (${engine})`, { timeout: 300_000 }, () => {
    it('Alice unsends the clip Bob is watching; he sees it go; "Seen" reaches her; his other browser skips what he watched', async () => {
      const conversation = `unsend-${engine}`;
      const alice = await withRows(await open(recordsIn, 'alice', conversation));
      const bob = await withRows(await open(engine, 'bob', conversation));
      // The first clip is long enough to unsend it while it plays.
      await recordClip(alice, 6);
      await recordClip(alice, 2.5);
      await recordClip(alice, 2.5);
      await bob.page.waitFor(
        () => helpers().all('reel-chat', '[part~="play-button"]').length === 3,
        undefined,
        { timeout: 60_000, message: 'Bob did not get three playable clips' },
      );
      const [first, second, third] = await ownClips(alice);
      assert.ok(first && second && third, 'Alice has her three clips');

      // Bob plays all; the first clip plays.
      await openReel(bob);
      await bob.page.waitFor(
        (id) => {
          const reel = helpers().one('reel-chat', '[part~="reel"]') as
            | (Element & {
                playlist: { id: string }[];
                position: { index: number; offset: number };
              })
            | null;
          return (
            !!reel && reel.playlist[reel.position.index]?.id === id && reel.position.offset > 0.5
          );
        },
        first.video,
        { timeout: 20_000, message: 'Bob’s reel did not play the first clip' },
      );
      const before = await reelState(bob);
      assert.deepEqual(
        before!.clips.map((clip) => clip.id),
        [first.video, second.video, third.video],
      );
      const media = new URL(before!.clips[0].src, demo.server.url).href;
      assert.equal((await fetch(media)).status, 200, 'the clip’s playlist is served before');

      // Alice unsends it from her dialog, through the confirm.
      await alice.page.click((id) => inRow(id, 'unsend-button'), first.id);
      // The confirm loads on the first Unsend (src/chat/unsend-confirm.ts): wait for it.
      await alice.page.waitFor((id) => inRow(id, 'unsend-yes'), first.id, {
        timeout: 10_000,
        message: 'the confirm did not open',
      });
      await alice.page.click((id) => inRow(id, 'unsend-yes'), first.id);
      await alice.page.waitFor((id) => inRow(id, 'deleted'), first.id, {
        timeout: 10_000,
        message: 'Alice’s message did not become deleted',
      });

      // Bob: the row says so, the reel goes on with the next clip, the media are gone.
      await bob.page.waitFor((id) => inRow(id, 'deleted')?.textContent?.trim(), first.id, {
        timeout: 10_000,
        message: 'Bob’s dialog did not show the message deleted',
      });
      assert.equal(
        await bob.page.evaluate((id) => inRow(id, 'deleted')!.textContent!.trim(), first.id),
        'Message deleted',
      );
      await bob.page.waitFor(
        (id) => {
          const reel = helpers().one('reel-chat', '[part~="reel"]') as
            (Element & { playlist: { id: string }[]; position: { index: number } }) | null;
          return reel?.playlist[reel.position.index]?.id === id;
        },
        second.video,
        { timeout: 15_000, message: 'Bob’s reel did not move on to the next clip' },
      );
      const after = await reelState(bob);
      assert.deepEqual(
        after!.clips.map((clip) => clip.id),
        [second.video, third.video],
      );
      assert.equal((await fetch(media)).status, 404, 'the unsent clip’s media answer 404');

      // The second clip plays to its end: watched; Bob closes the reel before the third ends.
      await bob.page.waitFor(
        (id) =>
          helpers().reelEvents.some((e) => e.type === 'reel-clip-watched' && e.detail?.id === id),
        second.video,
        { timeout: 20_000, message: 'Bob’s reel did not finish the second clip' },
      );
      await bob.page.click(() =>
        helpers().one('reel-chat', '[part~="reel-sheet"]', '[part~="close-button"]'),
      );
      const watched = (await bob.page.evaluate(() => helpers().reelEvents))
        .filter((e) => e.type === 'reel-clip-watched')
        .map((e) => e.detail!.id);
      assert.deepEqual(watched, [second.video], 'only the second clip was watched');
      assert.ok(!(await changes(bob)).slice(1).includes(first.video!));

      // Alice sees "Seen" on the second clip only.
      await alice.page.waitFor(
        (id) => inRow(id, 'seen')?.textContent?.trim() === 'Seen',
        second.id,
        {
          timeout: 15_000,
          message: 'Alice did not see "Seen"',
        },
      );
      assert.equal(
        await alice.page.evaluate((id) => inRow(id, 'seen'), third.id),
        null,
        'the third clip is not seen',
      );

      // Bob's other browser: the server's watchedBy, not this browser's storage, says where
      // "Play all" starts — at the third clip — and its badge counts one new clip.
      const other = await open(engine, 'bob', conversation);
      await other.page.waitFor(
        () => helpers().one('reel-chat', '[part~="badge"]')?.textContent?.trim() === '1 new',
        undefined,
        { timeout: 15_000, message: 'Bob’s other browser does not count one new clip' },
      );
      await openReel(other);
      await other.page.waitFor(
        () => helpers().reelEvents.some((e) => e.type === 'reel-clip-change'),
        undefined,
        { timeout: 20_000, message: 'the other browser’s reel did not start' },
      );
      assert.deepEqual(
        (await reelState(other))!.clips.map((clip) => clip.id),
        [second.video, third.video],
      );
      assert.equal((await changes(other))[0], third.video, 'it starts past the watched clip');
      await closeAll(alice, bob, other);
    });
  });
}
