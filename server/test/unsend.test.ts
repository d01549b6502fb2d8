// Unsend (issue 15): DELETE /v1/conversations/:c/messages/:id. The message stays in the
// timeline as deleted, its clip's rows, media and upload bytes go, every member hears
// message.deleted (live and replayed), signed media links die with it, and neither a
// conversion finishing late nor a viewer mid-stream brings anything back or breaks.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HeldConverter } from './held-converter.js';
import {
  auth,
  createUpload,
  json,
  patchUpload,
  SseReader,
  startServer,
  uploadBytes,
  waitFor,
  type SseEvent,
  type TestServer,
} from './helpers.js';

interface MessageBody {
  id: string;
  author: string;
  text?: string;
  video?: string;
  deleted?: true;
  deletedAt?: string;
}
interface VideoBody {
  id: string;
  state: string;
  playlist?: string;
}

function harness(server: () => TestServer) {
  const url = () => server().url;
  const post = async (token: string, body: Record<string, string>, status = 201) => {
    const response = await fetch(`${url()}/v1/conversations/c1/messages`, {
      method: 'POST',
      headers: auth(token, { 'Content-Type': 'application/json' }),
      body: JSON.stringify(body),
    });
    assert.equal(response.status, status, await response.clone().text());
    return json<MessageBody>(response);
  };
  const unsend = (token: string, id: string, conversation = 'c1') =>
    fetch(`${url()}/v1/conversations/${conversation}/messages/${id}`, {
      method: 'DELETE',
      headers: auth(token),
    });
  const getVideo = (token: string, id: string) =>
    fetch(`${url()}/v1/conversations/c1/videos/${id}`, { headers: auth(token) });
  const messages = async (token: string) =>
    (
      await json<{ messages: MessageBody[] }>(
        await fetch(`${url()}/v1/conversations/c1/messages`, { headers: auth(token) }),
      )
    ).messages;
  const stream = (token: string, lastEventId?: string) =>
    new SseReader().open(
      `${url()}/v1/events?conversation=c1`,
      auth(token, lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }),
    );
  const heard = (reader: SseReader, type: string, id: string) =>
    waitFor(
      () => reader.events.find((event) => event.event === type && event.data.includes(id)),
      `${type} of ${id}`,
      30_000,
    );
  const readyVideo = (token: string, id: string) =>
    waitFor(async () => {
      const video = await json<VideoBody>(await getVideo(token, id));
      return video.state === 'ready' ? video : undefined;
    }, `video ${id} ready`);
  return { post, unsend, getVideo, messages, stream, heard, readyVideo };
}

const clipBytes = (n: number) => new Uint8Array(2000).fill(n);

