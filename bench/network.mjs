// Phone networks (issue 24), through the shaping proxy (scripts/shaping-proxy.mjs) between
// Chromium and the reference server:
// - recording: seconds from Stop to `ready` for a take recorded with a realistic camera, its
//   bytes going up at a phone's uplink, and what was recorded (short side, bitrate);
// - playback: a standalone <reel-player> playing a buddy's reel of realistic clips (1280×720,
//   2.5 Mbit/s, 6 s, as a phone's take) at a phone's downlink: play → first frame, stalls after
//   the first frame and the time stalled, the joins between clips.
// Run: node --import tsx bench/network.mjs [--takes 30,60] [--links 3000/50,1500/100,750/150,400/300]
//        [--recorders encoder,mediarecorder] [--downlinks 1600/150,4000/100] [--reel 5]
//        [--parts record,play]
//   a link is `<kbit/s>/<round trip ms>` (half the round trip each way; the other direction is
//   10 Mbit/s). Defaults are short (one 10 s take at 750/150, a reel of 3 at 1600/150) so
//   `npm run bench` stays quick. --recorders: `encoder` is what the recorder chooses in
//   Chromium (WebCodecs + mediabunny, fitting the uplink); `mediarecorder` hides
//   MediaStreamTrackProcessor from the page, so the recorder takes the MediaRecorder path it
//   takes in browsers without WebCodecs (the figures before issue 24's encoder path). Each take
//   is a fresh browser profile: no earlier take's uplink is stored.
//
// `ready` is seen by a second transport on the same page that talks to the server directly,
// not through the proxy, so the figure is the take's own wait, not the viewer's link. A take
// not ready within --give-up seconds of Stop is reported as "> N s".
import { chromium } from 'playwright-core';
import { loadavg } from 'node:os';
import { chromiumArgs, requireChromium } from '../scripts/chromium.mjs';
import { startReferenceServer } from '../scripts/reference-server.mjs';
import { startShapingProxy } from '../scripts/shaping-proxy.mjs';
import { bundlePage, realisticCamera, servePage } from './page.mjs';
import { analyse } from './player.mjs';
import { PLAY_ENTRY, uploadReel } from './network-reel.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const links = (specs) =>
  specs.split(',').map((spec) => {
    const [kbps, rttMs] = spec.split('/').map(Number);
    return { kbps, rttMs };
  });
const TAKES = arg('takes', '10').split(',').map(Number);
const LINKS = links(arg('links', '750/150'));
const DOWNLINKS = links(arg('downlinks', '1600/150'));
const REEL = Number(arg('reel', '3'));
const PARTS = arg('parts', 'record,play').split(',');
const RECORDERS = arg('recorders', 'encoder').split(',');
for (const recorder of RECORDERS) {
  if (!['encoder', 'mediarecorder'].includes(recorder)) {
    throw new Error(`--recorders: ${recorder} is neither encoder nor mediarecorder`);
  }
}
const GIVE_UP_S = Number(arg('give-up', '90'));
// The other direction of each link: not what is measured.
const OTHER_KBPS = 10_000;
const GOAL_S = 1;
const GOAL_FIRST_FRAME_S = 1.5;

