// Benchmark for <reel-recorder> with the http transport: seconds from pressing stop to the
// video being `ready` on the reference server, for 10 s and 60 s recordings (goal ≤ 1.5 s).
// Run: node --import tsx bench/recorder.mjs [--lengths 10,60] [--formats mp4,matroska]
//
// 1. starts the reference server (scripts/reference-server.mjs) and a loopback page server,
// 2. bundles a page with esbuild that puts a real <reel-recorder transport="http" no-confirm>
//    on it (the element, its outbox in IndexedDB, HttpTransport with tus-js-client),
// 3. drives headless Chromium (playwright-core) with the fake camera, which gives the
//    1280x720 the recorder asks for: presses record, waits, presses stop, and times the
//    server's `video.updated` events (server-sent events, on a second transport).
//
// Each length is recorded once per format. The page hides the other container from
// MediaRecorder.isTypeSupported, so the recorder takes video/x-matroska avc1+opus
// (`matroska`, its first choice in Chromium) or video/mp4 avc1+opus (`mp4`, Safari's kind).
// `met` judges the format the recorder picks by itself.
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../scripts/chromium.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';
import { bundlePage, servePage } from './page.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1].split(',') : fallback;
};
const LENGTHS = arg('lengths', ['10', '60']).map(Number);
const FORMATS = arg('formats', ['matroska', 'mp4']);
const GOAL_S = 1.5;

// Bounded: the whole benchmark gives up after this long.
const budgetMs = (LENGTHS.reduce((a, b) => a + b, 0) * FORMATS.length + 180) * 1000;
const deadline = setTimeout(() => {
  console.error(`bench/recorder: gave up after ${Math.round(budgetMs / 1000)} s`);
  process.exit(2);
}, budgetMs);
deadline.unref();

/** The page's script: the recorder element and the transport, as a site would load them. */
const PAGE_ENTRY = `
import './src/transport/index.ts';
import { HttpTransport } from './src/transport/http/http-transport.ts';
import { Outbox } from './src/outbox/outbox.ts';
import { pickRecordingType } from './src/recorder/index.ts';

import { until } from './bench/page-until.mjs';

window.benchRecord = async ({ endpoint, token, conversation, seconds, format }) => {
  const defaultType = pickRecordingType();
  const hidden = format === 'matroska' ? 'video/mp4' : 'video/x-matroska';
  const supported = MediaRecorder.isTypeSupported.bind(MediaRecorder);
  MediaRecorder.isTypeSupported = (type) => !type.startsWith(hidden) && supported(type);
  // The server's view, through its event stream.
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
  el.setAttribute('no-confirm', '');
  el.setAttribute('autostart', '');
  el.outbox = new Outbox({ name: 'bench-' + conversation });
  const events = {};
  for (const name of ['reel-record-start', 'reel-record-stop', 'reel-upload-progress', 'reel-upload-complete', 'reel-error']) {
    events[name] = [];
    el.addEventListener(name, (event) => events[name].push({ at: performance.now(), detail: event.detail }));
  }
  document.body.append(el);
  await until(() => el.state === 'previewing' || el.state === 'error', 'the camera', 20000);
  if (el.state === 'error') throw new Error('the recorder failed: ' + events['reel-error'].map((e) => e.detail.error).join('; '));
  const button = (name) => el.shadowRoot.querySelector('[part~="' + name + '"]');
  const preview = el.shadowRoot.querySelector('[part~="preview"]');
  const settings = preview.srcObject.getVideoTracks()[0].getSettings();

  button('record-button').click();
  await until(() => events['reel-record-start'].length, 'recording');
  const recordAt = events['reel-record-start'][0].at;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000 - (performance.now() - recordAt)));
  const stopAt = performance.now();
  button('stop-button').click();
  await until(() => events['reel-record-stop'].length || events['reel-error'].length, 'stop');
  await until(() => events['reel-upload-complete'].length || events['reel-error'].length, 'the upload');
  if (events['reel-error'].length) throw new Error(String(events['reel-error'][0].detail.error));
  const video = events['reel-upload-complete'][0].detail;
  const ready = await until(() => updates.get(video.id)?.ready ?? updates.get(video.id)?.failed, 'ready');
  unsubscribe();
  await watch.close();
  const stop = events['reel-record-stop'][0];
  // The first progress event after stop tells what the server had when the take ended.
  const atEnd = events['reel-upload-progress'][0]?.detail.sent ?? 0;
  const processing = updates.get(video.id)?.processing;
  return {
    format,
    seconds,
    mimeType: stop.detail.mimeType,
    defaultType,
    width: settings.width,
    height: settings.height,
    bytes: stop.detail.bytes,
    leftAtStop: stop.detail.bytes - atEnd,
    state: ready.video.state,
    duration: ready.video.duration,
    lastChunkS: (stop.at - stopAt) / 1000,
    uploadedS: processing ? (processing.at - stopAt) / 1000 : null,
    convertS: processing ? (ready.at - processing.at) / 1000 : null,
    readyS: (ready.at - stopAt) / 1000,
  };
};
`;

