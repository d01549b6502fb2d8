// Uploads end to end with real ffmpeg: tus (tus-js-client and raw PATCHes), conversion to
// HLS, media serving with tokens and ranges, bad inputs, idempotency and termination.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tus from 'tus-js-client';
import {
  auth,
  createUpload,
  headUpload,
  json,
  makeClip,
  patchUpload,
  probeDuration,
  removeClips,
  startServer,
  uploadBytes,
  waitFor,
  type TestServer,
} from './helpers.js';

interface VideoBody {
  id: string;
  state: string;
  reason?: string;
  duration?: number;
  width?: number;
  height?: number;
  bytes?: number;
  sha256?: string;
  playlist?: string;
  poster?: string;
  mediaType?: string;
  createdAt: string;
  readyAt?: string;
  owner: string;
  conversation: string;
}

const MAX_UPLOAD = 4 * 1024 * 1024;

describe('uploads and conversion', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let eve: string;

  before(async () => {
    server = await startServer({ REELCHAT_MAX_UPLOAD_BYTES: String(MAX_UPLOAD) });
    alice = await server.token('alice', ['c1'], 'Alice');
    bob = await server.token('bob', ['c1'], 'Bob');
    eve = await server.token('eve', ['c9'], 'Eve');
  });
  after(async () => {
    await server.close();
    await removeClips();
  });

  const video = async (id: string, token = alice): Promise<VideoBody> =>
    json<VideoBody>(
      await fetch(`${server.url}/v1/conversations/c1/videos/${id}`, { headers: auth(token) }),
    );
  const settled = (id: string) =>
    waitFor(async () => {
      const body = await video(id);
      return body.state === 'processing' ? undefined : body;
    }, `video ${id} to settle`);
  const uploadFiles = async (id: string) =>
    (await readdir(join(server.dataDir, 'uploads'))).filter((name) => name.startsWith(id));

  /** The upload's bytes and the video's media are both gone. */
  const assertNothingKept = async (id: string) => {
    assert.deepEqual(await uploadFiles(id), []);
    assert.equal(existsSync(join(server.dataDir, 'media', id)), false);
  };

  async function assertPlayable(ready: VideoBody, source: string, width: number, height: number) {
    assert.equal(ready.state, 'ready');
    assert.equal(ready.mediaType, 'hls');
    assert.equal(ready.width, width);
    assert.equal(ready.height, height);
    assert.equal(ready.bytes, (await stat(source)).size);
    // The checksum of the bytes that arrived: a client can check its upload was intact.
    const sha256 = createHash('sha256')
      .update(await readFile(source))
      .digest('hex');
    assert.equal(ready.sha256, sha256);
    assert.ok(ready.readyAt && Date.parse(ready.readyAt) >= Date.parse(ready.createdAt));
    const expected = await probeDuration(source);
    assert.ok(
      Math.abs(ready.duration! - expected) < 0.2,
      `duration ${ready.duration} vs ${expected}`,
    );
    // ffprobe reads the served playlist over HTTP: every URI in it carries the token.
    const served = await probeDuration(server.url + ready.playlist!);
    assert.ok(Math.abs(served - expected) < 0.2, `served playlist ${served} vs source ${expected}`);
    const poster = await fetch(server.url + ready.poster!);
    assert.equal(poster.status, 200);
    assert.equal(poster.headers.get('content-type'), 'image/jpeg');
    const jpeg = Buffer.from(await poster.arrayBuffer());
    assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
  }

  it('turns an H.264 MP4 sent with tus-js-client into HLS', async () => {
    const source = await makeClip('mp4', 2);
    const bytes = await readFile(source);
    const url = await new Promise<string>((resolve, reject) => {
      const upload = new tus.Upload(bytes, {
        endpoint: `${server.url}/v1/uploads`,
        metadata: { conversation: 'c1', clientId: 'clip-mp4', filetype: 'video/mp4' },
        headers: auth(alice),
        chunkSize: 64 * 1024,
        retryDelays: [],
        onSuccess: () => resolve(upload.url!),
        onError: reject,
      });
      upload.start();
    });
    const id = url.split('/').pop()!;
    const ready = await settled(id);
    await assertPlayable(ready, source, 320, 240);
    assert.equal(ready.owner, 'alice');
    assert.equal(ready.conversation, 'c1');
    // The uploaded bytes are not kept once converted; the upload still answers HEAD.
    assert.deepEqual(await uploadFiles(id), []);
    const head = await headUpload(server.url, alice, id);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('upload-offset'), String(bytes.length));
    assert.equal(head.headers.get('upload-length'), String(bytes.length));

    // Shared as a message, it is in the owner's reel.
    const sent = await fetch(`${server.url}/v1/conversations/c1/messages`, {
      method: 'POST',
      headers: auth(alice, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ clientId: 'msg-mp4', video: id }),
    });
    assert.equal(sent.status, 201);
    assert.equal((await json(sent)).video, id);
    const reel = await json<{ videos: VideoBody[] }>(
      await fetch(`${server.url}/v1/conversations/c1/videos?owner=alice`, { headers: auth(bob) }),
    );
    assert.deepEqual(
      reel.videos.map((v) => v.id),
      [id],
    );
    const none = await json<{ videos: VideoBody[] }>(
      await fetch(`${server.url}/v1/conversations/c1/videos?owner=bob`, { headers: auth(bob) }),
    );
    assert.deepEqual(none.videos, []);
    // Someone else cannot attach it, and it cannot be attached twice.
    for (const [token, clientId] of [
      [bob, 'bob-steals'],
      [alice, 'msg-mp4-again'],
    ] as const) {
      const response = await fetch(`${server.url}/v1/conversations/c1/messages`, {
        method: 'POST',
        headers: auth(token, { 'Content-Type': 'application/json' }),
        body: JSON.stringify({ clientId, video: id }),
      });
      assert.equal(response.status, token === bob ? 400 : 409);
    }
    // An attached video cannot be terminated.
    const del = await fetch(`${server.url}/v1/uploads/${id}`, {
      method: 'DELETE',
      headers: auth(alice, { 'Tus-Resumable': '1.0.0' }),
    });
    assert.equal(del.status, 409);
  });

  it('serves media to members only, with ranges, types and caching', async () => {
    const source = await makeClip('mp4', 2);
    const id = await uploadBytes(server.url, alice, await readFile(source), {
      conversation: 'c1',
      clientId: 'clip-media',
      filetype: 'video/mp4',
    });
    const ready = await settled(id);
    assert.equal(ready.state, 'ready');
    const base = `${server.url}/media/${id}`;

    // With the signed token: the playlist's URIs carry it too.
    const playlist = await fetch(server.url + ready.playlist!);
    assert.equal(playlist.status, 200);
    assert.equal(playlist.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.match(playlist.headers.get('cache-control')!, /max-age=5|no-cache/);
    const text = await playlist.text();
    const t = new URL(server.url + ready.playlist!).searchParams.get('t')!;
    assert.match(text, /#EXT-X-MAP:URI="init\.mp4\?t=[^"]+"/);
    const segments = text.split('\n').filter((line) => line && !line.startsWith('#'));
    assert.ok(segments.length >= 1);
    for (const line of segments) assert.ok(line.endsWith(`?t=${encodeURIComponent(t)}`), line);

    // With a member's bearer token, once the clip is shared (attached to a message).
    const shared = await fetch(`${server.url}/v1/conversations/c1/messages`, {
      method: 'POST',
      headers: auth(alice, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ clientId: 'msg-media', video: id }),
    });
    assert.equal(shared.status, 201);
    const segment = await fetch(`${base}/seg0.m4s`, { headers: auth(bob) });
    assert.equal(segment.status, 200);
    assert.equal(segment.headers.get('content-type'), 'video/mp4');
    assert.equal(segment.headers.get('cache-control'), 'private, max-age=31536000, immutable');
    const size = (await segment.arrayBuffer()).byteLength;
    const init = await fetch(`${base}/init.mp4?t=${t}`);
    assert.equal(init.status, 200);
    assert.equal(init.headers.get('content-type'), 'video/mp4');

    // Ranges.
    const part = await fetch(`${base}/seg0.m4s`, { headers: auth(bob, { Range: 'bytes=10-19' }) });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 10-19/${size}`);
    assert.equal((await part.arrayBuffer()).byteLength, 10);
    const tail = await fetch(`${base}/seg0.m4s`, { headers: auth(bob, { Range: 'bytes=-5' }) });
    assert.equal(tail.status, 206);
    assert.equal((await tail.arrayBuffer()).byteLength, 5);
    const beyond = await fetch(`${base}/seg0.m4s`, {
      headers: auth(bob, { Range: `bytes=${size}-` }),
    });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${size}`);

    // Not for others: a non-member's bearer, a token for another video, a tampered token.
    assert.equal((await fetch(`${base}/seg0.m4s`, { headers: auth(eve) })).status, 403);
    assert.equal((await fetch(`${base}/seg0.m4s`)).status, 401);
    const [exp, mac] = t.split('.');
    assert.equal((await fetch(`${base}/seg0.m4s?t=${Number(exp) + 60}.${mac}`)).status, 401);
    assert.equal((await fetch(`${server.url}/media/otherid/seg0.m4s?t=${t}`)).status, 401);
    assert.equal((await fetch(`${base}/seg999.m4s?t=${t}`)).status, 404);
  });

  it('takes a deferred-length WebM in several PATCHes, interrupted and resumed', async () => {
    const source = await makeClip('webm-vp8', 3);
    const bytes = await readFile(source);
    const created = await createUpload(
      server.url,
      alice,
      { conversation: 'c1', clientId: 'clip-webm', filetype: 'video/webm;codecs=vp8,opus' },
      'deferred',
    );
    assert.equal(created.status, 201);
    const location = created.headers.get('location')!;
    assert.match(location, /^\/v1\/uploads\/[A-Za-z0-9_-]{21}$/);
    const id = location.split('/').pop()!;
    assert.ok(Date.parse(created.headers.get('upload-expires')!) > Date.now());
    const head0 = await headUpload(server.url, alice, id);
    assert.equal(head0.headers.get('upload-defer-length'), '1');

    const third = Math.floor(bytes.length / 3);
    const first = await patchUpload(server.url, alice, id, 0, bytes.subarray(0, third));
    assert.equal(first.status, 204);
    assert.equal(first.headers.get('upload-offset'), String(third));

    // Interrupted: the connection drops after part of the second chunk.
    await interruptedPatch(server.url, alice, id, third, bytes.subarray(third, 2 * third));
    const head = await headUpload(server.url, alice, id);
    assert.equal(head.status, 200);
    const offset = Number(head.headers.get('upload-offset'));
    assert.ok(offset >= third && offset < 2 * third, `offset ${offset}`);

    // A PATCH at a wrong offset changes nothing.
    assert.equal(
      (await patchUpload(server.url, alice, id, offset + 1, bytes.subarray(0, 10))).status,
      409,
    );
    // Only the uploader may continue.
    assert.equal((await headUpload(server.url, bob, id)).status, 403);
    assert.equal(
      (await patchUpload(server.url, bob, id, offset, bytes.subarray(offset))).status,
      403,
    );

    const second = await patchUpload(
      server.url,
      alice,
      id,
      offset,
      bytes.subarray(offset, 2 * third),
    );
    assert.equal(second.status, 204);
    const last = await patchUpload(
      server.url,
      alice,
      id,
      2 * third,
      bytes.subarray(2 * third),
      bytes.length,
    );
    assert.equal(last.status, 204);
    assert.equal(last.headers.get('upload-offset'), String(bytes.length));

    const ready = await settled(id);
    await assertPlayable(ready, source, 320, 240);
  });

  it('keeps one upload per clientId, and termination leaves nothing', async () => {
    const meta = { conversation: 'c1', clientId: 'clip-once', filetype: 'video/webm' };
    const first = await createUpload(server.url, alice, meta, 1000);
    assert.equal(first.status, 201);
    const id = first.headers.get('location')!.split('/').pop()!;
    assert.equal((await patchUpload(server.url, alice, id, 0, new Uint8Array(100))).status, 204);

    const second = await createUpload(server.url, alice, meta, 1000);
    assert.equal(second.status, 409);
    const { error } = await json<{ error: { code: string; upload: string; message: string } }>(
      second,
    );
    assert.equal(error.code, 'conflict');
    assert.equal(error.upload, id);
    assert.match(error.message, new RegExp(`upload ${id}`));
    // Another user's clientIds are their own.
    assert.equal((await createUpload(server.url, bob, meta, 1000)).status, 201);

    // Only the uploader may terminate.
    const denied = await fetch(`${server.url}/v1/uploads/${id}`, {
      method: 'DELETE',
      headers: auth(bob, { 'Tus-Resumable': '1.0.0' }),
    });
    assert.equal(denied.status, 403);
    const deleted = await fetch(`${server.url}/v1/uploads/${id}`, {
      method: 'DELETE',
      headers: auth(alice, { 'Tus-Resumable': '1.0.0' }),
    });
    assert.equal(deleted.status, 204);
    assert.equal((await headUpload(server.url, alice, id)).status, 404);
    assert.equal(
      (await fetch(`${server.url}/v1/conversations/c1/videos/${id}`, { headers: auth(alice) }))
        .status,
      404,
    );
    await assertNothingKept(id);
    // The clientId is free again.
    const again = await createUpload(server.url, alice, meta, 1000);
    assert.equal(again.status, 201);
    assert.notEqual(again.headers.get('location')!.split('/').pop(), id);
  });

  it('refuses bad creations with their 4xx and keeps nothing', async () => {
    const good = { conversation: 'c1', clientId: 'bad-1', filetype: 'video/mp4' };
    const cases: [string, Record<string, string>, number | 'deferred', string, number][] = [
      ['no token', good, 100, '', 401],
      ['non-member', good, 100, eve, 403],
      ['other conversation', { ...good, conversation: 'c2' }, 100, alice, 403],
      ['not a video type', { ...good, filetype: 'text/plain' }, 100, alice, 400],
      ['no filetype', { conversation: 'c1', clientId: 'bad-1' }, 100, alice, 400],
      ['bad clientId', { ...good, clientId: '../x' }, 100, alice, 400],
      ['bad conversation', { ...good, conversation: '../c1' }, 100, alice, 400],
      ['zero bytes', good, 0, alice, 400],
      ['too large', good, MAX_UPLOAD + 1, alice, 413],
    ];
    for (const [what, meta, length, token, status] of cases) {
      const response = await fetch(`${server.url}/v1/uploads`, {
        method: 'POST',
        headers: {
          ...(token ? auth(token) : {}),
          'Tus-Resumable': '1.0.0',
          'Upload-Metadata': Object.entries(meta)
            .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
            .join(','),
          'Upload-Length': String(length),
        },
      });
      assert.equal(response.status, status, what);
      const body = await json<{ error: { code: string } }>(response);
      assert.ok(body.error.code, what);
    }
    // Nothing was kept: the clientId is still free.
    assert.equal((await createUpload(server.url, alice, good, 100)).status, 201);
  });

  it('cuts a deferred-length upload off past the size limit', async () => {
    const created = await createUpload(
      server.url,
      alice,
      { conversation: 'c1', clientId: 'huge', filetype: 'video/webm' },
      'deferred',
    );
    const id = created.headers.get('location')!.split('/').pop()!;
    const response = await patchUpload(server.url, alice, id, 0, new Uint8Array(MAX_UPLOAD + 1024));
    assert.equal(response.status, 413);
    const head = await headUpload(server.url, alice, id);
    assert.ok(Number(head.headers.get('upload-offset')) <= MAX_UPLOAD);
  });

  it('fails non-video, truncated, empty, playlist and concat files with a reason, reading nothing else', async () => {
    const mp4 = await readFile(await makeClip('mp4', 2));
    const random = Buffer.alloc(50_000);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919) % 251;
    // Playlists and concat scripts naming a loopback listener: nothing may fetch from it.
    const requests: string[] = [];
    const listener = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const bait = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const inputs: [string, Uint8Array][] = [
      ['noise', random],
      ['truncated', mp4.subarray(0, Math.floor(mp4.length * 0.6))],
      ['playlist', Buffer.from(`#EXTM3U\n#EXTINF:1,\n${bait}/x.ts\n#EXT-X-ENDLIST\n`)],
      ['concat', Buffer.from(`ffconcat version 1.0\nfile '${bait}/y.mp4'\n`)],
      ['local', Buffer.from(`#EXTM3U\n#EXTINF:1,\nfile://${server.dataDir}/reelchat.db\n`)],
    ];
    const ids: string[] = [];
    for (const [name, bytes] of inputs) {
      ids.push(
        await uploadBytes(server.url, alice, bytes, {
          conversation: 'c1',
          clientId: `bad-${name}`,
          filetype: 'video/mp4',
        }),
      );
    }
    // A deferred-length upload that ends up empty.
    const empty = await createUpload(
      server.url,
      alice,
      { conversation: 'c1', clientId: 'bad-empty', filetype: 'video/webm' },
      'deferred',
    );
    const emptyId = empty.headers.get('location')!.split('/').pop()!;
    assert.equal(
      (await patchUpload(server.url, alice, emptyId, 0, new Uint8Array(0), 0)).status,
      204,
    );
    ids.push(emptyId);

    for (const id of ids) {
      const failed = await settled(id);
      assert.equal(failed.state, 'failed', id);
      assert.ok(failed.reason && failed.reason.length > 0);
      assert.equal(failed.playlist, undefined);
      await assertNothingKept(id);
    }
    listener.close();
    assert.deepEqual(requests, []);
  });
});

/** Sends part of a PATCH body, then drops the connection. */
function interruptedPatch(
  base: string,
  token: string,
  id: string,
  offset: number,
  chunk: Uint8Array,
): Promise<void> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const req = request({
      host: hostname,
      port,
      path: `/v1/uploads/${id}`,
      method: 'PATCH',
      headers: auth(token, {
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': String(chunk.length),
      }),
    });
    req.on('error', () => resolve());
    req.on('response', () => resolve());
    req.write(chunk.subarray(0, Math.floor(chunk.length / 2)), () => {
      // Give the server a moment to take in what was sent, then cut the connection.
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
  });
}