const PAGE_ENTRY = `
import './src/transport/index.ts';
import './src/recorder/index.ts';
import './src/player/index.ts';
import { HttpTransport } from './src/transport/http/http-transport.ts';
import { Outbox } from './src/outbox/outbox.ts';

import { until } from './bench/page-until.mjs';

window.benchRecord = async ({ shaped, direct, token, conversation, seconds, giveUpS }) => {
  const watch = new HttpTransport({ endpoint: direct, token });
  const ready = new Map();
  let online = false;
  const unsubscribe = watch.subscribe(conversation, (event) => {
    if (event.type === 'connection') online = event.state === 'online';
    if (event.type === 'video.updated' && ['ready', 'failed'].includes(event.video.state))
      ready.set(event.video.id, { at: performance.now(), video: event.video });
  });
  await until(() => online, 'the event stream', 20000);

  const el = document.createElement('reel-recorder');
  for (const [name, value] of Object.entries({ transport: 'http', endpoint: shaped, token,
    conversation, 'max-duration': String(seconds + 30), 'no-confirm': '', autostart: '' }))
    el.setAttribute(name, value);
  el.outbox = new Outbox({ name: 'bench-' + conversation });
  const events = { start: [], stop: [], complete: [], error: [] };
  el.addEventListener('reel-record-start', (e) => events.start.push(performance.now()));
  el.addEventListener('reel-record-stop', (e) => events.stop.push(e.detail));
  el.addEventListener('reel-upload-complete', (e) => events.complete.push(e.detail));
  el.addEventListener('reel-error', (e) => events.error.push(String(e.detail.error)));
  document.body.append(el);
  await until(() => el.state === 'previewing' || el.state === 'error', 'the camera', 20000);
  if (el.state === 'error') throw new Error('the recorder failed: ' + events.error.join('; '));
  const button = (name) => el.shadowRoot.querySelector('[part~="' + name + '"]');
  // A person frames the shot first; the encoder module arrives meanwhile (a Record pressed
  // before it does is recorded by MediaRecorder).
  await new Promise((resolve) => setTimeout(resolve, 2000));
  button('record-button').click();
  await until(() => events.start.length, 'recording', 20000);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000 - (performance.now() - events.start[0])));
  const stopAt = performance.now();
  button('stop-button').click();
  try {
    await until(() => events.complete.length || events.error.length, 'the upload', giveUpS * 1000);
    if (events.error.length) throw new Error(events.error[0]);
    const id = events.complete[0].id;
    const done = await until(() => ready.get(id), 'ready', giveUpS * 1000 - (performance.now() - stopAt));
    return { readyS: (done.at - stopAt) / 1000, video: done.video, stop: events.stop[0] };
  } catch (error) {
    if (!String(error).includes('timed out')) throw error;
    return { readyS: undefined, stop: events.stop[0] };
  } finally {
    unsubscribe();
    await watch.close();
  }
};
`;

async function recordOnce(browser, page, server, proxy, seconds, recorder) {
  const conversation = `net-${seconds}-${Date.now()}`;
  const query = new URLSearchParams({ user: 'bench', conversations: conversation });
  const { token } = await (await fetch(`${server.url}/v1/dev/token?${query}`)).json();
  const context = await browser.newContext();
  if (recorder === 'mediarecorder') {
    // canEncode() then says no, as in a browser without the track reader.
    await context.addInitScript(() => delete window.MediaStreamTrackProcessor);
  }
  const tab = await context.newPage();
  tab.on('pageerror', (error) => console.error(`page error: ${error}`));
  await tab.goto(`${page.origin}/`);
  await tab.waitForFunction(() => typeof window.benchRecord === 'function');
  const before = proxy.stats().upBytes;
  const result = await tab.evaluate((options) => window.benchRecord(options), {
    shaped: proxy.url,
    direct: server.url,
    token,
    conversation,
    seconds,
    giveUpS: GIVE_UP_S,
  });
  await context.close();
  return { ...result, sentBytes: proxy.stats().upBytes - before, load: loadavg()[0] };
}

