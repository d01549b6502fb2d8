// A clip is its owner's alone until it is attached to a message: before that, the other
// members of the conversation cannot get it, fetch its media, or hear of it in events, live
// or replayed. From the attachment on, everyone in the conversation sees it.
// The converter here waits for the test's go, so each test decides whether a clip is
// attached before or after it is ready.
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
  type SseEvent,
  type TestServer,
} from './helpers.js';

interface VideoBody {
  id: string;
  state: string;
  playlist?: string;
}

describe('visibility of clips not yet attached to a message', () => {
  const converter = new HeldConverter({ hold: true });
  let server: TestServer;
  let alice: string;
  let bob: string;
  let clip = 0;

  before(async () => {
    // Gated conversions hold their slot: allow several at once.
    server = await startServer({ REELCHAT_CONVERT_CONCURRENCY: '4' }, { converter });
    alice = await server.token('alice', ['c1'], 'Alice');
    bob = await server.token('bob', ['c1'], 'Bob');
  });
  after(() => server.close());

  const getVideo = (id: string, token: string) =>
    fetch(`${server.url}/v1/conversations/c1/videos/${id}`, { headers: auth(token) });
  const media = (id: string, token: string) =>
    fetch(`${server.url}/media/${id}/index.m3u8`, { headers: auth(token) });
  const post = async (token: string, body: Record<string, string>) => {
    const response = await fetch(`${server.url}/v1/conversations/c1/messages`, {
      method: 'POST',
      headers: auth(token, { 'Content-Type': 'application/json' }),
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 201);
    return json<{ id: string }>(response);
  };
  const upload = () =>
    uploadBytes(server.url, alice, new Uint8Array(1000).fill(7), {
      conversation: 'c1',
      clientId: `clip-${++clip}`,
      filetype: 'video/webm',
    });
  const videoState = async (id: string, token: string) =>
    (await json<VideoBody>(await getVideo(id, token))).state;
  const stream = (token: string, lastEventId?: string) =>
    new SseReader().open(
      `${server.url}/v1/events?conversation=c1`,
      auth(token, lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }),
    );
  /** Waits for the message.created event of `messageId` on a stream. */
  const heard = (reader: SseReader, messageId: string) =>
    waitFor(
      () => (reader.events.some((event) => event.data.includes(messageId)) ? true : undefined),
      `message ${messageId} on the stream`,
      30_000,
    );
  /** The states in a stream's video.updated events of one video. */
  const updates = (events: SseEvent[], id: string) =>
    events
      .filter((event) => event.event === 'video.updated')
      .map((event) => (JSON.parse(event.data) as { video: VideoBody }).video)
      .filter((video) => video.id === id)
      .map((video) => video.state);

  it('shows a clip to its owner only, until it is attached; then to everyone', async () => {
    const aliceLive = await stream(alice);
    const bobLive = await stream(bob);
    // Replays below start after this message.
    const start = await post(alice, { clientId: 'v-start', text: 'start' });
    await heard(aliceLive, start.id);
    await heard(bobLive, start.id);

    const id = await upload();
    converter.release(id);
    await waitFor(
      async () => ((await videoState(id, alice)) === 'ready' ? true : undefined),
      'the clip to be ready',
    );
    // Events come in order: once a stream has this message, it has had the clip's events.
    const later = await post(alice, { clientId: 'v-later', text: 'after the clip' });

    // Alice sees her clip: GET, media, her events live and replayed.
    assert.equal((await getVideo(id, alice)).status, 200);
    assert.equal((await media(id, alice)).status, 200);
    await heard(aliceLive, later.id);
    assert.deepEqual(updates(aliceLive.events, id), ['processing', 'ready']);
    const aliceReplay = await stream(alice, findEventId(aliceLive, start.id));
    await heard(aliceReplay, later.id);
    assert.deepEqual(updates(aliceReplay.events, id), ['processing', 'ready']);
    await aliceReplay.close();

    // Bob: not found, exactly as a clip that does not exist; nothing in his events, live or
    // replayed — not the id, so no signed media URL either.
    const unknown = await getVideo('no-such-video', bob);
    const hidden = await getVideo(id, bob);
    assert.equal(hidden.status, 404);
    assert.deepEqual(await hidden.json(), await unknown.json());
    assert.equal((await media(id, bob)).status, 404);
    assert.equal((await media(id, bob)).status, (await media('no-such-video', bob)).status);
    const shared = await json<{ videos: VideoBody[] }>(
      await fetch(`${server.url}/v1/conversations/c1/videos?owner=alice`, { headers: auth(bob) }),
    );
    assert.deepEqual(shared.videos, []);
    await heard(bobLive, later.id);
    assert.equal(
      bobLive.events.some((event) => event.data.includes(id)),
      false,
    );
    const bobReplay = await stream(bob, findEventId(bobLive, start.id));
    await heard(bobReplay, later.id);
    assert.equal(
      bobReplay.events.some((event) => event.data.includes(id)),
      false,
    );
    await bobReplay.close();

    // Attached: Bob learns of it from the message and gets it, its media and its URLs.
    const message = await post(alice, { clientId: 'v-attach', video: id });
    await heard(bobLive, message.id);
    const seen = await getVideo(id, bob);
    assert.equal(seen.status, 200);
    const video = await json<VideoBody>(seen);
    assert.equal(video.state, 'ready');
    assert.equal((await media(id, bob)).status, 200);
    assert.equal((await fetch(server.url + video.playlist!)).status, 200);

    await aliceLive.close();
    await bobLive.close();
  });

  it('tells everyone when a clip attached while processing becomes ready', async () => {
    const bobLive = await stream(bob);
    const mark = await post(alice, { clientId: 'p-start', text: 'start' });
    await heard(bobLive, mark.id);

    const id = await upload();
    assert.equal(await videoState(id, alice), 'processing');
    assert.equal((await getVideo(id, bob)).status, 404);
    const message = await post(alice, { clientId: 'p-attach', video: id });
    // Attached while processing: Bob gets it as it is now.
    assert.equal(await videoState(id, bob), 'processing');

    converter.release(id);
    const ready = await waitFor(
      () => (updates(bobLive.events, id).length > 0 ? updates(bobLive.events, id) : undefined),
      'Bob to hear the clip is ready',
    );
    // The processing event came before the attachment: that one stays Alice's.
    assert.deepEqual(ready, ['ready']);
    const event = bobLive.events.find((e) => e.event === 'video.updated' && e.data.includes(id))!;
    const { video } = JSON.parse(event.data) as { video: VideoBody };
    assert.equal((await fetch(server.url + video.playlist!)).status, 200);
    assert.equal((await media(id, bob)).status, 200);

    // Replayed from before the upload, Bob's stream has the message and the ready event only.
    const replay = await stream(bob, findEventId(bobLive, mark.id));
    await waitFor(
      () => (updates(replay.events, id).length > 0 ? true : undefined),
      'the replayed ready event',
      30_000,
    );
    assert.ok(replay.events.some((e) => e.data.includes(message.id)));
    assert.deepEqual(updates(replay.events, id), ['ready']);
    await replay.close();
    await bobLive.close();
  });
});

/** The event id of the message.created event of `messageId` on a stream. */
function findEventId(reader: SseReader, messageId: string): string {
  const id = reader.events.find((event) => event.data.includes(messageId))?.id;
  assert.ok(id, `no event for message ${messageId}`);
  return id;
}
