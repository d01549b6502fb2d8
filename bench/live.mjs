// Converting while uploading (issue 11), server side: a recording sent as a growing
// deferred-length upload in 1 s pieces at real-time pace, as the recorder does, against the
// real server (in this process) and real ffmpeg. Prints last PATCH → `ready` and the server's
// CPU time per minute of take; then the same file as one finished upload with the live path
// off (today's path before issue 11), for comparison.
// Run: node --import tsx bench/live.mjs [takes…]   takes: 10 60 180 vp8 (default: all)
// The 180 s take lasts 3 minutes by definition. Goal: last PATCH → ready ≤ 0.5 s.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rename, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createApp } from '../server/compose.ts';
import { signToken } from '../server/auth/tokens.ts';
import { readConfig } from '../server/config.ts';

const ffmpegPath = process.env.FFMPEG_PATH || 'ffmpeg';
const outDir = join(dirname(fileURLToPath(import.meta.url)), 'out');
const SECRET = 'bench-secret-that-is-long-enough-0123456789';

const picture = (seconds) => [
  ...['-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${seconds}`],
  ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`],
];
const TAKES = {
  10: { seconds: 10, codec: 'h264' },
  60: { seconds: 60, codec: 'h264' },
  180: { seconds: 180, codec: 'h264' },
  vp8: { seconds: 60, codec: 'vp8' },
};
const ENCODE = {
  // As Chromium records: constrained baseline, keyframe every 2 s, Opus, Matroska.
  h264: [
    ...['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'veryfast', '-b:v', '2500k'],
    ...['-g', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'libopus'],
    ...['-f', 'matroska'],
  ],
  // As Firefox records.
  vp8: [
    ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '2500k'],
    ...['-g', '60', '-c:a', 'libopus', '-f', 'webm'],
  ],
};

async function ensureInput({ seconds, codec }) {
  const path = join(outDir, `live-${codec}-720p-${seconds}s.${codec === 'h264' ? 'mkv' : 'webm'}`);
  if (existsSync(path)) return path;
  await mkdir(outDir, { recursive: true });
  process.stderr.write(`making ${path} (cached in bench/out/)…\n`);
  // Written to a pipe, so the header carries no duration, as in a real recording.
  const partial = `${path}.partial`;
  const file = await open(partial, 'w');
  try {
    const ffmpeg = spawn(
      ffmpegPath,
      ['-v', 'error', ...picture(seconds), ...ENCODE[codec], 'pipe:1'],
      { stdio: ['ignore', file.fd, 'inherit'] },
    );
    const code = await new Promise((resolve) => ffmpeg.once('close', resolve));
    if (code !== 0) throw new Error(`ffmpeg could not make ${path}`);
  } finally {
    await file.close();
  }
  await rename(partial, path);
  return path;
}

/** CPU seconds of this process and its reaped children (ffmpeg, behind its wrappers). */
function cpuSeconds() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // utime, stime, cutime, cstime are fields 14–17 of stat (11–14 after the name).
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return ticks / 100;
}

async function startServer(env) {
  const dataDir = await mkdtemp(join(tmpdir(), 'reelchat-bench-live-'));
  const config = readConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    REELCHAT_DATA_DIR: dataDir,
    REELCHAT_JWT_SECRET: SECRET,
    REELCHAT_QUOTA_UPLOADS_PER_HOUR: '0',
    ...env,
  });
  const app = await createApp(config);
  return {
    app,
    async close() {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const tusHeaders = (token, extra) => ({
  Authorization: `Bearer ${token}`,
  'Tus-Resumable': '1.0.0',
  ...extra,
});
const metadata = (clientId) =>
  Object.entries({ conversation: 'c1', clientId, filetype: 'video/webm' })
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');

async function create(url, token, clientId, length) {
  const response = await fetch(`${url}/v1/uploads`, {
    method: 'POST',
    headers: tusHeaders(token, {
      'Upload-Metadata': metadata(clientId),
      ...(length === undefined
        ? { 'Upload-Defer-Length': '1' }
        : { 'Upload-Length': String(length) }),
    }),
  });
  if (response.status !== 201) throw new Error(`creation: ${response.status}`);
  return response.headers.get('location').split('/').pop();
}

async function patch(url, token, id, offset, bytes, length) {
  const response = await fetch(`${url}/v1/uploads/${id}`, {
    method: 'PATCH',
    headers: tusHeaders(token, {
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
      ...(length === undefined ? {} : { 'Upload-Length': String(length) }),
    }),
    body: bytes,
  });
  if (response.status !== 204)
    throw new Error(`patch: ${response.status} ${await response.text()}`);
}

async function readyAfter(url, token, id) {
  for (;;) {
    const response = await fetch(`${url}/v1/conversations/c1/videos/${id}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const video = await response.json();
    if (video.state === 'ready') return { at: performance.now(), video };
    if (video.state !== 'processing') throw new Error(`${video.state}: ${video.reason}`);
    await sleep(10);
  }
}

