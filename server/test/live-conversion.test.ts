// Converting while uploading (issue 11): recordings made by ffmpeg, written to a pipe like a
// MediaRecorder's (no duration in the header), sent as a growing deferred-length upload in
// ~1 s pieces at real-time pace, against the real server and real ffmpeg.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { signToken } from '../auth/tokens.js';
import {
  auth,
  createUpload,
  headUpload,
  json,
  patchUpload,
  SECRET,
  SseReader,
  startChildServer,
  startServer,
  waitFor,
  type TestServer,
} from './helpers.js';

const run = promisify(execFile);
const SECONDS = 5;
const META = { conversation: 'c1', filetype: 'video/webm' };

type Kind = 'h264-mkv' | 'h264-fmp4' | 'vp8' | 'vp9';

const ENCODE: Record<Kind, string[]> = {
  // As Chromium records: constrained baseline (no B-frames), keyframe every 2 s, Opus.
  'h264-mkv': [
    ...['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-g', '60'],
    ...['-pix_fmt', 'yuv420p', '-c:a', 'libopus', '-f', 'matroska'],
  ],
  // As Safari records: fragmented MP4, H.264 + AAC.
  'h264-fmp4': [
    ...['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-g', '60'],
    ...['-pix_fmt', 'yuv420p', '-c:a', 'aac'],
    ...['-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4'],
  ],
  // As Firefox records.
  vp8: [
    ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k'],
    ...['-g', '60', '-c:a', 'libopus', '-f', 'webm'],
  ],
  vp9: [
    ...['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k'],
    ...['-g', '60', '-c:a', 'libopus', '-f', 'webm'],
  ],
};

const recordings = new Map<string, Buffer>();

/** A recording of `seconds`, written to a pipe (no duration in its header), made once. */
async function recording(kind: Kind, seconds = SECONDS): Promise<Buffer> {
  const key = `${kind}-${seconds}`;
  const made = recordings.get(key);
  if (made) return made;
  const ffmpeg = spawn(
    'ffmpeg',
    [
      ...['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30:duration=${seconds}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`],
      ...ENCODE[kind],
      'pipe:1',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const chunks: Buffer[] = [];
  ffmpeg.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await new Promise((resolve) => ffmpeg.once('close', resolve));
  assert.equal(code, 0, `ffmpeg made ${kind}`);
  const bytes = Buffer.concat(chunks);
  recordings.set(key, bytes);
  return bytes;
}

/** Splits a recording into `count` pieces of about equal size (about 1 s each). */
function pieces(bytes: Buffer, count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) =>
    bytes.subarray(
      Math.floor((i * bytes.length) / count),
      Math.floor(((i + 1) * bytes.length) / count),
    ),
  );
}

async function createDeferred(url: string, token: string, clientId: string): Promise<string> {
  const created = await createUpload(url, token, { ...META, clientId }, 'deferred');
  assert.equal(created.status, 201, await created.clone().text());
  return created.headers.get('location')!.split('/').pop()!;
}

/** PATCHes pieces at real-time pace from `offset`; the last one declares the length. */
async function sendPieces(
  url: string,
  token: string,
  id: string,
  parts: Buffer[],
  offset: number,
  total?: number,
): Promise<number> {
  for (const [index, part] of parts.entries()) {
    const last = total !== undefined && index === parts.length - 1;
    if (index > 0) await sleep(1000);
    const response = await patchUpload(url, token, id, offset, part, last ? total : undefined);
    assert.equal(response.status, 204, await response.text());
    offset += part.length;
  }
  return offset;
}

interface VideoBody {
  state: string;
  duration: number;
  reason?: string;
  playlist: string;
  poster: string;
  sha256: string;
}

/** Polls the video every 20 ms until it is not processing; resolves with it and when. */
async function settled(url: string, token: string, id: string) {
  const video = await waitFor(
    async () => {
      const response = await fetch(`${url}/v1/conversations/c1/videos/${id}`, {
        headers: auth(token),
      });
      const body = await json<VideoBody>(response);
      return body.state === 'processing' ? undefined : body;
    },
    `video ${id}`,
    60_000,
  );
  return { video, at: Date.now() };
}

/** Packets of each stream in a playlist: a hole or a repeated second changes them. */
async function videoFrames(playlist: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v', '-count_packets'],
    ...['-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', playlist],
  ]);
  const frames = Number(stdout.trim().split('\n')[0]);
  assert.ok(Number.isInteger(frames), stdout);
  return frames;
}

