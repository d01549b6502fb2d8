// Benchmark for the lazy parts of <reel-chat> (issue 13): does loading the recorder and the
// player on demand make opening them slower? Two figures, each cold (a fresh browser
// context per run: empty cache, nothing loaded yet), median of --runs (default 5):
//   - record button pressed → the camera preview's first frame (in <reel-recorder>);
//   - play pressed on a video message → the clip's first video frame (in <reel-player>).
// Each is measured twice: `lazy` (the page imports `reelchat`, the recorder and the player
// load when first wanted) and `eager` (the same page also imports reelchat/recorder and
// reelchat/player up front, as every page did before). --latency <ms> delays every file the
// page server sends (default 0: loopback; try 50 for a far CDN), which is what an on-demand
// chunk costs.
// Run: node --import tsx bench/lazy.mjs [--runs 5] [--latency 0]
//
// The page uses the memory transport (no server): Bob's clip is a real WebM from
// test-fixtures/ that plays as a file, so the player's first frame is the element's and the
// browser's work, not the network's. Chromium's fake camera gives the preview.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs, requireChromium } from '../scripts/chromium.mjs';
import { fixturesDir, makeFixtures } from '../scripts/fixtures.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const RUNS = arg('runs', 5);
const LATENCY_MS = arg('latency', 0);

const deadline = setTimeout(() => {
  console.error('bench/lazy: gave up after 5 minutes');
  process.exit(2);
}, 300_000);
deadline.unref();

/** The page's script; `eager` also imports the recorder and player entries up front. */
const pageEntry = (eager) => `
import './src/index.ts';
${eager ? "import './src/recorder/index.ts';\nimport './src/player/index.ts';" : ''}
import { MemoryTransport } from './src/transport/memory-transport.ts';

const until = (test, what, ms = 20000) => new Promise((resolve, reject) => {
  const started = performance.now();
  const poll = () => {
    const value = test();
    if (value) return resolve(value);
    if (performance.now() - started > ms) return reject(new Error('timed out waiting for ' + what));
    requestAnimationFrame(poll);
  };
  poll();
});
const $ = (el, selector) => el?.shadowRoot?.querySelector(selector);
/** A <video> that shows a frame: decoded data at its position and a size. */
const showing = (video) => video && video.readyState >= 2 && video.videoWidth > 0;

window.bench = async ({ what }) => {
  const room = 'bench-' + Math.random().toString(36).slice(2);
  const chat = document.createElement('reel-chat');
  Object.assign(chat.style, { height: '480px', width: '400px', display: 'block' });
  for (const [name, value] of Object.entries({ transport: 'memory', room, conversation: 'c1', user: 'alice', buddy: 'bob' }))
    chat.setAttribute(name, value);
  document.body.append(chat);
  await until(() => chat.getAttribute('connection') === 'online' && !$(chat, '[part~="record-button"]')?.disabled, 'the chat');
  if (what === 'camera') {
    const pressed = performance.now();
    $(chat, '[part~="record-button"]').click();
    await until(() => showing($($(chat, 'reel-recorder'), '[part~="preview"]')), 'the camera preview');
    return { ms: performance.now() - pressed, loaded: !!customElements.get('reel-player') };
  }
  const bob = new MemoryTransport({ room, user: 'bob', processingDelay: 0 });
  const clip = await (await fetch('sample.webm')).blob();
  const clientId = 'bench-' + Math.random().toString(36).slice(2);
  const video = await bob.upload('c1', clip, { clientId, type: 'video/webm', duration: 2 });
  await bob.sendMessage('c1', { clientId, video: video.id });
  await until(() => $(chat, '[part~="play-button"]'), 'the play button');
  const pressed = performance.now();
  $(chat, '[part~="play-button"]').click();
  await until(() => [...($(chat, 'reel-player')?.shadowRoot?.querySelectorAll('video') ?? [])].some((v) => showing(v) && v.currentTime > 0), 'the first frame').catch((error) => {
    const player = $(chat, 'reel-player');
    const videos = [...(player?.shadowRoot?.querySelectorAll('video') ?? [])];
    throw new Error(error.message + ': player ' + (player ? (customElements.get('reel-player') ? 'defined' : 'not defined') : 'absent') + ', videos ' + JSON.stringify(videos.map((v) => [v.readyState, v.videoWidth, v.currentTime, v.paused, v.error?.message, v.src.slice(0, 30)])) + ' ' + $(chat, '[part~="video"]')?.outerHTML.slice(0, 300));
  });
  return { ms: performance.now() - pressed, loaded: !!customElements.get('reel-recorder') };
};
`;

