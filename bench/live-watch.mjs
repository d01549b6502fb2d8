// Watching a take while it is recorded (issue 25), end to end: Alice records with
// `<reel-recorder live>` in Chromium (the realistic fake camera, bench/page.mjs), Bob watches
// in a `<reel-player>` on another page of the same browser, both against the reference server
// on loopback. Printed per take:
//   - Record → Bob sees the recording state: Alice's press of Record to Bob having her video
//     `live` — as his chat learns it: `message.created` (posted at Record), then the video
//     fetched (it is `live` from its upload's creation), or a `video.updated` saying `live`;
//   - Record → Bob's first frame;
//   - latency while watching, sampled each second once Bob plays: Bob's wall clock − the
//     moment Record was pressed − Bob's `currentTime` (p50, p95);
//   - stalls: `waiting` on Bob's video after his first frame (count, total seconds);
//   - Stop → ready: Alice's press of Stop to Bob's `video.updated` `ready`;
//   - whether Bob's reel reached its end (the live → ended transition).
// Goals (issue 25): recording state ≤ 1 s; latency p50 ≤ 2 s, p95 ≤ 3 s; Stop → ready ≤ 0.5 s.
// Run: node --import tsx bench/live-watch.mjs [--takes 30,60]
// Both pages use Date.now() (one machine, one clock) to relate Alice's presses to Bob's view.
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../scripts/chromium.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';
import { bundlePage, realisticCamera, servePage } from './page.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const TAKES = arg('takes', '30').split(',').map(Number);

const deadline = setTimeout(
  () => {
    console.error('bench/live-watch: gave up');
    process.exit(2);
  },
  (TAKES.reduce((sum, s) => sum + s + 90, 0) + 60) * 1000,
);
deadline.unref();

const PAGE_ENTRY = `
import './src/transport/index.ts';
import './src/recorder/index.ts';
import './src/player/index.ts';
import { HttpTransport } from './src/transport/http/http-transport.ts';
import { Outbox } from './src/outbox/outbox.ts';

import { until } from './bench/page-until.mjs';

// Alice: opens the camera, then Record, records \`seconds\`, Stop. Wall-clock times.
window.benchRecord = async ({ endpoint, token, conversation, seconds }) => {
  const el = document.createElement('reel-recorder');
  for (const [name, value] of Object.entries({ transport: 'http', endpoint, token, conversation,
    'max-duration': String(seconds + 30) })) el.setAttribute(name, value);
  el.toggleAttribute('no-confirm', true);
  el.toggleAttribute('autostart', true);
  el.toggleAttribute('live', true);
  el.outbox = new Outbox({ name: 'live-watch-' + conversation });
  const errors = [];
  el.addEventListener('reel-error', (e) => errors.push(String(e.detail.error)));
  let complete = false;
  el.addEventListener('reel-upload-complete', () => (complete = true));
  document.body.append(el);
  await until(() => el.state === 'previewing', 'the camera', 20000);
  window.benchReady = true;
  await until(() => window.benchGo, 'the viewer');
  const button = (part) => el.shadowRoot.querySelector('[part~="' + part + '"]');
  button('record-button').click();
  const recordAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  button('stop-button').click();
  const stopAt = Date.now();
  await until(() => complete || errors.length, 'the upload', 60000);
  return { recordAt, stopAt, errors };
};

// Bob: hears of Alice's message, plays her clip as soon as it is live, samples the latency.
window.benchWatch = async ({ endpoint, token, conversation, limitMs }) => {
  const transport = new HttpTransport({ endpoint, token });
  const seen = { messageAt: undefined, liveAt: undefined, readyAt: undefined };
  let video;
  let online = false;
  const known = (v) => {
    if (v.state === 'live') seen.liveAt ??= Date.now();
    if (v.state === 'ready') seen.readyAt ??= Date.now();
    if (v.state === 'live' || v.state === 'ready') video ??= v;
  };
  transport.subscribe(conversation, (event) => {
    if (event.type === 'connection') online = event.state === 'online';
    if (event.type === 'message.created' && event.message.video) {
      seen.messageAt ??= Date.now();
      transport.getVideo(conversation, event.message.video).then(known, () => undefined);
    }
    if (event.type === 'video.updated') known(event.video);
  });
  await until(() => online, 'the event stream');
  window.benchWatching = true;
  await until(() => video, 'the live video', limitMs);
  const el = document.createElement('reel-player');
  el.muted = true;
  el.autoplay = true;
  el.style.width = '640px';
  el.transport = transport;
  el.clips = [{ id: video.id, src: new URL(video.playlist, endpoint).href, owner: 'alice', ownerName: 'Alice' }];
  document.body.append(el);
  const active = () => el.shadowRoot?.querySelector('video[data-active]');
  let firstFrameAt, stalledAt;
  const stalls = [];
  const samples = [];
  await until(() => active(), 'the player');
  const v = active();
  v.requestVideoFrameCallback(() => (firstFrameAt ??= Date.now()));
  v.addEventListener('waiting', () => { if (firstFrameAt !== undefined) stalledAt ??= Date.now(); });
  v.addEventListener('playing', () => {
    if (stalledAt !== undefined) stalls.push(Date.now() - stalledAt);
    stalledAt = undefined;
  });
  const sampler = setInterval(() => {
    if (firstFrameAt !== undefined && !v.ended) samples.push({ at: Date.now(), t: v.currentTime });
  }, 1000);
  const ended = await Promise.race([
    new Promise((resolve) => el.addEventListener('reel-ended', () => resolve(true), { once: true })),
    new Promise((resolve) => setTimeout(() => resolve(false), limitMs)),
  ]);
  clearInterval(sampler);
  if (stalledAt !== undefined) stalls.push(Date.now() - stalledAt);
  el.remove();
  await transport.close();
  return { ...seen, firstFrameAt, samples, stalls, ended };
};
`;

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const s = (ms) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);