/** The take as the recorder sends it: a piece a second, the last one declaring the length. */
async function sendLive(bytes, seconds, clientId) {
  const server = await startServer({});
  try {
    const { url } = server.app;
    const token = await signToken(SECRET, { user: 'alice', name: 'Alice', conversations: ['c1'] });
    const cpuBefore = cpuSeconds();
    const id = await create(url, token, clientId);
    const started = performance.now();
    let offset = 0;
    for (let i = 1; i <= seconds; i++) {
      const end = Math.floor((i * bytes.length) / seconds);
      // Real-time pace: piece i is sent once i seconds of the take have passed.
      await sleep(Math.max(0, started + i * 1000 - performance.now()));
      await patch(
        url,
        token,
        id,
        offset,
        bytes.subarray(offset, end),
        i === seconds ? bytes.length : undefined,
      );
      offset = end;
    }
    const lastPatch = performance.now();
    const { at, video } = await readyAfter(url, token, id);
    await sleep(200); // let the children be reaped, so their CPU time is counted
    const live = server.app.liveStats;
    return {
      wait: (at - lastPatch) / 1000,
      cpu: cpuSeconds() - cpuBefore,
      video,
      live: live?.used === 1,
    };
  } finally {
    await server.close();
  }
}

/** Today's path: the finished file in one upload, converted when complete. */
async function sendFinished(bytes, clientId) {
  const server = await startServer({ REELCHAT_LIVE_CONVERT: '0' });
  try {
    const { url } = server.app;
    const token = await signToken(SECRET, { user: 'alice', name: 'Alice', conversations: ['c1'] });
    const cpuBefore = cpuSeconds();
    const id = await create(url, token, clientId, bytes.length);
    await patch(url, token, id, 0, bytes);
    const complete = performance.now();
    const { at, video } = await readyAfter(url, token, id);
    await sleep(200);
    return { wait: (at - complete) / 1000, cpu: cpuSeconds() - cpuBefore, video };
  } finally {
    await server.close();
  }
}

const chosen = process.argv.slice(2);
const names = chosen.length > 0 ? chosen : Object.keys(TAKES);
console.log(
  `# ${availableParallelism()} cores, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log('| take | path | last PATCH → ready | server CPU per minute of take | duration |');
console.log('|---|---|---|---|---|');
for (const name of names) {
  const take = TAKES[name];
  if (!take) throw new Error(`unknown take ${name}; use ${Object.keys(TAKES).join(' ')}`);
  const bytes = await readFile(await ensureInput(take));
  const label = `${take.codec === 'h264' ? 'H.264 Matroska' : 'VP8 WebM'} ${take.seconds} s`;
  const perMinute = (cpu) => `${((cpu * 60) / take.seconds).toFixed(2)} s`;
  const live = await sendLive(bytes, take.seconds, `live-${name}`);
  console.log(
    `| ${label} | live${live.live ? '' : ' (fell back!)'} | **${live.wait.toFixed(2)} s** | ${perMinute(live.cpu)} | ${live.video.duration} s |`,
  );
  const finished = await sendFinished(bytes, `finished-${name}`);
  console.log(
    `| ${label} | finished upload, live off | ${finished.wait.toFixed(2)} s | ${perMinute(finished.cpu)} | ${finished.video.duration} s |`,
  );
}
console.log(
  `# load average after: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
