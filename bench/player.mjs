// Benchmark for <reel-player>: how smooth the joins between clips are, how soon the first frame
// shows, and how big the player is. Plain Node; run `node bench/player.mjs [--runs 3] [--swap-runs 1]`.
//
// 1. bundles src/player/index.ts with esbuild (one build for the page, hls.js split off as the
//    lazy chunk it is; one minified build without hls.js for the size),
// 2. makes 4 clips of 6 s, 640x360, 30 fps with ffmpeg the way the server converts uploads
//    (H.264 without B-frames, a keyframe every 2 s, AAC 48 kHz stereo, fMP4 HLS with 2 s segments),
//    and the same clips as MP4 files for the two-video fallback,
// 3. serves them on a loopback port and plays the reel in headless Chromium (playwright-core),
//    recording every presented frame of the visible <video> with requestVideoFrameCallback.
//
// A join is judged on `expectedDisplayTime` (the compositor's time for a frame: 33 ms between
// frames at 30 fps, 50 ms for a frame one 16.7 ms render beat late), divided by the number of
// `presentedFrames` since the previous callback so a skipped callback is not counted as a gap.
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../scripts/chromium.mjs';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bench', 'out');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const RUNS = arg('runs', 3);
const SWAP_RUNS = arg('swap-runs', 1);
export const CLIPS = 4;
export const CLIP_S = 6;
const GOAL_JOIN_MS = 50;
const GOAL_FIRST_FRAME_MS = 300;

// Run on its own (bench/engines.mjs imports the page, clips and analysis from here).
const runDirectly = process.argv[1] === fileURLToPath(import.meta.url);

// Everything is bounded: the whole benchmark gives up after this long.
if (runDirectly) {
  const deadline = setTimeout(() => {
    console.error('bench/player: gave up after 8 minutes');
    process.exit(2);
  }, 8 * 60_000);
  deadline.unref();
}

