// What one clip costs ffmpeg: peak memory (VmHWM of the ffmpeg children, summed when two
// run side by side) and seconds from convert() called to settled, per input.
// Run: node --import tsx bench/ffmpeg-memory.mjs   (tsx lets it import the TypeScript)
// Goal (issue 10): ≤ 600 MB for any accepted input; the 4:1-pixel clip (4.4–5 GB, 150 s
// before) and the plain 4096×4096 clip (2.3 GB before) included. Linux only (/proc).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Converter } from '../server/convert/index.ts';

const ffmpegPath = process.env.FFMPEG_PATH || 'ffmpeg';
const ffprobePath = process.env.FFPROBE_PATH || 'ffprobe';
const outDir = join(dirname(fileURLToPath(import.meta.url)), 'out');
const MB = 1024 * 1024;

const lavfi = (source) => ['-f', 'lavfi', '-i', source];
const recorderH264 = ['-c:v', 'libx264', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p'];

// Made once into bench/out/ (the 720p one is bench/convert.mjs's input, shared).
const inputs = [
  {
    name: 'square-4096-3s.mp4',
    label: '4096×4096 H.264, 3 s, 30 fps',
    args: [
      ...lavfi('testsrc2=size=4096x4096:rate=30:duration=3'),
      ...[...recorderH264, '-preset', 'ultrafast', '-crf', '35', '-g', '60'],
    ],
  },
  {
    name: 'aspect-4to1-4096.mp4',
    label: 'the same, remuxed with -aspect 4:1',
    from: 'square-4096-3s.mp4',
    args: ['-c', 'copy', '-aspect', '4:1'],
  },
  {
    name: 'long-4096-60fps-300s.mkv',
    label: '4096×4096 H.264, 300 s, 60 fps (15 MB)',
    repeat: { seconds: 300, fps: 60 },
    args: [
      ...lavfi('color=c=gray:size=4096x4096:rate=60:duration=1'),
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '51', '-g', '60'],
      ...['-pix_fmt', 'yuv420p', '-f', 'h264'],
    ],
  },
  {
    name: 'pano-4096x1080-3s.mp4',
    label: '4096×1080 H.264, 3 s (widest output)',
    args: [
      ...lavfi('testsrc2=size=4096x1080:rate=30:duration=3'),
      ...['-vf', 'noise=alls=8:allf=t', ...recorderH264, '-preset', 'ultrafast', '-g', '60'],
    ],
  },
  {
    name: 'hevc10-3840x2160-2s.mp4',
    label: '3840×2160 HEVC 10-bit, 2 s (phone HDR)',
    args: [
      ...lavfi('testsrc2=size=3840x2160:rate=30:duration=2'),
      ...['-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p10le'],
      ...['-x265-params', 'log-level=error', '-tag:v', 'hvc1'],
    ],
  },
  {
    name: 'refs16-4096-2s.mp4',
    label: '4096×4096 H.264 with 16 reference frames',
    args: [
      ...lavfi('testsrc2=size=4096x4096:rate=30:duration=2'),
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '40', '-pix_fmt', 'yuv420p'],
      ...['-x264-params', 'ref=16:bframes=0:level=6.2'],
    ],
  },
  {
    name: 'h264-720p-60s.mkv',
    label: '1280×720 H.264 + Opus, 60 s (Chromium)',
    pipe: true,
    args: [
      ...lavfi('testsrc2=size=1280x720:rate=30:duration=60'),
      ...lavfi('sine=frequency=440:sample_rate=48000:duration=60'),
      ...['-vf', 'noise=alls=8:allf=t'],
      ...['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'veryfast', '-b:v', '2500k'],
      ...['-g', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'libopus'],
      ...['-f', 'matroska'],
    ],
  },
];

