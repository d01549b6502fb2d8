// Phone networks (issue 24): seconds from Stop to `ready` for a take recorded in Chromium with
// a realistic camera, its bytes going to the reference server through the shaping proxy
// (scripts/shaping-proxy.mjs) at a phone's uplink, and what was recorded (short side, bitrate).
// Run: node --import tsx bench/network.mjs [--takes 30,60] [--links 3000/50,1500/100,750/150,400/300]
//   a link is `<uplink kbit/s>/<round trip ms>` (half the round trip each way; the downlink is
//   10 Mbit/s). Defaults are short (one 10 s take at 750/150) so `npm run bench` stays quick.
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

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const TAKES = arg('takes', '10').split(',').map(Number);
const LINKS = arg('links', '750/150')
  .split(',')
  .map((spec) => {
    const [kbps, rttMs] = spec.split('/').map(Number);
    return { kbps, rttMs };
  });
const GIVE_UP_S = Number(arg('give-up', '90'));
const DOWNLINK_KBPS = 10_000;
const GOAL_S = 1;

const PAGE_ENTRY = `
import './src/transport/index.ts';
import './src/recorder/index.ts';
import { HttpTransport } from './src/transport/http/http-transport.ts';
import { Outbox } from './src/outbox/outbox.ts';

const until = (test, what, ms) => new Promise((resolve, reject) => {
  const started = performance.now();
  const poll = () => {
    const value = test();
    if (value) return resolve(value);
    if (performance.now() - started > ms) return reject(new Error('timed out waiting for ' + what));
    setTimeout(poll, 10);
  };
  poll();
});

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

async function recordOnce(browser, page, server, proxy, seconds) {
  const conversation = `net-${seconds}-${Date.now()}`;
  const query = new URLSearchParams({ user: 'bench', conversations: conversation });
  const { token } = await (await fetch(`${server.url}/v1/dev/token?${query}`)).json();
  const context = await browser.newContext();
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

async function main() {
  const camera = await realisticCamera();
  const page = await servePage(await bundlePage(PAGE_ENTRY), 'network bench');
  const server = await startReferenceServer({ env: { REELCHAT_ALLOWED_ORIGINS: page.origin } });
  const browser = await chromium.launch({
    executablePath: requireChromium(),
    headless: true,
    args: [...chromiumArgs, `--use-file-for-fake-video-capture=${camera}`],
  });
  const rows = [];
  const summary = { bench: 'network', goalS: GOAL_S };
  try {
    for (const link of LINKS) {
      const half = link.rttMs / 2;
      const proxy = await startShapingProxy(server.url, {
        up: { kbps: link.kbps, latencyMs: half },
        down: { kbps: DOWNLINK_KBPS, latencyMs: half },
      });
      for (const seconds of TAKES) {
        const r = await recordOnce(browser, page, server, proxy, seconds);
        const { width, height } = r.video ?? {};
        const shortSide = width && height ? Math.min(width, height) : undefined;
        const kbps = r.stop ? Math.round((r.stop.bytes * 8) / seconds / 1000) : undefined;
        const key = `${seconds}s_${link.kbps}kbps`;
        summary[`${key}_stopToReadyS`] = r.readyS === undefined ? null : round2(r.readyS);
        summary[`${key}_shortSide`] = shortSide ?? null;
        rows.push([
          `${link.kbps} kbit/s, ${link.rttMs} ms`,
          `${seconds} s`,
          r.readyS === undefined ? `> ${GIVE_UP_S} s` : `${r.readyS.toFixed(2)} s`,
          shortSide ? `${width}×${height}` : '?',
          kbps ? `${kbps} kbit/s` : '?',
          `${(r.sentBytes / 1e6).toFixed(1)} MB`,
          r.load.toFixed(2),
        ]);
        console.error(rows.at(-1).join('  '));
      }
      await proxy.close();
    }
  } finally {
    await browser.close();
    await server.stop();
    page.close();
  }
  const header = [
    'uplink, round trip',
    'take',
    'stop → ready',
    'recorded',
    'bitrate',
    'sent',
    'load',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(`(Chromium, camera ${camera.split('/').pop()}; downlink ${DOWNLINK_KBPS} kbit/s)`);
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
