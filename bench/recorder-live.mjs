// Converting while uploading (issue 11), end to end: seconds from pressing stop on a real
// <reel-recorder> in Chromium to the video being `ready` on the real reference server, with
// the live conversion on (default) and off (REELCHAT_LIVE_CONVERT=0, the path before it), and
// the server's CPU time per minute of take. Goal: stop → ready ≤ 0.5 s for every take.
// Run: node --import tsx bench/recorder-live.mjs [--takes 10,60,180,vp8:60] [--runs 2]
//   [--modes live,off] [--review 2]
//   a take is `<seconds>` (the type Chromium picks itself: H.264 + Opus in Matroska) or
//   `vp8:<seconds>` (VP8 + Opus WebM, as Firefox records). Defaults are short (10, vp8:10,
//   one run) so `npm run bench` stays quick; the figures in docs/ used the long form.
//
// As bench/recorder.mjs: the reference server (scripts/reference-server.mjs) as a child, a
// loopback page with the element bundled by esbuild, headless Chromium with the fake camera
// (1280x720), record → wait → stop (`no-confirm`: Stop sends, there is no review step).
// `ready` is seen through the server's event stream (`video.updated` over SSE on a second
// transport): no polling, the error is the event's delivery on loopback (milliseconds).
// Two servers run side by side, live on and off, and each take is recorded on one then the
// other, so both see the same load.
//
// CPU: the server process's utime+stime+cutime+cstime (/proc/<pid>/stat) plus the same of
// every live descendant (ffmpeg still running or not yet reaped), from the recorder's
// `reel-record-start` to `ready`, divided by the take's minutes. It includes the server
// handling the PATCHes and the event stream, not the browser.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../scripts/chromium.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';
import { bundlePage, servePage } from './page.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const TAKES = arg('takes', '10,vp8:10')
  .split(',')
  .map((spec) => {
    const [format, seconds] = spec.includes(':') ? spec.split(':') : ['default', spec];
    return { format, seconds: Number(seconds) };
  });
const RUNS = Number(arg('runs', '1'));
// --review <s>: no `no-confirm`; the take is reviewed this long, then sent: timed from Send.
const REVIEW_S = arg('review') === undefined ? undefined : Number(arg('review'));
const PRESSED = REVIEW_S === undefined ? 'stop' : 'send';
// --modes live skips the path before it (for looking at the live path's end alone).
const MODES = arg('modes', 'live,off').split(',');
const GOAL_S = 0.5;
const TICKS_PER_S = 100; // getconf CLK_TCK on Linux

const budgetMs =
  (TAKES.reduce((sum, take) => sum + take.seconds + 45, 0) * RUNS * MODES.length + 120) * 1000;
const deadline = setTimeout(() => {
  console.error(`bench/recorder-live: gave up after ${Math.round(budgetMs / 1000)} s`);
  process.exit(2);
}, budgetMs);
deadline.unref();

/** CPU ticks of a process and its reaped children, plus those of its live descendants. */
function treeTicks(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0; // exited and reaped between the listing and the read: in its parent's cutime
  }
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14–17 of stat (11–14 after the name and state).
  let ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  let children = '';
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    // gone
  }
  for (const child of children.trim().split(/\s+/).filter(Boolean))
    ticks += treeTicks(Number(child));
  return ticks;
}