function ffmpeg(args, stdoutFd) {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, ['-v', 'error', '-y', ...args], {
      stdio: ['ignore', stdoutFd ?? 'ignore', 'inherit'],
    });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${code}`))));
  });
}

async function ensureInput(input) {
  const path = join(outDir, input.name);
  if (existsSync(path)) return path;
  process.stderr.write(`making ${input.name} (cached in bench/out/)…\n`);
  const partial = join(outDir, `partial-${input.name}`);
  if (input.from) {
    await ffmpeg(['-i', join(outDir, input.from), ...input.args, partial]);
  } else if (input.repeat) {
    // One second as raw H.264, its bytes repeated, then given times: seconds, not minutes.
    const second = `${partial}.h264`;
    await ffmpeg([...input.args, second]);
    const bytes = await readFile(second);
    await writeFile(second, Buffer.concat(Array(input.repeat.seconds).fill(bytes)));
    await ffmpeg(
      ['-f', 'h264', '-framerate', String(input.repeat.fps), '-i', second].concat([
        '-c',
        'copy',
        '-f',
        'matroska',
        partial,
      ]),
    );
    await rm(second);
  } else if (input.pipe) {
    // Written to a pipe, so the header carries no duration, as in a real recording.
    const file = await open(partial, 'w');
    try {
      await ffmpeg([...input.args, 'pipe:1'], file.fd);
    } finally {
      await file.close();
    }
  } else {
    const format = input.name.endsWith('.mkv') ? 'matroska' : 'mp4';
    await ffmpeg([...input.args, '-f', format, partial]);
  }
  await rename(partial, path);
  return path;
}

/** Polls /proc every few ms: peak VmHWM of each ffmpeg process that reads `input`. */
function watchPeaks(input) {
  const peaks = new Map();
  let watching = true;
  const done = (async () => {
    while (watching) {
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
        if (!/ffmpeg$/.test(argv[0]) || !argv.some((a) => a.endsWith(input))) continue;
        const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
        const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
        peaks.set(entry, Math.max(peaks.get(entry) ?? 0, kb * 1024));
      }
      await sleep(5);
    }
  })();
  return async () => {
    watching = false;
    await done;
    return { bytes: [...peaks.values()].reduce((a, b) => a + b, 0), processes: peaks.size };
  };
}

await mkdir(outDir, { recursive: true });
const paths = [];
for (const input of inputs) paths.push(await ensureInput(input));

const loadBefore = loadavg()[0];
const converter = new Converter({ ffmpegPath, ffprobePath, concurrency: 1, maxDurationS: 300 });
const rows = [];
try {
  for (const [i, input] of inputs.entries()) {
    const target = join(outDir, `memory-${input.name}`);
    await rm(target, { recursive: true, force: true });
    const stopWatching = watchPeaks(paths[i]);
    const started = performance.now();
    let outcome;
    try {
      const result = await converter.convert(paths[i], target);
      outcome = `${result.remuxed ? 'remux' : 'transcode'} → ${result.width}×${result.height}`;
    } catch (error) {
      outcome = `refused: ${error.reason ?? error.message}`;
    }
    const seconds = (performance.now() - started) / 1000;
    const peak = await stopWatching();
    await rm(target, { recursive: true, force: true });
    rows.push({
      input: input.label,
      mb: (await stat(paths[i])).size / 1e6,
      outcome,
      peakMb: peak.bytes / MB,
      processes: peak.processes,
      seconds,
    });
  }
} finally {
  await converter.close();
}

console.log(
  `\n${availableParallelism()} cores, load average ${loadBefore.toFixed(1)} before; ` +
    'peak = VmHWM of the ffmpeg processes (summed when HLS and poster run side by side)\n',
);
console.log('| input | MB | outcome | peak ffmpeg memory | seconds |');
console.log('|---|---|---|---|---|');
for (const row of rows) {
  const peak = row.processes === 0 ? 'no ffmpeg run' : `${row.peakMb.toFixed(0)} MB`;
  console.log(
    `| ${row.input} | ${row.mb.toFixed(1)} | ${row.outcome} | ${peak} | ${row.seconds.toFixed(2)} |`,
  );
}
const byName = Object.fromEntries(inputs.map((input, i) => [input.name, rows[i]]));
const accepted = rows.filter((row) => !row.outcome.startsWith('refused'));
console.log(
  JSON.stringify({
    bench: 'ffmpeg-memory',
    loadAverage: +loadBefore.toFixed(1),
    aspect4to1PeakMb: Math.round(byName['aspect-4to1-4096.mp4'].peakMb),
    aspect4to1Seconds: +byName['aspect-4to1-4096.mp4'].seconds.toFixed(2),
    square4096PeakMb: Math.round(byName['square-4096-3s.mp4'].peakMb),
    square4096Seconds: +byName['square-4096-3s.mp4'].seconds.toFixed(2),
    long4096RefusedSeconds: +byName['long-4096-60fps-300s.mkv'].seconds.toFixed(2),
    remux720pPeakMb: Math.round(byName['h264-720p-60s.mkv'].peakMb),
    remux720pSeconds: +byName['h264-720p-60s.mkv'].seconds.toFixed(2),
    maxAcceptedPeakMb: Math.round(Math.max(...accepted.map((row) => row.peakMb))),
    goal: accepted.every((row) => row.peakMb <= 600),
  }),
);