async function takeOnce(browser, page, server, seconds) {
  const conversation = `live-watch-${Date.now()}`;
  const token = async (user, name) => {
    const query = new URLSearchParams({ user, name, conversations: conversation });
    return (await (await fetch(`${server.url}/v1/dev/token?${query}`)).json()).token;
  };
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  try {
    const alice = await context.newPage();
    const bob = await context.newPage();
    await alice.goto(page.origin);
    await bob.goto(page.origin);
    const limitMs = (seconds + 60) * 1000;
    const watching = bob.evaluate((options) => window.benchWatch(options), {
      endpoint: server.url,
      token: await token('bob', 'Bob'),
      conversation,
      limitMs,
    });
    const recording = alice.evaluate((options) => window.benchRecord(options), {
      endpoint: server.url,
      token: await token('alice', 'Alice'),
      conversation,
      seconds,
    });
    await alice.waitForFunction(() => window.benchReady === true, undefined, { timeout: 30_000 });
    await bob.waitForFunction(() => window.benchWatching === true, undefined, { timeout: 30_000 });
    await alice.evaluate(() => (window.benchGo = true));
    const [recorded, watched] = await Promise.all([recording, watching]);
    const latencies = watched.samples.map((x) => x.at - recorded.recordAt - x.t * 1000);
    return {
      seconds,
      messageMs: watched.messageAt - recorded.recordAt,
      recordingStateMs: watched.liveAt - recorded.recordAt,
      firstFrameMs: watched.firstFrameAt - recorded.recordAt,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      samples: latencies.length,
      stalls: watched.stalls,
      stopToReadyMs: watched.readyAt - recorded.stopAt,
      ended: watched.ended,
      errors: recorded.errors,
      load: loadavg()[0],
    };
  } finally {
    await context.close();
  }
}

async function main() {
  const camera = await realisticCamera();
  const page = await servePage(await bundlePage(PAGE_ENTRY), 'live-watch bench');
  const server = await startReferenceServer({ env: { REELCHAT_ALLOWED_ORIGINS: page.origin } });
  const browser = await chromium.launch({
    executablePath: requireChromium(),
    headless: true,
    args: [...chromiumArgs, `--use-file-for-fake-video-capture=${camera}`],
  });
  const results = [];
  try {
    for (const seconds of TAKES) {
      const r = await takeOnce(browser, page, server, seconds);
      results.push(r);
      const stalled = r.stalls.reduce((sum, ms) => sum + ms, 0);
      console.log(
        `${seconds} s take: Record → message ${s(r.messageMs)}, → recording state (live) ${s(r.recordingStateMs)}, ` +
          `→ Bob's first frame ${s(r.firstFrameMs)}; latency p50 ${s(r.p50)}, p95 ${s(r.p95)} ` +
          `(${r.samples} samples); stalls ${r.stalls.length} (${s(stalled)}); ` +
          `Stop → ready ${s(r.stopToReadyMs)}; reached the end: ${r.ended}; load ${r.load.toFixed(2)}` +
          (r.errors.length ? `; recorder errors: ${r.errors.join('; ')}` : ''),
      );
    }
  } finally {
    await browser.close();
    await server.stop();
    page.close();
  }
  console.log(
    JSON.stringify({
      bench: 'live-watch',
      goals: { recordingStateS: 1, latencyP50S: 2, latencyP95S: 3, stopToReadyS: 0.5 },
      results,
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