/** The page's script: the recorder element and the transport, as a site would load them. */
const PAGE_ENTRY = `
import './src/transport/index.ts';
import { HttpTransport } from './src/transport/http/http-transport.ts';
import { Outbox } from './src/outbox/outbox.ts';
import { pickRecordingType } from './src/recorder/index.ts';

import { until } from './bench/page-until.mjs';

window.benchRecord = async ({ endpoint, token, conversation, seconds, format, reviewS }) => {
  const defaultType = pickRecordingType();
  if (format === 'vp8') {
    // The recorder has no type option: it takes the first of RECORDING_TYPES the browser
    // supports, so the page makes VP8/Opus WebM the only one (Firefox's case).
    const supported = MediaRecorder.isTypeSupported.bind(MediaRecorder);
    MediaRecorder.isTypeSupported = (type) => type.startsWith('video/webm;codecs=vp8') && supported(type);
  }
  const watch = new HttpTransport({ endpoint, token });
  const updates = new Map();
  let online = false;
  const unsubscribe = watch.subscribe(conversation, (event) => {
    if (event.type === 'connection') online = event.state === 'online';
    if (event.type !== 'video.updated') return;
    const seen = updates.get(event.video.id) ?? {};
    seen[event.video.state] ??= { at: performance.now(), video: event.video };
    updates.set(event.video.id, seen);
  });
  await until(() => online, 'the event stream');

  const el = document.createElement('reel-recorder');
  el.setAttribute('transport', 'http');
  el.setAttribute('endpoint', endpoint);
  el.setAttribute('token', token);
  el.setAttribute('conversation', conversation);
  el.setAttribute('max-duration', String(seconds + 30));
  if (reviewS === undefined) el.setAttribute('no-confirm', '');
  el.setAttribute('autostart', '');
  el.outbox = new Outbox({ name: 'bench-' + conversation });
  const events = {};
  for (const name of ['reel-record-start', 'reel-record-stop', 'reel-upload-complete', 'reel-error']) {
    events[name] = [];
    el.addEventListener(name, (event) => events[name].push({ at: performance.now(), detail: event.detail }));
  }
  document.body.append(el);
  await until(() => el.state === 'previewing' || el.state === 'error', 'the camera', 20000);
  if (el.state === 'error') throw new Error('the recorder failed: ' + events['reel-error'].map((e) => e.detail.error).join('; '));
  const button = (name) => el.shadowRoot.querySelector('[part~="' + name + '"]');

  button('record-button').click();
  await until(() => events['reel-record-start'].length, 'recording');
  const recordAt = events['reel-record-start'][0].at;
  await window.benchMark('start');
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000 - (performance.now() - recordAt)));
  // Timed from Stop, or from Send when the person watches the take back first.
  let pressedAt = performance.now();
  let pressedEpochMs = Date.now();
  button('stop-button').click();
  if (reviewS !== undefined) {
    await until(() => el.state === 'reviewing', 'the review', 20000);
    await new Promise((resolve) => setTimeout(resolve, reviewS * 1000));
    pressedAt = performance.now();
    pressedEpochMs = Date.now();
    button('send-button').click();
  }
  await until(() => events['reel-upload-complete'].length || events['reel-error'].length, 'the upload', seconds * 1000 + 60000);
  if (events['reel-error'].length) throw new Error(String(events['reel-error'][0].detail.error));
  const video = events['reel-upload-complete'][0].detail;
  const ready = await until(() => updates.get(video.id)?.ready ?? updates.get(video.id)?.failed, 'ready', 180000);
  await window.benchMark('ready');
  unsubscribe();
  await watch.close();
  const stop = events['reel-record-stop'][0];
  return {
    mimeType: stop.detail.mimeType,
    defaultType,
    bytes: stop.detail.bytes,
    state: ready.video.state,
    reason: ready.video.reason,
    duration: ready.video.duration,
    uploadedS: (events['reel-upload-complete'][0].at - pressedAt) / 1000,
    readyS: (ready.at - pressedAt) / 1000,
    videoId: video.id,
    pressedEpochMs,
  };
};
`;