describe('converting while uploading', () => {
  let server: TestServer;
  let token: string;
  const logged: Record<string, unknown>[] = [];

  before(async () => {
    server = await startServer(
      { REELCHAT_LIVE_CONVERT: '2', REELCHAT_LOG: 'json' },
      { logWrite: (line) => logged.push(JSON.parse(line) as Record<string, unknown>) },
    );
    token = await server.token('alice', ['c1']);
  });

  after(async () => {
    await server.close();
  });

  const cases: { kind: Kind; within?: number }[] = [
    { kind: 'h264-mkv', within: 1000 },
    { kind: 'h264-fmp4', within: 1000 },
    { kind: 'vp8' },
    { kind: 'vp9' },
  ];
  for (const { kind, within } of cases) {
    it(`${kind}: ready with the right duration${within ? ', within 1 s of the last PATCH' : ''}`, async () => {
      const bytes = await recording(kind);
      const used = server.app.liveStats!.used;
      const id = await createDeferred(server.url, token, `live-${kind}`);
      await sendPieces(server.url, token, id, pieces(bytes, SECONDS), 0, bytes.length);
      const lastPatch = Date.now();
      const { video, at } = await settled(server.url, token, id);
      assert.equal(video.state, 'ready', video.reason);
      assert.ok(Math.abs(video.duration - SECONDS) <= 0.1, `${video.duration} s`);
      assert.equal(server.app.liveStats!.used, used + 1, 'converted live');
      // The log says where the time after the last byte went, step by step, in order.
      const live = logged.find((event) => event.kind === 'live' && event.video === id)!;
      assert.equal(live.used, true);
      const steps = ['fedMs', 'hlsMs', 'checkedMs', 'inPlaceMs'].map((step) => live[step]);
      assert.ok(
        steps.every((ms) => typeof ms === 'number' && ms >= 0),
        JSON.stringify(live),
      );
      assert.deepEqual(
        steps,
        [...(steps as number[])].sort((a, b) => a - b),
        JSON.stringify(live),
      );
      assert.ok((live.checkedMs as number) >= (live.scanMs as number), JSON.stringify(live));
      if (within) {
        // The machine is shared: a load above its cores stretches every process (up to 4×).
        const load = Math.min(4, Math.max(1, loadavg()[0]! / availableParallelism()));
        const bound = within * load;
        assert.ok(at - lastPatch < bound, `ready ${at - lastPatch} ms after (bound ${bound})`);
      }
      assert.equal(video.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(await videoFrames(server.url + video.playlist), SECONDS * 30);
      const poster = await fetch(server.url + video.poster);
      assert.equal(poster.status, 200);
      assert.equal(poster.headers.get('content-type'), 'image/jpeg');
    });
  }

  it('a real Chromium VP8 take: ready live, as long as its packets, every frame', async () => {
    // Recorded by Chromium (bench/samples/README.md): variable frame timing, so ffmpeg's
    // frame-rate guess from the first second is off and its last #EXTINF was 0.039 s (the
    // clip 2 s short) until last-segment.ts measured it.
    const sample = new URL('../../bench/samples/chromium-vp8-opus-10s.webm', import.meta.url);
    const bytes = await readFile(sample);
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time'],
      ...['-of', 'csv=p=0', sample.pathname],
    ]);
    const times = stdout.trim().split('\n').map(Number);
    // From the first frame to the end of the last, which lasts an average frame.
    const span = times.at(-1)! - times[0]! + (times.at(-1)! - times[0]!) / (times.length - 1);
    const used = server.app.liveStats!.used;
    const id = await createDeferred(server.url, token, 'live-chromium-vp8');
    await sendPieces(server.url, token, id, pieces(bytes, 10), 0, bytes.length);
    const { video } = await settled(server.url, token, id);
    assert.equal(video.state, 'ready', video.reason);
    assert.equal(server.app.liveStats!.used, used + 1, 'converted live');
    assert.ok(Math.abs(video.duration - span) <= 0.1, `${video.duration} s, packets ${span} s`);
    assert.equal(await videoFrames(server.url + video.playlist), times.length);
  });

  it('continues after a network cut mid-PATCH and a resume from the stored offset', async () => {
    const bytes = await recording('h264-mkv');
    const used = server.app.liveStats!.used;
    const id = await createDeferred(server.url, token, 'live-cut');
    const parts = pieces(bytes, SECONDS);
    let offset = await sendPieces(server.url, token, id, parts.slice(0, 2), 0);
    // The third piece's connection drops half-way: what arrived is kept.
    await cutPatch(server.url, token, id, offset, parts[2]!);
    const head = await headUpload(server.url, token, id);
    const stored = Number(head.headers.get('upload-offset'));
    assert.ok(stored >= offset && stored < offset + parts[2]!.length, `stored ${stored}`);
    offset = stored;
    const rest = bytes.subarray(offset);
    await sleep(1000);
    await sendPieces(server.url, token, id, pieces(rest, 3), offset, bytes.length);
    const { video } = await settled(server.url, token, id);
    assert.equal(video.state, 'ready', video.reason);
    assert.equal(server.app.liveStats!.used, used + 1, 'converted live');
    assert.ok(Math.abs(video.duration - SECONDS) <= 0.1, `${video.duration} s`);
    // Not a frame missing or repeated.
    assert.equal(await videoFrames(server.url + video.playlist), SECONDS * 30);
    assert.equal(video.sha256, createHash('sha256').update(bytes).digest('hex'));
  });

  it('starts at most one live conversion per owner and REELCHAT_LIVE_CONVERT in all', async () => {
    const bytes = await recording('h264-mkv');
    const first = pieces(bytes, SECONDS)[0]!;
    const stats = server.app.liveStats!;
    const started = stats.started;
    const gaveUp = stats.gaveUp;
    const owners = ['mallory', 'mallory', 'mallory', 'bob', 'carol'];
    const ids: { id: string; owner: string }[] = [];
    for (const [index, owner] of owners.entries()) {
      const ownerToken = await server.token(owner, ['c1']);
      const id = await createDeferred(server.url, ownerToken, `bound-${index}`);
      const response = await patchUpload(server.url, ownerToken, id, 0, first);
      assert.equal(response.status, 204);
      ids.push({ id, owner: ownerToken });
    }
    // Mallory's three uploads start one; Bob's a second; Carol's none (2 at once). (The
    // server looks at the stored bytes just after answering a PATCH.)
    await waitFor(() => (stats.started >= started + 2 ? true : undefined), 'two to start');
    for (const { id, owner } of ids)
      assert.equal((await headUpload(server.url, owner, id)).status, 200);
    assert.equal(stats.started, started + 2);
    for (const { id, owner } of ids) {
      const removed = await fetch(`${server.url}/v1/uploads/${id}`, {
        method: 'DELETE',
        headers: auth(owner, { 'Tus-Resumable': '1.0.0' }),
      });
      assert.equal(removed.status, 204);
    }
    // Removed uploads free their places: a new one starts.
    await waitFor(() => (stats.gaveUp >= gaveUp + 2 ? true : undefined), 'both to stop');
    const carol = await server.token('carol', ['c1']);
    const id = await createDeferred(server.url, carol, 'bound-again');
    assert.equal((await patchUpload(server.url, carol, id, 0, first)).status, 204);
    await waitFor(() => (stats.started === started + 3 ? true : undefined), 'a third to start');
    await fetch(`${server.url}/v1/uploads/${id}`, {
      method: 'DELETE',
      headers: auth(carol, { 'Tus-Resumable': '1.0.0' }),
    });
  });

  it('a recording that turns into garbage half-way fails with a reason', async () => {
    const good = await recording('h264-mkv', 6);
    const bytes = Buffer.concat([good.subarray(0, good.length / 2), randomBytes(good.length / 2)]);
    const gaveUp = server.app.liveStats!.gaveUp;
    const id = await createDeferred(server.url, token, 'live-garbage');
    await sendPieces(server.url, token, id, pieces(bytes, 6), 0, bytes.length);
    const { video } = await settled(server.url, token, id);
    assert.equal(video.state, 'failed');
    assert.match(video.reason ?? '', /damaged/);
    assert.equal(server.app.liveStats!.gaveUp, gaveUp + 1);
  });
});

