// Fair conversion queue: how long a 3 s clip from one user waits behind two heavy clips
// of another, on the real reference server (child process, real ffmpeg).
// Run: node --import tsx bench/fairness.mjs [perOwner]
//   perOwner: REELCHAT_CONVERT_PER_OWNER (default 1; 2 shows the old, unfair queue, in which
//   alice's two clips take both slots).
// Goal (issue 10): bob's clip is ready ≤ 10 s after its upload completed, with
// REELCHAT_CONVERT_CONCURRENCY=2.
//
// The heavy clip is legal under the clip limits (docs/conversion.md, "What one clip may
// cost"): 90 s of 1920×1080 VP8 at 30 fps (5.6 gigapixels), which must be transcoded.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReferenceServer } from '../scripts/reference-server.mjs';

const ffmpegPath = process.env.FFMPEG_PATH || 'ffmpeg';
const outDir = join(dirname(fileURLToPath(import.meta.url)), 'out');
const perOwner = process.argv[2] ?? '1';
const CONCURRENCY = '2';
const TIMEOUT_MS = 10 * 60_000;

const clips = {
  heavy: {
    name: 'fairness-vp8-1080p-90s.webm',
    size: '1920x1080',
    seconds: 90,
    // A low bitrate keeps making it (and uploading it) quick; decoding and x264 still
    // have every pixel to go through.
    bitrate: '400k',
  },
  short: { name: 'fairness-vp8-720p-3s.webm', size: '1280x720', seconds: 3, bitrate: '1500k' },
};

async function ensureClip({ name, size, seconds, bitrate }) {
  const path = join(outDir, name);
  if (existsSync(path)) return path;
  process.stderr.write(`making ${name} (cached in bench/out/)…\n`);
  const partial = `${path}.partial.webm`;
  const args = [
    ...['-v', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30:duration=${seconds}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`],
    ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', bitrate],
    ...['-g', '60', '-c:a', 'libopus', '-shortest', partial],
  ];
  const ffmpeg = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise((resolve) => ffmpeg.once('close', resolve));
  if (code !== 0) throw new Error(`ffmpeg could not make ${name}`);
  await rename(partial, path);
  return path;
}

/** tus creation and one PATCH with every byte; resolves with the id once complete. */
async function upload(url, token, bytes, clientId) {
  const metadata = Object.entries({ conversation: 'bench', clientId, filetype: 'video/webm' })
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');
  const created = await fetch(`${url}/v1/uploads`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Tus-Resumable': '1.0.0',
      'Upload-Length': String(bytes.length),
      'Upload-Metadata': metadata,
    },
  });
  if (created.status !== 201)
    throw new Error(`creation: ${created.status} ${await created.text()}`);
  const id = created.headers.get('location').split('/').pop();
  const patched = await fetch(`${url}/v1/uploads/${id}`, {
    method: 'PATCH',
    headers: {
      Authorization: `Bearer ${token}`,
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': '0',
      'Content-Type': 'application/offset+octet-stream',
    },
    body: bytes,
  });
  if (patched.status !== 204) throw new Error(`patch: ${patched.status} ${await patched.text()}`);
  return id;
}

/** Seconds from `since` until the video is no longer processing (polled every 100 ms). */
async function secondsToSettle(url, token, id, since) {
  for (;;) {
    const response = await fetch(`${url}/v1/conversations/bench/videos/${id}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const video = await response.json();
    if (video.state !== 'processing') {
      if (video.state !== 'ready') throw new Error(`${id} ${video.state}: ${video.reason}`);
      return (performance.now() - since) / 1000;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

await mkdir(outDir, { recursive: true });
const heavyPath = await ensureClip(clips.heavy);
const shortPath = await ensureClip(clips.short);
const [heavy, short] = await Promise.all([readFile(heavyPath), readFile(shortPath)]);

const loadBefore = loadavg()[0];
const server = await startReferenceServer({
  env: { REELCHAT_CONVERT_CONCURRENCY: CONCURRENCY, REELCHAT_CONVERT_PER_OWNER: perOwner },
});
const watchdog = setTimeout(() => {
  console.error('bench/fairness: timed out');
  void server.stop().then(() => process.exit(1));
}, TIMEOUT_MS);

let figures;
try {
  const tokenOf = async (user) => {
    const response = await fetch(`${server.url}/v1/dev/token?user=${user}&conversations=bench`);
    return (await response.json()).token;
  };
  const alice = await tokenOf('alice');
  const bob = await tokenOf('bob');

  const a1 = await upload(server.url, alice, heavy, 'heavy-1');
  const a1At = performance.now();
  const a2 = await upload(server.url, alice, heavy, 'heavy-2');
  const a2At = performance.now();
  // Both of alice's are queued (the first converting) when bob's arrives.
  const b1 = await upload(server.url, bob, short, 'short');
  const b1At = performance.now();

  const [a1S, a2S, b1S] = await Promise.all([
    secondsToSettle(server.url, alice, a1, a1At),
    secondsToSettle(server.url, alice, a2, a2At),
    secondsToSettle(server.url, bob, b1, b1At),
  ]);
  figures = { a1S, a2S, b1S };
} finally {
  clearTimeout(watchdog);
  await server.stop();
}

const { a1S, a2S, b1S } = figures;
console.log(
  `\n${availableParallelism()} cores, load average ${loadBefore.toFixed(1)} before; ` +
    `REELCHAT_CONVERT_CONCURRENCY=${CONCURRENCY}, REELCHAT_CONVERT_PER_OWNER=${perOwner}\n`,
);
console.log('| clip | owner | MB | upload complete → ready |');
console.log('|---|---|---|---|');
console.log(
  `| heavy 1 (90 s 1080p VP8) | alice | ${(heavy.length / 1e6).toFixed(1)} | ${a1S.toFixed(1)} s |`,
);
console.log(
  `| heavy 2 (90 s 1080p VP8) | alice | ${(heavy.length / 1e6).toFixed(1)} | ${a2S.toFixed(1)} s |`,
);
console.log(
  `| short (3 s 720p VP8) | bob | ${(short.length / 1e6).toFixed(1)} | ${b1S.toFixed(1)} s |`,
);
console.log(
  JSON.stringify({
    bench: 'fairness',
    cores: availableParallelism(),
    loadAverage: +loadBefore.toFixed(1),
    perOwner: Number(perOwner),
    shortWaitS: +b1S.toFixed(2),
    shortGoal: b1S <= 10,
    heavy1S: +a1S.toFixed(1),
    heavy2S: +a2S.toFixed(1),
  }),
);
