// Watching a take while it is recorded (issue 25; docs/protocol.md, "Live"): a deferred
// upload with the metadata `live`, `live` and its message posted before the first byte, the growing
// EVENT playlist with blocking reload, ENDLIST and `ready` at the end from the same (one)
// conversion, and the unsent take gone. Real server, real ffmpeg, a recording made by ffmpeg
// written to a pipe as a MediaRecorder's (keyframe every second), sent at real-time pace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  auth,
  createUpload,
  json,
  patchUpload,
  SseReader,
  startServer,
  waitFor,
  type TestServer,
} from './helpers.js';

const SECONDS = 6;

/** As Chromium records a live take: H.264 baseline, a keyframe every second, Opus, Matroska. */
async function recording(): Promise<Buffer> {
  const ffmpeg = spawn(
    'ffmpeg',
    [
      ...['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30:duration=${SECONDS}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`],
      ...['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-g', '30'],
      ...['-pix_fmt', 'yuv420p', '-c:a', 'libopus', '-f', 'matroska', 'pipe:1'],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const chunks: Buffer[] = [];
  ffmpeg.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await new Promise((resolve) => ffmpeg.once('close', resolve));
  assert.equal(code, 0);
  return Buffer.concat(chunks);
}

interface VideoBody {
  state: string;
  playlist?: string;
}

describe('a take shared while it is recorded', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let bytes: Buffer;

  before(async () => {
    server = await startServer();
    alice = await server.token('alice', ['c1'], 'Alice');
    bob = await server.token('bob', ['c1'], 'Bob');
    bytes = await recording();
  });
  after(() => server.close());

  /** A live upload, and its message posted before any byte. */
  async function startLive(clientId: string): Promise<{ id: string; message: string }> {
    const meta = { conversation: 'c1', clientId, filetype: 'video/x-matroska', live: '' };
    const created = await createUpload(server.url, alice, meta, 'deferred');
    assert.equal(created.status, 201, await created.clone().text());
    const id = created.headers.get('location')!.split('/').pop()!;
    const posted = await fetch(`${server.url}/v1/conversations/c1/messages`, {
      method: 'POST',
      headers: auth(alice, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ clientId, video: id }),
    });
    assert.equal(posted.status, 201);
    return { id, message: (await json<{ id: string }>(posted)).id };
  }

  const videoOf = async (id: string, token = bob) =>
    json<VideoBody>(
      await fetch(`${server.url}/v1/conversations/c1/videos/${id}`, { headers: auth(token) }),
    );

  /** PATCHes `count` pieces a second apart from `offset`; the last declares the length when `total`. */
  async function send(id: string, from: number, to: number, total?: number): Promise<number> {
    const size = Math.ceil(bytes.length / SECONDS);
    let offset = from * size;
    for (let i = from; i < to; i++) {
      if (i > from) await sleep(1000);
      const piece = bytes.subarray(offset, Math.min(bytes.length, offset + size));
      const last = total !== undefined && i === to - 1;
      const response = await patchUpload(
        server.url,
        alice,
        id,
        offset,
        piece,
        last ? total : undefined,
      );
      assert.equal(response.status, 204, await response.text());
      offset += piece.length;
    }
    return offset;
  }

  it('is live from its creation, its playlist waits for the first segment, grows, blocks for the next one, then ends ready from the same conversion', async () => {
    const stream = await new SseReader().open(`${server.url}/v1/events?conversation=c1`, auth(bob));
    const { id } = await startLive('live-1');
    // Bob sees the message at once, its video `live` with a playlist, before the first byte.
    const live = await videoOf(id);
    assert.equal(live.state, 'live');
    assert.ok(live.playlist, 'a live video has a playlist');
    const playlistUrl = `${server.url}${live.playlist}`;
    // Asked for before the first segment exists, the playlist answers once it does.
    const asked = fetch(playlistUrl);
    const sending = send(id, 0, SECONDS, bytes.length);
    const first = await asked;
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('cache-control'), 'private, no-cache');
    const text = await first.text();
    assert.match(text, /^#EXT-X-PLAYLIST-TYPE:EVENT$/m);
    assert.match(text, /^#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES$/m);
    assert.doesNotMatch(text, /#EXT-X-ENDLIST/);
    const durations = [...text.matchAll(/^#EXTINF:([\d.]+)/gm)].map((m) => Number(m[1]));
    assert.ok(durations.length >= 1);
    for (const seconds of durations.slice(0, -1))
      assert.ok(seconds <= 1.1, `segment of ${seconds} s`);
    // Every URI carries the token: the first segment plays with it alone.
    const segment = /^(seg\d+\.m4s\?t=\S+)$/m.exec(text)![1]!;
    const media = await fetch(new URL(segment, playlistUrl));
    assert.equal(media.status, 200);
    assert.ok((await media.arrayBuffer()).byteLength > 0);

    // A blocking reload for the next segment waits for it, then has it.
    const next = durations.length;
    const askedAt = Date.now();
    const blocked = await (await fetch(`${playlistUrl}&_HLS_msn=${next}`)).text();
    const waited = Date.now() - askedAt;
    const grown = blocked.match(/^#EXTINF:/gm)!.length;
    assert.ok(
      grown > next || /#EXT-X-ENDLIST/.test(blocked),
      `segment ${next} came (${waited} ms)`,
    );
    assert.ok(waited < 3_500, `answered within the bound (${waited} ms)`);
    // Too far ahead: refused at once.
    assert.equal((await fetch(`${playlistUrl}&_HLS_msn=${next + 50}`)).status, 400);
    assert.equal((await fetch(`${playlistUrl}&_HLS_msn=x`)).status, 400);

    await sending;
    const ready = await waitFor(
      async () => {
        const video = await videoOf(id);
        return video.state === 'ready' ? video : undefined;
      },
      'ready',
      30_000,
    );
    const ended = await (await fetch(`${server.url}${ready.playlist}`)).text();
    assert.match(ended, /^#EXT-X-PLAYLIST-TYPE:EVENT$/m);
    assert.match(ended, /^#EXT-X-ENDLIST$/m);
    // The same segments: what Bob played live is what the ready clip holds.
    const names = (playlist: string) => [...playlist.matchAll(/^(seg\d+\.m4s)/gm)].map((m) => m[1]);
    assert.deepEqual(names(ended).slice(0, grown), names(blocked).slice(0, grown));
    assert.equal(server.app.liveStats?.used, 1, 'converted once, live');

    // Bob heard `ready` only: the video was `live` when his message came.
    await waitFor(
      () => (stream.events.some((e) => e.data.includes('"ready"')) ? true : undefined),
      'the ready event',
    );
    const states = stream.events
      .filter((e) => e.event === 'video.updated')
      .map((e) => (JSON.parse(e.data) as { video: VideoBody }).video.state);
    assert.deepEqual(states, ['ready']);
    await stream.close();
  });

  it('unsent while recorded: message.deleted, the media 404, the next PATCH 404', async () => {
    const stream = await new SseReader().open(`${server.url}/v1/events?conversation=c1`, auth(bob));
    const { id, message } = await startLive('live-2');
    const offset = await send(id, 0, 4);
    const live = await waitFor(
      async () => {
        const video = await videoOf(id);
        return video.state === 'live' ? video : undefined;
      },
      'the video to be live',
      30_000,
    );
    const playlistUrl = `${server.url}${live.playlist}`;
    const text = await (await fetch(playlistUrl)).text();
    const segmentUrl = new URL(/^(seg\d+\.m4s\?t=\S+)$/m.exec(text)![1]!, playlistUrl);
    // A viewer blocked on the next segment is answered when the take goes.
    const blocked = fetch(`${playlistUrl}&_HLS_msn=${text.match(/^#EXTINF:/gm)!.length}`);
    const unsent = await fetch(`${server.url}/v1/conversations/c1/messages/${message}`, {
      method: 'DELETE',
      headers: auth(alice),
    });
    assert.equal(unsent.status, 204);
    assert.ok([200, 404].includes((await blocked).status));
    await waitFor(
      () => (stream.events.some((e) => e.event === 'message.deleted') ? true : undefined),
      'message.deleted',
    );
    assert.equal((await fetch(playlistUrl)).status, 404);
    assert.equal((await fetch(segmentUrl)).status, 404);
    const patched = await patchUpload(server.url, alice, id, offset, bytes.subarray(offset));
    assert.equal(patched.status, 404);
    await stream.close();
  });

  it('refuses `live` on an upload of known length', async () => {
    const meta = { conversation: 'c1', clientId: 'live-3', filetype: 'video/webm', live: '1' };
    const created = await createUpload(server.url, alice, meta, 1000);
    assert.equal(created.status, 400);
    assert.match(await created.text(), /Upload-Defer-Length/);
  });
});