describe('converting while uploading, server killed', () => {
  it('a server killed with -9 mid-upload converts the resumed upload after restart, once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'reelchat-live-kill-'));
    const env = { REELCHAT_DATA_DIR: dataDir, REELCHAT_LIVE_CONVERT: '2' };
    const bytes = await recording('h264-mkv');
    const parts = pieces(bytes, SECONDS);
    const first = await startChildServer(env);
    let second: Awaited<ReturnType<typeof startChildServer>> | undefined;
    try {
      const alice = await signToken(SECRET, {
        user: 'alice',
        name: 'Alice',
        conversations: ['c1'],
      });
      const id = await createDeferred(first.url, alice, 'live-kill');
      const offset = await sendPieces(first.url, alice, id, parts.slice(0, 3), 0);
      first.child.kill('SIGKILL');
      await new Promise((resolve) => first.child.once('exit', resolve));

      second = await startChildServer(env);
      const events = await new SseReader().open(
        `${second.url}/v1/events?conversation=c1`,
        auth(alice, { 'Last-Event-ID': '0' }),
      );
      const head = await headUpload(second.url, alice, id);
      assert.equal(Number(head.headers.get('upload-offset')), offset);
      const rest = bytes.subarray(offset);
      const done = await patchUpload(second.url, alice, id, offset, rest, bytes.length);
      assert.equal(done.status, 204);
      const { video } = await settled(second.url, alice, id);
      assert.equal(video.state, 'ready', video.reason);
      assert.ok(Math.abs(video.duration - SECONDS) <= 0.1, `${video.duration} s`);
      assert.equal(await videoFrames(second.url + video.playlist), SECONDS * 30);
      await sleep(500);
      const ready = events.events.filter((event) => {
        const data = JSON.parse(event.data) as { video?: { id: string; state: string } };
        return data.video?.id === id && data.video.state === 'ready';
      });
      assert.equal(ready.length, 1, 'one ready event');
      await events.close();
    } finally {
      if (first.running()) first.child.kill('SIGKILL');
      await first.stop();
      await second?.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** A PATCH whose connection is dropped after half of its body was sent. */
function cutPatch(url: string, token: string, id: string, offset: number, part: Buffer) {
  const { hostname, port } = new URL(url);
  return new Promise<void>((resolve) => {
    const req = request({
      host: hostname,
      port,
      method: 'PATCH',
      path: `/v1/uploads/${id}`,
      headers: auth(token, {
        'Tus-Resumable': '1.0.0',
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': String(part.length),
      }),
    });
    req.on('error', () => resolve());
    req.write(part.subarray(0, part.length / 2), () => {
      // Give the server a moment to store what arrived, then drop the connection.
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
  });
}