const round2 = (n) => (n === null || n === undefined ? n : Math.round(n * 100) / 100);

async function main() {
  const pageServer = await servePage(await bundlePage(PAGE_ENTRY), 'recorder bench');
  const origin = pageServer.origin;
  const reference = await startReferenceServer({ env: { REELCHAT_ALLOWED_ORIGINS: origin } });
  const browser = await chromium.launch({
    executablePath: requireChromium(),
    headless: true,
    args: chromiumArgs,
  });
  const loadBefore = loadavg()[0];
  const results = [];
  try {
    for (const seconds of LENGTHS) {
      for (const format of FORMATS) {
        const conversation = `bench-${format}-${seconds}-${Date.now()}`;
        const query = new URLSearchParams({ user: 'bench', conversations: conversation });
        const { token } = await (await fetch(`${reference.url}/v1/dev/token?${query}`)).json();
        const context = await browser.newContext();
        const page = await context.newPage();
        page.on('pageerror', (error) => console.error(`page error: ${error}`));
        await page.goto(`${origin}/`);
        await page.waitForFunction(() => typeof window.benchRecord === 'function');
        const result = await page.evaluate((options) => window.benchRecord(options), {
          endpoint: reference.url,
          token,
          conversation,
          seconds,
          format,
        });
        await context.close();
        results.push(result);
        console.error(
          `${format} ${seconds} s: stop → ready ${result.readyS.toFixed(2)} s (${result.mimeType})`,
        );
      }
    }
  } finally {
    await browser.close();
    await reference.stop();
    pageServer.close();
  }

  const header = [
    'format',
    'length',
    'size',
    'bytes',
    'left at stop',
    'last chunk',
    'uploaded',
    'converted',
    'stop → ready',
    'duration',
  ];
  const rows = results.map((r) => [
    r.format,
    `${r.seconds} s`,
    `${r.width}x${r.height}`,
    String(r.bytes),
    String(r.leftAtStop),
    `${r.lastChunkS.toFixed(2)} s`,
    r.uploadedS === null ? '—' : `${r.uploadedS.toFixed(2)} s`,
    r.convertS === null ? '—' : `+${r.convertS.toFixed(2)} s`,
    `${r.readyS.toFixed(2)} s`,
    `${r.duration?.toFixed(2)} s`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(
    `(times from pressing stop; "uploaded" = the server's upload complete; load average ${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)})`,
  );

  const figure = (format, seconds) =>
    round2(results.find((r) => r.format === format && r.seconds === seconds)?.readyS);
  const summary = { bench: 'recorder', goalS: GOAL_S };
  for (const format of FORMATS) {
    for (const seconds of LENGTHS)
      summary[`${format}_${seconds}s_stopToReadyS`] = figure(format, seconds);
  }
  const picked = results.filter((r) => r.mimeType === r.defaultType);
  summary.default = picked[0]?.mimeType ?? results[0]?.defaultType;
  summary.met =
    picked.length === LENGTHS.length &&
    picked.every((r) => r.state === 'ready' && r.readyS <= GOAL_S);
  console.log(JSON.stringify(summary));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
