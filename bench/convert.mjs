// Conversion speed: seconds from "upload complete" to "ready" for 60 s of 720p.
// Run: node --import tsx bench/convert.mjs [runs]   (tsx lets it import the TypeScript)
// Goals (issue 3, 2-core machine): recorded H.264 ≤ 1.5 s; VP8 ≥ 4× realtime.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Converter } from '../server/convert/index.ts';

const ffmpegPath = process.env.FFMPEG_PATH || 'ffmpeg';
const ffprobePath = process.env.FFPROBE_PATH || 'ffprobe';
const outDir = join(dirname(fileURLToPath(import.meta.url)), 'out');
const runs = Number(process.argv[2] ?? 3);
const SECONDS = 60;

// A moving test pattern with some sensor-like noise, so encoders have real work to do.
const picture = [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=1280x720:rate=30:duration=${SECONDS}`,
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`,
  '-vf',
  'noise=alls=8:allf=t',
];

const inputs = [
  {
    name: 'h264-720p-60s.mkv',
    label: 'H.264 + Opus, Matroska (Chromium)',
    // As Chromium's MediaRecorder makes it: baseline, no B-frames, keyframe every 2 s.
    args: [
      ...picture,
      ...['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'veryfast', '-b:v', '2500k'],
      ...['-g', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'libopus'],
      ...['-f', 'matroska'],
    ],
  },
  {
    name: 'vp8-720p-60s.webm',
    label: 'VP8 + Opus, WebM',
    args: [
      ...picture,
      ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '2500k'],
      ...['-g', '60', '-c:a', 'libopus', '-f', 'webm'],
    ],
  },
];

async function ensureInput({ name, args }) {
  const path = join(outDir, name);
  if (!existsSync(path)) {
    process.stderr.write(`making ${name} (cached in bench/out/)…\n`);
    // Written to a pipe, so the header carries no duration, as in a real recording.
    const partial = `${path}.partial`;
    const file = await open(partial, 'w');
    try {
      const ffmpeg = spawn(ffmpegPath, ['-v', 'error', ...args, 'pipe:1'], {
        stdio: ['ignore', file.fd, 'inherit'],
      });
      const code = await new Promise((resolve) => ffmpeg.once('close', resolve));
      if (code !== 0) throw new Error(`ffmpeg could not make ${name}`);
    } finally {
      await file.close();
    }
    await rename(partial, path);
  }
  return path;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

await mkdir(outDir, { recursive: true });
// Other work on the machine slows the transcode in proportion; say how busy it was.
const loadBefore = loadavg()[0];
const converter = new Converter({ ffmpegPath, ffprobePath, concurrency: 2, maxDurationS: 300 });
const rows = [];
try {
  for (const input of inputs) {
    const path = await ensureInput(input);
    const times = [];
    let result;
    for (let i = 0; i < runs; i++) {
      const target = join(outDir, `hls-${input.name}-${i}`);
      await rm(target, { recursive: true, force: true });
      const started = performance.now();
      result = await converter.convert(path, target);
      times.push((performance.now() - started) / 1000);
      await rm(target, { recursive: true, force: true });
    }
    const seconds = median(times);
    rows.push({
      input: input.label,
      mb: (await stat(path)).size / 1e6,
      remuxed: result.remuxed,
      seconds,
      best: Math.min(...times),
      realtime: result.duration / seconds,
    });
  }
} finally {
  await converter.close();
}

console.log(
  `\n${availableParallelism()} cores, load average ${loadBefore.toFixed(1)} before, ` +
    `${runs} runs each (median; best in brackets)\n`,
);
console.log('| input (60 s, 1280x720, 30 fps) | MB | path | seconds to ready | × realtime |');
console.log('|---|---|---|---|---|');
for (const row of rows) {
  const path = row.remuxed ? 'remux' : 'transcode';
  console.log(
    `| ${row.input} | ${row.mb.toFixed(1)} | ${path} | ${row.seconds.toFixed(2)} (${row.best.toFixed(2)}) | ${row.realtime.toFixed(1)}× |`,
  );
}
const [h264, vp8] = rows;
console.log(
  JSON.stringify({
    bench: 'convert',
    cores: availableParallelism(),
    runs,
    loadAverage: +loadBefore.toFixed(1),
    h264Seconds: +h264.seconds.toFixed(3),
    h264Realtime: +h264.realtime.toFixed(1),
    h264Goal: h264.seconds <= 1.5,
    vp8Seconds: +vp8.seconds.toFixed(3),
    vp8Realtime: +vp8.realtime.toFixed(1),
    vp8Goal: vp8.realtime >= 4,
  }),
);