async function recordOnce(browser, origin, server, take) {
  const conversation = `bench-${take.format}-${take.seconds}-${Date.now()}`;
  const query = new URLSearchParams({ user: 'bench', conversations: conversation });
  const { token } = await (await fetch(`${server.url}/v1/dev/token?${query}`)).json();
  const context = await browser.newContext();
  const marks = {};
  await context.exposeFunction('benchMark', (name) => {
    marks[name] = { ticks: treeTicks(server.child.pid), load: loadavg()[0] };
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error}`));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => typeof window.benchRecord === 'function');
  const result = await page.evaluate((options) => window.benchRecord(options), {
    endpoint: server.url,
    token,
    conversation,
    seconds: take.seconds,
    format: take.format,
    reviewS: REVIEW_S,
  });
  await context.close();
  // The live pool's log event: its end, or why it gave up (the stored bytes were converted).
  const live = server.liveEvents.find((event) => event.video === result.videoId);
  const cpuS = (marks.ready.ticks - marks.start.ticks) / TICKS_PER_S;
  return {
    ...result,
    gaveUp: live && !live.used ? live.reason : undefined,
    live,
    cpuPerMinS: (cpuS * 60) / take.seconds,
    load: marks.ready.load,
  };
}

/** The live path's end, from the server's `live` log event: each step's ms after the upload. */
function finishSteps(result) {
  const lag = result.duration - result.live.outputAtCompleteS;
  const steps = ['fedMs', 'hlsMs', 'scanMs', 'posterMs', 'checkedMs', 'inPlaceMs'];
  // The event is logged when the conversion ends, inPlaceMs after the upload completed.
  const completedEpochMs = Date.parse(result.live.time) - (result.live.inPlaceMs ?? 0);
  return (
    steps
      .filter((step) => result.live[step] !== undefined)
      .map((step) => `${step.slice(0, -2)} +${Math.round(result.live[step])}`)
      .join(', ') +
    ` ms; ffmpeg's output was ${lag.toFixed(2)} s short; the upload completed ` +
    `${Math.round(completedEpochMs - result.pressedEpochMs)} ms after ${PRESSED} (one clock, one machine)`
  );
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round2 = (n) => Math.round(n * 100) / 100;

async function main() {
  const pageServer = await servePage(await bundlePage(PAGE_ENTRY), 'recorder live bench');
  const origin = pageServer.origin;
  // The JSON log's `live` events say where the live path's wait after the upload goes.
  const env = { REELCHAT_ALLOWED_ORIGINS: origin, REELCHAT_LOG: 'json' };
  const servers = {
    live: await startReferenceServer({ env }),
    off: await startReferenceServer({ env: { ...env, REELCHAT_LIVE_CONVERT: '0' } }),
  };
  for (const server of Object.values(servers)) {
    server.liveEvents = [];
    let partial = '';
    server.child.stdout.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const text of lines) {
        if (!text.startsWith('{')) continue;
        const event = JSON.parse(text);
        if (event.kind === 'live') server.liveEvents.push(event);
      }
    });
  }
  const browser = await chromium.launch({
    executablePath: requireChromium(),
    headless: true,
    args: chromiumArgs,
  });
  const results = [];
  try {
    for (const take of TAKES) {
      for (let run = 0; run < RUNS; run++) {
        for (const mode of MODES) {
          const result = await recordOnce(browser, origin, servers[mode], take);
          results.push({ ...take, mode, ...result });
          console.error(
            `${take.format} ${take.seconds} s, ${mode}: ${PRESSED} → ready ${result.readyS.toFixed(2)} s, ` +
              `CPU ${result.cpuPerMinS.toFixed(2)} s/min, ${result.state} ${result.duration} s ` +
              `(${result.mimeType}, ${result.bytes} B, load ${result.load.toFixed(2)})` +
              (result.gaveUp ? ` — live gave up: ${result.gaveUp}` : ''),
          );
          if (result.live?.used)
            console.error(`  after the upload completed: ${finishSteps(result)}`);
        }
      }
    }
  } finally {
    await browser.close();
    await Promise.all(Object.values(servers).map((server) => server.stop()));
    pageServer.close();
  }

  const header = [
    'take',
    'type',
    'conversion',
    'runs',
    'stop → uploaded',
    'stop → ready min / median',
  ];
  header.push('CPU s per min of take (median)', 'duration', 'load');
  const rows = [];
  const summary = { bench: 'recorder-live', goalS: GOAL_S, runs: RUNS, reviewS: REVIEW_S };
  let met = true;
  for (const take of TAKES) {
    for (const mode of MODES) {
      const of = results.filter(
        (r) => r.format === take.format && r.seconds === take.seconds && r.mode === mode,
      );
      const ready = of.map((r) => r.readyS);
      const loads = of.map((r) => r.load);
      const key = `${take.format === 'vp8' ? 'vp8_' : ''}${take.seconds}s_${mode}`;
      summary[`${key}_stopToReadyS`] = round2(median(ready));
      summary[`${key}_cpuPerMinS`] = round2(median(of.map((r) => r.cpuPerMinS)));
      summary[`${key}_fellBack`] = of.filter((r) => r.gaveUp).length;
      if (mode === 'live') met &&= of.every((r) => r.state === 'ready' && r.readyS <= GOAL_S);
      rows.push([
        `${take.seconds} s`,
        of[0].mimeType,
        mode === 'live' ? 'live (default)' : 'off (LIVE_CONVERT=0)',
        String(of.length) +
          (of.some((r) => r.gaveUp) ? ` (${of.filter((r) => r.gaveUp).length} fell back)` : ''),
        `${median(of.map((r) => r.uploadedS)).toFixed(2)} s`,
        `${Math.min(...ready).toFixed(2)} / ${median(ready).toFixed(2)} s`,
        `${median(of.map((r) => r.cpuPerMinS)).toFixed(2)} s`,
        of.map((r) => (r.state === 'ready' ? `${r.duration} s` : r.state)).join(', '),
        `${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`,
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(
    `(${REVIEW_S === undefined ? 'stop' : `send (after ${REVIEW_S} s of review)`} pressed → ` +
      `the server's video.updated ready event; load = 1-min load average at ready)`,
  );
  summary.default = results.find((r) => r.format === 'default')?.mimeType;
  summary.met = met;
  console.log(JSON.stringify(summary));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
