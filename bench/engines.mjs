// Benchmark for <reel-player> in every engine: Chromium, Firefox and WebKit (WebKitGTK), as
// scripts/browsers.mjs starts them. Plain Node; run
//   node bench/engines.mjs [--engines chromium,firefox,webkit] [--runs 2] [--starts 10]
//
// Uses bench/player.mjs's page, clips (4 x 6 s, 640x360 30 fps, H.264 without B-frames, AAC,
// fMP4 HLS with 2 s segments, as the server converts) and join analysis. Per engine:
// 1. `--runs` plays of the stitched reel in one browser: the largest frame interval at each
//    join, from requestVideoFrameCallback's expectedDisplayTime (every engine here has it),
//    `waiting` events, stalls the player reported, and play() to first frame;
// 2. `--starts` fresh starts: a newly started browser, a new page, a new player of the test
//    fixtures' short clips (4 x 3 s, 1 s segments, like short recordings: later clips' init
//    segments come early), play(); a start succeeds when the first frame shows within 2 s
//    (WebKit used to stall for good about one start in three).
import { cpSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturesDir, makeFixtures } from '../scripts/fixtures.mjs';
import {
  analyse,
  bundle,
  CLIP_S,
  CLIPS,
  makeClips,
  median,
  playlistDurations,
  round,
  serve,
} from './player.mjs';
import { enginesFromEnv, ENGINES, openBrowser } from '../scripts/browsers.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const RUNS = Number(arg('runs', 2));
const STARTS = Number(arg('starts', 10));
const engines = arg('engines') ? arg('engines').split(',') : enginesFromEnv(ENGINES);
const GOAL_JOIN_MS = 50;
const GOAL_START_MS = 2000;

const deadline = setTimeout(() => {
  console.error('bench/engines: gave up after 20 minutes');
  process.exit(2);
}, 20 * 60_000);
deadline.unref();

/**
 * Runs in the page: a new player plays `clips` (to the end when `untilEnd`, else until its
 * first frame); returns its frames, events and, when it did not start, what the video was at.
 */
async function playOnce({ clips, untilEnd, limitMs }) {
  await customElements.whenDefined('reel-player');
  const el = document.createElement('reel-player');
  el.style.width = '640px';
  el.clips = clips;
  const frames = [];
  const changes = [];
  const errors = [];
  let waiting = 0;
  let ended = false;
  let firstFrame;
  el.addEventListener('reel-clip-change', (e) => changes.push(e.detail.index));
  el.addEventListener('reel-error', (e) => errors.push(e.detail.error.message));
  el.addEventListener('reel-ended', () => (ended = true));
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
  const t0 = performance.now();
  let settled = 'pending';
  el.play().then(
    () => (settled = 'resolved'),
    () => (settled = 'rejected'),
  );
  while (performance.now() - t0 < limitMs && !(untilEnd ? ended : firstFrame !== undefined))
    await new Promise((r) => setTimeout(r, 10));
  const video = el.shadowRoot.querySelector('video[data-active]');
  const ranges = video?.buffered;
  const result = {
    frames: untilEnd ? frames : [],
    changes,
    errors,
    waiting,
    ended,
    mode: el.mode,
    firstFrameMs: firstFrame === undefined ? null : firstFrame - t0,
    // What a start that did not happen looked like.
    state: {
      readyState: video?.readyState,
      currentTime: video?.currentTime,
      paused: video?.paused,
      buffered: ranges?.length ? round(ranges.end(ranges.length - 1) - ranges.start(0)) : 0,
      play: settled,
    },
  };
  el.remove();
  return result;

  function round(n) {
    return Math.round(n * 100) / 100;
  }
}