/** Records one take of each length at each uplink; returns the table's rows. */
async function recordAll(browser, page, server, summary) {
  const rows = [];
  for (const link of LINKS) {
    const proxy = await startShapingProxy(server.url, {
      up: { kbps: link.kbps, latencyMs: link.rttMs / 2 },
      down: { kbps: OTHER_KBPS, latencyMs: link.rttMs / 2 },
    });
    for (const seconds of TAKES) {
      for (const recorder of RECORDERS) {
        const r = await recordOnce(browser, page, server, proxy, seconds, recorder);
        const { width, height } = r.video ?? {};
        const kbps = r.stop ? Math.round((r.stop.bytes * 8) / seconds / 1000) : undefined;
        const key = `${recorder}_${seconds}s_up${link.kbps}`;
        summary[`${key}_stopToReadyS`] = r.readyS === undefined ? null : round2(r.readyS);
        summary[`${key}_shortSide`] = width && height ? Math.min(width, height) : null;
        rows.push([
          `up ${link.kbps} kbit/s, ${link.rttMs} ms`,
          `${seconds} s take, ${recorder}`,
          r.readyS === undefined ? `> ${GIVE_UP_S} s` : `${r.readyS.toFixed(2)} s`,
          width
            ? `${width}×${height} at ${kbps} kbit/s, ${(r.sentBytes / 1e6).toFixed(1)} MB`
            : '?',
          r.load.toFixed(2),
        ]);
        console.error(rows.at(-1).join('  '));
      }
    }
    await proxy.close();
  }
  return rows;
}

/** Plays a reel of REEL clips at each downlink; returns the table's rows. */
async function playAll(browser, page, server, summary) {
  const rows = [];
  const reel = await uploadReel(server.url, REEL);
  for (const link of DOWNLINKS) {
    const proxy = await startShapingProxy(server.url, {
      up: { kbps: OTHER_KBPS, latencyMs: link.rttMs / 2 },
      down: { kbps: link.kbps, latencyMs: link.rttMs / 2 },
    });
    const context = await browser.newContext();
    const tab = await context.newPage();
    await tab.goto(`${page.origin}/`);
    await tab.waitForFunction(() => typeof window.benchPlay === 'function');
    const r = await tab.evaluate((options) => window.benchPlay(options), {
      endpoint: proxy.url,
      token: reel.token,
      conversation: reel.conversation,
      limitMs: 120_000,
    });
    await context.close();
    await proxy.close();
    const { joins } = analyse(r, r.mode, r.durations);
    const stalledS = r.stalls.reduce((sum, ms) => sum + ms, 0) / 1000;
    const key = `reel_down${link.kbps}`;
    Object.assign(summary, {
      [`${key}_firstFrameS`]: round2(r.firstFrameMs / 1000),
      [`${key}_stalls`]: r.stalls.length,
      [`${key}_stalledS`]: round2(stalledS),
      [`${key}_joinMaxMs`]: joins.length ? Math.round(Math.max(...joins)) : null,
    });
    rows.push([
      `down ${link.kbps} kbit/s, ${link.rttMs} ms`,
      `reel of ${REEL}${r.ended ? '' : ' (did not end)'}`,
      `first frame ${(r.firstFrameMs / 1000).toFixed(2)} s`,
      `${r.stalls.length} stalls, ${stalledS.toFixed(1)} s; joins ${joins.map(Math.round).join('/')} ms`,
      loadavg()[0].toFixed(2),
    ]);
    console.error(rows.at(-1).join('  '));
  }
  return rows;
}

async function main() {
  const camera = await realisticCamera();
  const page = await servePage(await bundlePage(PAGE_ENTRY + PLAY_ENTRY), 'network bench');
  const server = await startReferenceServer({ env: { REELCHAT_ALLOWED_ORIGINS: page.origin } });
  const browser = await chromium.launch({
    executablePath: requireChromium(),
    headless: true,
    args: [...chromiumArgs, `--use-file-for-fake-video-capture=${camera}`],
  });
  const summary = {
    bench: 'network',
    goalStopToReadyS: GOAL_S,
    goalFirstFrameS: GOAL_FIRST_FRAME_S,
  };
  const rows = [];
  try {
    if (PARTS.includes('record')) rows.push(...(await recordAll(browser, page, server, summary)));
    if (PARTS.includes('play')) rows.push(...(await playAll(browser, page, server, summary)));
  } finally {
    await browser.close();
    await server.stop();
    page.close();
  }
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i])).join('  '));
  console.log(
    `(Chromium, camera ${camera.split('/').pop()}; the other direction ${OTHER_KBPS} kbit/s; last column: load)`,
  );
  console.log(JSON.stringify(summary));
}

const round2 = (n) => Math.round(n * 100) / 100;

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