async function bundle(eager) {
  const result = await build({
    stdin: { contents: pageEntry(eager), resolveDir: root, loader: 'js' },
    bundle: true,
    splitting: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    outdir: '/bench',
    entryNames: 'page',
    tsconfig: join(root, 'tsconfig.json'),
    conditions: ['browser', 'production'],
    // package.json's "sideEffects" names dist/ files only; the sources' element definitions count.
    ignoreAnnotations: true,
    write: false,
    logLevel: 'error',
  });
  return new Map(result.outputFiles.map((file) => [file.path.replace(/^\/bench/, ''), file.text]));
}

function servePages(variants) {
  const sample = readFileSync(join(fixturesDir, 'video', 'sample.webm'));
  const server = createServer((req, res) => {
    const [, variant, ...rest] = (req.url ?? '/').split('/');
    const path = `/${rest.join('/')}`;
    const files = variants[variant];
    const send = () => {
      if (path === '/sample.webm')
        return res.writeHead(200, { 'Content-Type': 'video/webm' }).end(sample);
      if (path === '/')
        return res
          .writeHead(200, { 'Content-Type': 'text/html' })
          .end(
            '<!doctype html><meta charset="utf-8"><body><script type="module" src="page.js"></script>',
          );
      const script = files?.get(path);
      if (script) return res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
      res.writeHead(404).end();
    };
    setTimeout(send, LATENCY_MS);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function main() {
  await makeFixtures();
  const variants = { lazy: await bundle(false), eager: await bundle(true) };
  const server = await servePages(variants);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: requireChromium(),
    headless: true,
    args: chromiumArgs,
  });
  const results = {};
  try {
    const once = async (what, variant) => {
      // Cold: a fresh context has an empty cache and has loaded nothing.
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error(`page error: ${error}`));
      await page.goto(`${origin}/${variant}/`);
      await page.waitForFunction(() => typeof window.bench === 'function');
      const { ms, loaded } = await page.evaluate((options) => window.bench(options), { what });
      await context.close();
      if (variant === 'lazy' && loaded)
        throw new Error(`the lazy page loaded the other part too (${what})`);
      return ms;
    };
    for (const what of ['camera', 'play']) {
      // Not counted: the browser's first camera (its capture service) and first decoder.
      await once(what, 'eager');
      const times = { lazy: [], eager: [] };
      for (let run = 0; run < RUNS; run++) {
        // Alternating, so neither variant gains from going second.
        const order = run % 2 ? ['eager', 'lazy'] : ['lazy', 'eager'];
        for (const variant of order) times[variant].push(await once(what, variant));
      }
      for (const variant of ['lazy', 'eager']) {
        results[`${what}_${variant}`] = { median: median(times[variant]), runs: times[variant] };
        console.error(
          `${what} ${variant}: ${times[variant].map((t) => t.toFixed(0)).join(', ')} ms`,
        );
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`latency per file ${LATENCY_MS} ms, ${RUNS} cold runs each, median:`);
  console.log('what                                   lazy       eager      difference');
  for (const [what, label] of [
    ['camera', 'record pressed → camera preview frame'],
    ['play', 'play pressed → first video frame'],
  ]) {
    const lazy = results[`${what}_lazy`].median;
    const eager = results[`${what}_eager`].median;
    console.log(
      `${label.padEnd(38)} ${`${lazy.toFixed(0)} ms`.padEnd(10)} ${`${eager.toFixed(0)} ms`.padEnd(10)} ${(lazy - eager >= 0 ? '+' : '') + (lazy - eager).toFixed(0)} ms`,
    );
  }
  const round = (n) => Math.round(n);
  console.log(
    JSON.stringify({
      bench: 'lazy',
      latencyMs: LATENCY_MS,
      cameraPreviewLazyMs: round(results.camera_lazy.median),
      cameraPreviewEagerMs: round(results.camera_eager.median),
      firstFrameLazyMs: round(results.play_lazy.median),
      firstFrameEagerMs: round(results.play_eager.median),
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