describe('unsend: DELETE …/messages/:id', () => {
  const converter = new HeldConverter({ segmentBytes: 4 * 1024 * 1024 });
  let server: TestServer;
  let alice: string;
  let bob: string;
  let carol: string;
  let clips = 0;
  const h = harness(() => server);
  const upload = () =>
    uploadBytes(server.url, alice, clipBytes(++clips), {
      conversation: 'c1',
      clientId: `clip-${clips}`,
      filetype: 'video/webm',
    });

  before(async () => {
    server = await startServer({}, { converter });
    alice = await server.token('alice', ['c1'], 'Alice');
    bob = await server.token('bob', ['c1'], 'Bob');
    carol = await server.token('carol', ['c1', 'c2'], 'Carol');
  });
  after(() => server.close());

  it('answers 204 and keeps the message in its place as deleted; 403, 404, 400 otherwise', async () => {
    const first = await h.post(alice, { clientId: 'u-first', text: 'first' });
    const gone = await h.post(alice, { clientId: 'u-gone', text: 'take this back' });
    const last = await h.post(bob, { clientId: 'u-last', text: 'last' });

    assert.equal((await h.unsend(bob, gone.id)).status, 403, 'someone else’s');
    assert.equal((await h.unsend(alice, 'no-such-message')).status, 404);
    assert.equal((await h.unsend(alice, 'bad.id')).status, 400);
    assert.equal((await h.unsend(carol, gone.id, 'c2')).status, 404, 'not in that conversation');
    const outsider = await server.token('mallory', ['c9']);
    assert.equal((await h.unsend(outsider, gone.id)).status, 403, 'not a member');

    const deleted = await h.unsend(alice, gone.id);
    assert.equal(deleted.status, 204);
    assert.equal(await deleted.text(), '');
    assert.equal((await h.unsend(alice, gone.id)).status, 204, 'idempotent');

    const timeline = (await h.messages(bob)).filter((m) =>
      [first.id, gone.id, last.id].includes(m.id),
    );
    assert.deepEqual(
      timeline.map((m) => m.id),
      [first.id, gone.id, last.id],
    );
    const tombstone = timeline[1]!;
    assert.equal(tombstone.deleted, true);
    assert.equal(tombstone.author, 'alice');
    assert.equal(tombstone.text, undefined);
    assert.match(tombstone.deletedAt!, /^\d{4}-\d\d-\d\dT/);
    // A retry of the first send answers what is left, never a second message.
    const retried = await h.post(alice, { clientId: 'u-gone', text: 'take this back' }, 200);
    assert.equal(retried.id, gone.id);
    assert.equal(retried.deleted, true);
    assert.equal(retried.text, undefined);
  });

  it('tells every member, live and in replay; the replay no longer carries the text', async () => {
    const aliceLive = await h.stream(alice);
    const bobLive = await h.stream(bob);
    const carolLive = await h.stream(carol);
    const mark = await h.post(alice, { clientId: 'e-mark', text: 'mark' });
    for (const reader of [aliceLive, bobLive, carolLive])
      await h.heard(reader, 'message.created', mark.id);
    const markEvent = bobLive.events.find((event) => event.data.includes(mark.id))!.id!;

    const secret = await h.post(alice, { clientId: 'e-secret', text: 'a secret said too soon' });
    assert.equal((await h.unsend(alice, secret.id)).status, 204);
    for (const reader of [aliceLive, bobLive, carolLive]) {
      const event = await h.heard(reader, 'message.deleted', secret.id);
      const data = JSON.parse(event.data) as { type: string; message: MessageBody };
      assert.equal(data.type, 'message.deleted');
      assert.equal(data.message.deleted, true);
      assert.equal(data.message.text, undefined);
    }
    // A second unsend is no second event: a later message arrives with nothing between.
    assert.equal((await h.unsend(alice, secret.id)).status, 204);
    const later = await h.post(alice, { clientId: 'e-later', text: 'later' });
    await h.heard(bobLive, 'message.created', later.id);
    assert.equal(bobLive.events.filter((e) => e.data.includes(secret.id)).length, 2);

    const replay = await h.stream(bob, markEvent);
    await h.heard(replay, 'message.created', later.id);
    const about = replay.events.filter((event) => event.data.includes(secret.id));
    assert.deepEqual(
      about.map((event) => event.event),
      ['message.created', 'message.deleted'],
    );
    assert.equal(
      replay.events.some((event) => event.data.includes('a secret said too soon')),
      false,
    );
    for (const reader of [aliceLive, bobLive, carolLive, replay]) await reader.close();
  });

  it('removes a clip: not found, media 404 also by signed URL, files gone', async () => {
    const id = await upload();
    const video = await h.readyVideo(alice, id);
    const message = await h.post(alice, { clientId: 'm-clip', video: id });
    const bobsCopy = await json<VideoBody>(await h.getVideo(bob, id));
    const signed = `${server.url}${bobsCopy.playlist!}`;
    const segment = signed.replace('index.m3u8', 'seg0.m4s');
    assert.equal((await fetch(signed)).status, 200);
    const mediaDir = join(server.dataDir, 'media', id);
    assert.equal(existsSync(mediaDir), true);
    // Watched marks go with the clip.
    await fetch(`${server.url}/v1/conversations/c1/videos/${id}/watched`, {
      method: 'PUT',
      headers: auth(bob),
    });

    assert.equal((await h.unsend(alice, message.id)).status, 204);
    assert.equal((await h.getVideo(bob, id)).status, 404);
    assert.equal((await h.getVideo(alice, id)).status, 404);
    assert.equal((await fetch(signed)).status, 404, 'signed playlist still within its lifetime');
    assert.equal((await fetch(segment)).status, 404, 'signed segment');
    assert.equal((await fetch(`${server.url}${video.playlist!}`)).status, 404, 'the owner’s link');
    assert.equal(
      (await fetch(`${server.url}/media/${id}/index.m3u8`, { headers: auth(alice) })).status,
      404,
    );
    assert.equal(existsSync(mediaDir), false, 'the media folder is gone');
    const shared = await json<{ videos: VideoBody[] }>(
      await fetch(`${server.url}/v1/conversations/c1/videos?owner=alice`, { headers: auth(bob) }),
    );
    assert.equal(
      shared.videos.some((v) => v.id === id),
      false,
    );
    const tombstone = (await h.messages(bob)).find((m) => m.id === message.id)!;
    assert.equal(tombstone.video, undefined);
    assert.equal(tombstone.deleted, true);
  });

  it('is safe while someone streams the clip: the request in flight ends, new ones are 404', async () => {
    const id = await upload();
    await h.readyVideo(alice, id);
    const message = await h.post(alice, { clientId: 'm-streamed', video: id });
    const bobsCopy = await json<VideoBody>(await h.getVideo(bob, id));
    const segment = `${server.url}${bobsCopy.playlist!}`.replace('index.m3u8', 'seg0.m4s');

    // Bob's player has the 4 MB segment coming, and reads it slowly.
    const { hostname, port } = new URL(server.url);
    const path = segment.slice(server.url.length);
    const inFlight = new Promise<{ status: number; bytes: number; ended: string }>((resolve) => {
      const req = request({ host: hostname, port, path }, (res) => {
        let bytes = 0;
        res.pause();
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode!, bytes, ended: 'end' }));
        res.on('error', () => resolve({ status: res.statusCode!, bytes, ended: 'error' }));
        res.on('close', () => resolve({ status: res.statusCode!, bytes, ended: 'close' }));
        // Unsend while the response is open and mostly unread, then read on.
        void h.unsend(alice, message.id).then((answer) => {
          assert.equal(answer.status, 204);
          res.resume();
        });
      });
      req.end();
    });
    const streamed = await inFlight;
    // The file was open already: the viewer gets the segment whole, then the clip is gone.
    assert.deepEqual(streamed, { status: 200, bytes: 4 * 1024 * 1024, ended: 'end' });
    // The server is fine, and the clip is gone for every new request.
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await fetch(segment)).status, 404);
    assert.equal(existsSync(join(server.dataDir, 'media', id)), false);
  });
});