async function benchEngine(engine, origin, durations) {
  const clips = Array.from({ length: CLIPS }, (_, i) => ({
    id: `c${i}`,
    src: `${origin}/media/clip${i + 1}/index.m3u8`,
  }));
  const shortClips = Array.from({ length: 4 }, (_, i) => ({
    id: `s${i}`,
    src: `${origin}/short/clip${i + 1}/index.m3u8`,
  }));
  const runs = [];
  const browser = await openBrowser(engine);
  const version = browser.version;
  try {
    for (let n = 1; n <= RUNS; n++) {
      const page = await browser.newPage();
      await page.goto(`${origin}/index.html`);
      const result = await page.evaluate(playOnce, {
        clips,
        untilEnd: true,
        limitMs: (CLIPS * CLIP_S + 20) * 1000,
      });
      await page.close();
      const analysis = analyse(result, 'stitch', durations);
      runs.push({ ...result, ...analysis, frames: undefined });
      console.error(
        `${engine} run ${n}: joins ${analysis.joins.map((j) => `${round(j)} ms`).join(', ')}; ` +
          `waiting ${result.waiting}; first frame ${round(result.firstFrameMs)} ms; ` +
          `ended ${result.ended}; stalls ${result.errors.length}`,
      );
    }
  } finally {
    await browser.close();
  }

  const starts = [];
  for (let n = 1; n <= STARTS; n++) {
    const fresh = await openBrowser(engine);
    try {
      const page = await fresh.newPage();
      await page.goto(`${origin}/index.html`);
      const result = await page.evaluate(playOnce, {
        clips: shortClips,
        untilEnd: false,
        limitMs: 10_000,
      });
      const ok = result.firstFrameMs !== null && result.firstFrameMs <= GOAL_START_MS;
      starts.push({ ...result, ok });
      if (!ok || result.errors.length)
        console.error(
          `${engine} fresh start ${n}: ${ok ? 'started' : 'DID NOT START'} ` +
            `(first frame ${result.firstFrameMs === null ? 'never' : `${round(result.firstFrameMs)} ms`}); ` +
            `${JSON.stringify(result.state)} ${result.errors.join(' | ')}`,
        );
    } finally {
      await fresh.close();
    }
  }
  console.error(
    `${engine}: ${starts.filter((s) => s.ok).length}/${STARTS} fresh starts within ${GOAL_START_MS} ms`,
  );

  const joins = runs.flatMap((r) => r.joins);
  const startTimes = starts.map((s) => s.firstFrameMs).filter((ms) => ms !== null);
  return {
    engine,
    version,
    joinMaxMs: round(Math.max(...joins)),
    joinsMs: runs.map((r) => r.joins.map(round)),
    joinsOk:
      joins.length === runs.length * (CLIPS - 1) && joins.every((j) => j <= GOAL_JOIN_MS + 0.5),
    steadyMaxMs: round(Math.max(...runs.map((r) => r.steadyMax))),
    waiting: runs.reduce((sum, r) => sum + r.waiting, 0),
    stallsReported: runs.reduce((sum, r) => sum + r.errors.length, 0),
    ended: runs.every((r) => r.ended),
    clipChanges: runs.map((r) => r.changes.join('')),
    firstFrameMedianMs: round(median(runs.map((r) => r.firstFrameMs))),
    freshStarts: `${starts.filter((s) => s.ok).length}/${STARTS}`,
    freshStartsOk: starts.every((s) => s.ok),
    freshStartNudges: starts.filter((s) => s.errors.length > 0).length,
    freshFirstFrameMedianMs: startTimes.length ? round(median(startTimes)) : null,
    freshFirstFrameMaxMs: startTimes.length ? round(Math.max(...startTimes)) : null,
  };
}

async function main() {
  await bundle();
  await makeClips();
  await makeFixtures();
  const out = join(dirname(fileURLToPath(import.meta.url)), 'out');
  cpSync(join(fixturesDir, 'hls'), join(out, 'short'), { recursive: true });
  const durations = playlistDurations();
  const loadBefore = loadavg()[0];
  const server = await serve();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const results = [];
  try {
    for (const engine of engines) results.push(await benchEngine(engine, origin, durations));
  } finally {
    server.close();
  }
  const rows = [
    [
      'engine',
      'joins (largest frame interval)',
      'first frame',
      'fresh starts',
      'fresh first frame',
    ],
    ...results.map((r) => [
      `${r.engine} ${r.version}`,
      `max ${r.joinMaxMs} ms (${r.joinsMs.map((j) => j.join('/')).join(', ')})`,
      `${r.firstFrameMedianMs} ms`,
      `${r.freshStarts} within ${GOAL_START_MS} ms`,
      `median ${r.freshFirstFrameMedianMs} ms, max ${r.freshFirstFrameMaxMs} ms`,
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
  console.log(
    JSON.stringify({
      bench: 'engines',
      clips: `${CLIPS} x ${CLIP_S} s, 640x360 30 fps, H.264 no B-frames, fMP4 HLS 2 s segments`,
      goals: { joinMs: GOAL_JOIN_MS, startMs: GOAL_START_MS },
      results,
      loadAverage: [round(loadBefore), round(loadavg()[0])],
    }),
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
