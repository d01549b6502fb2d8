// Seen by (issue 15): PUT /v1/conversations/:c/videos/:id/watched records that a member
// watched a clip, on the server, so every device of theirs agrees; the Video JSON's
// `watchedBy` tells the owner everyone and the others only themselves; `video.watched`
// goes to the owner and to the watcher's own other streams, live and in replay.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HeldConverter } from './held-converter.js';
import {
  auth,
  json,
  SseReader,
  startServer,
  uploadBytes,
  waitFor,
  type TestServer,
} from './helpers.js';

interface VideoBody {
  id: string;
  state: string;
  watchedBy?: string[];
}
interface WatchEvent {
  type: string;
  id: string;
  watch: { video: string; conversation: string; user: string; watchedAt: string };
}

describe('seen by: PUT …/videos/:id/watched', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let carol: string;
  let clips = 0;

  before(async () => {
    server = await startServer({}, { converter: new HeldConverter() });
    alice = await server.token('alice', ['c1'], 'Alice');
    bob = await server.token('bob', ['c1'], 'Bob');
    carol = await server.token('carol', ['c1'], 'Carol');
  });
  after(() => server.close());

  const watched = (token: string, id: string, conversation = 'c1') =>
    fetch(`${server.url}/v1/conversations/${conversation}/videos/${id}/watched`, {
      method: 'PUT',
      headers: auth(token),
    });
  const video = async (token: string, id: string) =>
    json<VideoBody>(
      await fetch(`${server.url}/v1/conversations/c1/videos/${id}`, { headers: auth(token) }),
    );
  const reel = async (token: string, owner: string) =>
    (
      await json<{ videos: VideoBody[] }>(
        await fetch(`${server.url}/v1/conversations/c1/videos?owner=${owner}`, {
          headers: auth(token),
        }),
      )
    ).videos;
  const post = async (token: string, body: Record<string, string>) => {
    const response = await fetch(`${server.url}/v1/conversations/c1/messages`, {
      method: 'POST',
      headers: auth(token, { 'Content-Type': 'application/json' }),
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 201);
    return json<{ id: string }>(response);
  };
  /** A ready clip of Alice's; attached to a message unless `attach` is false. */
  const clip = async (attach = true) => {
    const id = await uploadBytes(server.url, alice, new Uint8Array(500).fill(++clips), {
      conversation: 'c1',
      clientId: `w-${clips}`,
      filetype: 'video/webm',
    });
    await waitFor(
      async () => ((await video(alice, id)).state === 'ready' ? true : undefined),
      'ready',
    );
    if (attach) await post(alice, { clientId: `w-msg-${clips}`, video: id });
    return id;
  };
  const stream = (token: string, lastEventId?: string) =>
    new SseReader().open(
      `${server.url}/v1/events?conversation=c1`,
      auth(token, lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }),
    );
  const watches = (reader: SseReader) =>
    reader.events
      .filter((event) => event.event === 'video.watched')
      .map((event) => JSON.parse(event.data) as WatchEvent);
  const heard = (reader: SseReader, id: string) =>
    waitFor(
      () => (reader.events.some((event) => event.data.includes(id)) ? true : undefined),
      `${id} on the stream`,
      30_000,
    );

  it('answers 204, idempotently; 404 for clips the caller cannot see, 400, 403', async () => {
    const id = await clip();
    assert.equal((await watched(bob, id)).status, 204);
    assert.equal((await watched(bob, id)).status, 204);
    assert.equal((await watched(bob, 'no-such-video')).status, 404);
    assert.equal((await watched(bob, 'bad.id')).status, 400);
    const outsider = await server.token('mallory', ['c2']);
    assert.equal((await watched(outsider, id)).status, 403);
    assert.equal((await watched(outsider, id, 'c2')).status, 404, 'not in that conversation');
    // Another member's clip not yet attached does not exist for Bob.
    const unattached = await clip(false);
    assert.equal((await watched(bob, unattached)).status, 404);
    assert.equal((await watched(alice, unattached)).status, 204, 'the owner may');
  });

  it('watchedBy: the owner sees who watched, in order; the others only themselves', async () => {
    const id = await clip();
    assert.deepEqual((await video(alice, id)).watchedBy, []);
    assert.equal((await watched(carol, id)).status, 204);
    assert.equal((await watched(bob, id)).status, 204);
    assert.deepEqual((await video(alice, id)).watchedBy, ['carol', 'bob']);
    assert.deepEqual((await video(bob, id)).watchedBy, ['bob']);
    assert.deepEqual((await video(carol, id)).watchedBy, ['carol']);
    const dave = await server.token('dave', ['c1']);
    assert.deepEqual((await video(dave, id)).watchedBy, []);
  });

  it('lets "play all" start at the first clip not watched on any device', async () => {
    const ids = [await clip(), await clip(), await clip()];
    const onPhone = await server.token('bob', ['c1']);
    const onLaptop = await server.token('bob', ['c1']);
    for (const id of ids.slice(0, 2)) assert.equal((await watched(onPhone, id)).status, 204);
    const list = (await reel(onLaptop, 'alice')).filter((v) => ids.includes(v.id));
    assert.deepEqual(
      list.map((v) => v.watchedBy),
      [['bob'], ['bob'], []],
    );
    const firstUnwatched = list.find((v) => !v.watchedBy!.includes('bob'));
    assert.equal(firstUnwatched?.id, ids[2]);
    // The owner's listing names the watchers.
    const owners = (await reel(alice, 'alice')).filter((v) => ids.includes(v.id));
    assert.deepEqual(
      owners.map((v) => v.watchedBy),
      [['bob'], ['bob'], []],
    );
  });

  it('sends video.watched to the owner and the watcher’s other streams, once, live and replayed', async () => {
    const id = await clip();
    const aliceLive = await stream(alice);
    const bobOther = await stream(bob);
    const carolLive = await stream(carol);
    const mark = await post(alice, { clientId: 'w-mark', text: 'mark' });
    for (const reader of [aliceLive, bobOther, carolLive]) await heard(reader, mark.id);
    const markEvent = aliceLive.events.find((event) => event.data.includes(mark.id))!.id!;

    assert.equal((await watched(bob, id)).status, 204);
    assert.equal((await watched(bob, id)).status, 204);
    const later = await post(alice, { clientId: 'w-later', text: 'later' });
    for (const reader of [aliceLive, bobOther, carolLive]) await heard(reader, later.id);

    for (const reader of [aliceLive, bobOther]) {
      const heardWatches = watches(reader);
      assert.equal(heardWatches.length, 1, 'once, however often it is marked');
      assert.deepEqual(
        { ...heardWatches[0]!.watch, watchedAt: 'x' },
        { video: id, conversation: 'c1', user: 'bob', watchedAt: 'x' },
      );
    }
    assert.deepEqual(watches(carolLive), [], 'not to other members');

    const replay = await stream(alice, markEvent);
    await heard(replay, later.id);
    assert.deepEqual(
      watches(replay).map((event) => event.watch.user),
      ['bob'],
    );
    for (const reader of [aliceLive, bobOther, carolLive, replay]) await reader.close();
  });
});