export async function bundle() {
  const common = {
    entryPoints: [join(root, 'src/player/index.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    tsconfig: join(root, 'tsconfig.json'),
    conditions: ['production'],
    logLevel: 'error',
  };
  await build({
    ...common,
    outdir: join(out, 'app'),
    splitting: true,
    minify: true,
    sourcemap: false,
  });
  const sized = await build({
    ...common,
    write: false,
    minify: true,
    external: ['hls.js', 'hls.js/*'],
  });
  const entry = sized.outputFiles[0].contents;
  const hlsLight = readFileSync(join(root, 'node_modules/hls.js/dist/hls.light.min.mjs'));
  return {
    entryBytes: entry.length,
    entryGzip: gzipSync(entry, { level: 9 }).length,
    hlsLightGzip: gzipSync(hlsLight, { level: 9 }).length,
  };
}

export async function makeClips() {
  const ffmpeg = process.env.FFMPEG_PATH || 'ffmpeg';
  for (let n = 1; n <= CLIPS; n++) {
    const dir = join(out, 'media', `clip${n}`);
    mkdirSync(dir, { recursive: true });
    const input = [
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=640x360:rate=30:duration=${CLIP_S},hue=h=${n * 80}`,
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${440 + n * 80}:sample_rate=48000:duration=${CLIP_S}`,
    ];
    const codecs = [
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-crf',
      '23',
      '-bf',
      '0',
      '-force_key_frames',
      'expr:gte(t,n_forced*2)',
      '-sc_threshold',
      '0',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-ar',
      '48000',
      '-ac',
      '2',
    ];
    if (!existsSync(join(dir, 'index.m3u8'))) {
      await run(ffmpeg, [
        '-hide_banner',
        '-v',
        'error',
        '-y',
        ...input,
        ...codecs,
        '-f',
        'hls',
        '-hls_time',
        '2',
        '-hls_playlist_type',
        'vod',
        '-hls_segment_type',
        'fmp4',
        '-hls_fmp4_init_filename',
        'init.mp4',
        '-hls_segment_filename',
        join(dir, 'seg%d.m4s'),
        '-hls_flags',
        'independent_segments',
        join(dir, 'index.m3u8'),
      ]);
    }
    if (!existsSync(join(dir, 'clip.mp4'))) {
      await run(ffmpeg, [
        '-hide_banner',
        '-v',
        'error',
        '-y',
        ...input,
        ...codecs,
        '-movflags',
        '+faststart',
        join(dir, 'clip.mp4'),
      ]);
    }
  }
  writeFileSync(
    join(out, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>reel-player bench</title>' +
      '<body style="margin:0;background:#222"><script type="module" src="/app/index.js"></script></body>',
  );
}

/** Seconds of each clip as its playlist says (the stitched timeline is built from these). */
export function playlistDurations() {
  return Array.from({ length: CLIPS }, (_, i) => {
    const text = readFileSync(join(out, 'media', `clip${i + 1}`, 'index.m3u8'), 'utf8');
    return [...text.matchAll(/#EXTINF:([\d.]+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  });
}

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
};

export function serve() {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(
      /^(\.\.[/\\])+/,
      '',
    );
    const file = join(out, path === '/' ? 'index.html' : path);
    if (!file.startsWith(out) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const body = readFileSync(file);
    const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Number(range[2]) : body.length - 1;
      res.writeHead(206, {
        'content-type': type,
        'content-range': `bytes ${start}-${end}/${body.length}`,
        'accept-ranges': 'bytes',
      });
      res.end(body.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, {
      'content-type': type,
      'accept-ranges': 'bytes',
      'content-length': body.length,
    });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Runs in the page: plays the reel once, returns every frame of the visible video. */
export async function playReel({ clips, limitMs }) {
  await customElements.whenDefined('reel-player');
  const el = document.createElement('reel-player');
  el.style.width = '640px';
  el.clips = clips;
  const frames = [];
  const changes = [];
  let waiting = 0;
  let firstFrame;
  let t0 = 0;
  el.addEventListener('reel-clip-change', (e) => changes.push(e.detail.index));
  document.body.append(el);
  await el.updateComplete;
  for (const [vi, video] of [...el.shadowRoot.querySelectorAll('video')].entries()) {
    const onFrame = (now, meta) => {
      if (video.hasAttribute('data-active')) {
        firstFrame ??= performance.now();
        frames.push({
          vi,
          edt: meta.expectedDisplayTime,
          pf: meta.presentedFrames,
          mt: meta.mediaTime,
        });
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    video.addEventListener('waiting', () => {
      if (firstFrame !== undefined && video.hasAttribute('data-active')) waiting++;
    });
  }
  const ended = new Promise((resolve) =>
    el.addEventListener('reel-ended', () => resolve(true), { once: true }),
  );
  t0 = performance.now();
  void el.play();
  const done = await Promise.race([ended, new Promise((r) => setTimeout(() => r(false), limitMs))]);
  const result = {
    frames,
    changes,
    waiting,
    ended: done,
    firstFrameMs: firstFrame - t0,
    mode: el.mode,
  };

  // Warm start: a second player whose first clip is already buffered, then play().
  const warm = document.createElement('reel-player');
  warm.clips = clips.slice(0, 1);
  document.body.append(warm);
  await warm.updateComplete;
  const video = () => warm.shadowRoot.querySelector('video[data-active]');
  const start = performance.now();
  while (!(video()?.readyState >= 3) && performance.now() - start < 10_000)
    await new Promise((r) => setTimeout(r, 20));
  const shown = new Promise((resolve) =>
    video().requestVideoFrameCallback(() => resolve(performance.now())),
  );
  const t1 = performance.now();
  void warm.play();
  result.warmFirstFrameMs = (await shown) - t1;
  el.remove();
  warm.remove();
  return result;
}

/** The largest frame interval around each join, from the frames of the visible video. */
export function analyse(result, mode, durations) {
  const { frames } = result;
  const intervals = frames.map((f, i) => {
    if (i === 0) return 0;
    const p = frames[i - 1];
    if (p.vi !== f.vi) return f.edt - p.edt;
    return (f.edt - p.edt) / Math.max(1, f.pf - p.pf);
  });
  // Index of the first frame of each clip after the first.
  const firsts = [];
  if (mode === 'stitch') {
    let boundary = 0;
    for (let k = 1; k < durations.length; k++) {
      boundary += durations[k - 1];
      const at = frames.findIndex((f) => f.mt >= boundary - 0.005);
      if (at > 0) firsts.push(at);
    }
  } else {
    frames.forEach((f, i) => i > 0 && f.vi !== frames[i - 1].vi && firsts.push(i));
  }
  const joins = firsts.map((at) => Math.max(...intervals.slice(Math.max(1, at - 2), at + 4)));
  // Away from the joins, after the first half second (the start is measured on its own).
  const inside = intervals.map((v, i) =>
    frames[i].mt < 0.5 || firsts.some((at) => i >= at - 2 && i < at + 4) ? 0 : v,
  );
  const steadyMax = Math.max(0, ...inside);
  const at = frames[inside.indexOf(steadyMax)];
  return { joins, steadyMax, steadyMaxAt: at ? round(at.mt) : undefined, frames: frames.length };
}

export const round = (n) => Math.round(n * 10) / 10;
export const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main() {
  mkdirSync(out, { recursive: true });
  const size = await bundle();
  await makeClips();
  const durations = playlistDurations();
  const loadBefore = loadavg()[0];
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: requireChromium(),
    headless: true,
    args: chromiumArgs,
  });
  const results = [];
  try {
    const plans = [
      ...Array.from({ length: RUNS }, () => 'stitch'),
      ...Array.from({ length: SWAP_RUNS }, () => 'swap'),
    ];
    for (const [n, mode] of plans.entries()) {
      const page = await browser.newPage({ viewport: { width: 700, height: 420 } });
      page.setDefaultTimeout(60_000);
      await page.goto(`${origin}/index.html`);
      const clips = Array.from({ length: CLIPS }, (_, i) =>
        mode === 'stitch'
          ? { id: `c${i}`, src: `${origin}/media/clip${i + 1}/index.m3u8` }
          : { id: `c${i}`, src: `${origin}/media/clip${i + 1}/clip.mp4`, type: 'file' },
      );
      const result = await page.evaluate(playReel, {
        clips,
        limitMs: (CLIPS * CLIP_S + 20) * 1000,
      });
      await page.close();
      const analysis = analyse(result, mode, durations);
      results.push({
        run: n + 1,
        mode,
        ...result,
        ...analysis,
        frames: undefined,
        frameCount: analysis.frames,
      });
      console.error(
        `run ${n + 1} (${result.mode}): joins ${analysis.joins.map((j) => `${round(j)} ms`).join(', ')}; ` +
          `waiting ${result.waiting}; first frame ${round(result.firstFrameMs)} ms; ended ${result.ended}`,
      );
    }
  } finally {
    await browser.close();
    server.close();
  }

  const stitched = results.filter((r) => r.mode === 'stitch');
  const swapped = results.filter((r) => r.mode === 'swap');
  const allJoins = stitched.flatMap((r) => r.joins);
  const summary = {
    bench: 'player',
    clips: `${CLIPS} x ${CLIP_S} s, 640x360 30 fps, H.264 no B-frames, fMP4 HLS 2 s segments`,
    runs: stitched.length,
    joinMaxMs: round(Math.max(...allJoins)),
    joinsMs: stitched.map((r) => r.joins.map(round)),
    joinsOk:
      allJoins.length === stitched.length * (CLIPS - 1) &&
      allJoins.every((j) => j <= GOAL_JOIN_MS + 0.5),
    steadyMaxMs: round(Math.max(...stitched.map((r) => r.steadyMax))),
    steadyMaxAtS: stitched.map((r) => r.steadyMaxAt),
    waiting: stitched.reduce((sum, r) => sum + r.waiting, 0),
    ended: stitched.every((r) => r.ended),
    clipChanges: stitched.map((r) => r.changes.join('')),
    firstFrameMedianMs: round(median(stitched.map((r) => r.firstFrameMs))),
    warmFirstFrameMedianMs: round(median(stitched.map((r) => r.warmFirstFrameMs))),
    firstFrameOk: median(stitched.map((r) => r.firstFrameMs)) <= GOAL_FIRST_FRAME_MS,
    swapJoinsMs: swapped.map((r) => r.joins.map(round)),
    swapWaiting: swapped.reduce((sum, r) => sum + r.waiting, 0),
    entryGzipBytes: size.entryGzip,
    entryMinBytes: size.entryBytes,
    hlsLightGzipBytes: size.hlsLightGzip,
    // The machine is shared: a load above the core count explains stray late frames.
    loadAverage: [round(loadBefore), round(loadavg()[0])],
  };

  const rows = [
    ['measure', 'value', 'goal'],
    [
      'largest frame interval at a join (stitched, all runs)',
      `${summary.joinMaxMs} ms`,
      `<= ${GOAL_JOIN_MS} ms`,
    ],
    ...stitched.map((r) => [
      `  run ${r.run} joins`,
      r.joins.map((j) => `${round(j)}`).join(' / ') + ' ms',
      '',
    ]),
    ['largest frame interval away from joins (after 0.5 s)', `${summary.steadyMaxMs} ms`, ''],
    ['waiting events after the first frame', String(summary.waiting), '0'],
    ['reel-ended fired, clip changes', `${summary.ended}, ${summary.clipChanges.join(' ')}`, ''],
    [
      'play() to first frame, fresh player (median)',
      `${summary.firstFrameMedianMs} ms`,
      `<= ${GOAL_FIRST_FRAME_MS} ms`,
    ],
    ['play() to first frame, buffered (median)', `${summary.warmFirstFrameMedianMs} ms`, ''],
    ...swapped.map((r) => [
      `two-video fallback (mp4) run ${r.run - RUNS} joins`,
      r.joins.map((j) => `${round(j)}`).join(' / ') + ' ms',
      '',
    ]),
    [
      'player entry, minified, gzip, without hls.js',
      `${(summary.entryGzipBytes / 1024).toFixed(1)} KiB`,
      '',
    ],
    [
      'hls.js light build (lazy chunk), gzip',
      `${(summary.hlsLightGzipBytes / 1024).toFixed(1)} KiB`,
      '',
    ],
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
  console.log(JSON.stringify(summary));
}

if (runDirectly)
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