describe('unsend racing an upload or a conversion', () => {
  const converter = new HeldConverter({ hold: true, ignoreAbort: true });
  let server: TestServer;
  let alice: string;
  let bob: string;
  const h = harness(() => server);

  before(async () => {
    server = await startServer({}, { converter });
    alice = await server.token('alice', ['c1'], 'Alice');
    bob = await server.token('bob', ['c1'], 'Bob');
  });
  after(() => server.close());

  it('a conversion that ends after the unsend does not bring the clip back', async () => {
    const bobLive = await h.stream(bob);
    const id = await uploadBytes(server.url, alice, clipBytes(1), {
      conversation: 'c1',
      clientId: 'race-1',
      filetype: 'video/webm',
    });
    // Sent while still converting (the converter holds it), then unsent.
    const message = await h.post(alice, { clientId: 'race-msg', video: id });
    assert.equal((await json<VideoBody>(await h.getVideo(bob, id))).state, 'processing');
    await waitFor(
      () => (converter.finished.has(id) || hasWaiter(converter, id) ? true : undefined),
      'the conversion to start',
    );
    assert.equal((await h.unsend(alice, message.id)).status, 204);
    assert.equal(converter.aborted.has(id), true, 'the conversion was told to stop');

    // It finishes anyway, just too late: the worker finds no video to make ready.
    converter.release(id);
    await waitFor(() => (converter.finished.has(id) ? true : undefined), 'the late conversion');
    await waitFor(
      () => (existsSync(join(server.dataDir, 'media', id)) ? undefined : true),
      'its files removed',
      10_000,
    );
    const later = await h.post(alice, { clientId: 'race-later', text: 'later' });
    await h.heard(bobLive, 'message.created', later.id);
    const readyEvents = bobLive.events.filter(
      (event: SseEvent) => event.event === 'video.updated' && event.data.includes(id),
    );
    assert.deepEqual(readyEvents, [], 'no video.updated after the unsend');
    assert.equal((await h.getVideo(alice, id)).status, 404);
    assert.equal(existsSync(join(server.dataDir, 'uploads', id)), false, 'upload bytes gone');
    await bobLive.close();
  });

  it('a clip still uploading: the rest of its upload is refused and nothing is left', async () => {
    const bytes = clipBytes(2);
    const created = await createUpload(
      server.url,
      alice,
      { conversation: 'c1', clientId: 'race-2', filetype: 'video/webm' },
      bytes.length,
    );
    const id = created.headers.get('location')!.split('/').pop()!;
    assert.equal(
      (await patchUpload(server.url, alice, id, 0, bytes.subarray(0, 1000))).status,
      204,
    );
    const message = await h.post(alice, { clientId: 'race-2-msg', video: id });
    assert.equal((await h.unsend(alice, message.id)).status, 204);
    const rest = await patchUpload(server.url, alice, id, 1000, bytes.subarray(1000));
    assert.equal(rest.status, 404);
    assert.equal(existsSync(join(server.dataDir, 'uploads', id)), false);
    assert.equal((await h.getVideo(alice, id)).status, 404);
    // The clientId is free for a new take.
    const again = await createUpload(
      server.url,
      alice,
      { conversation: 'c1', clientId: 'race-2', filetype: 'video/webm' },
      bytes.length,
    );
    assert.equal(again.status, 201);
  });
});

function hasWaiter(converter: HeldConverter, id: string): boolean {
  return (converter as unknown as { waiting: Map<string, unknown> }).waiting.has(id);
}
