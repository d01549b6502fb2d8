import { createConnection, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { defaultReporter } from '@web/test-runner';
import { resultsReporter } from './scripts/browser-tests.mjs';
import { testBrowsers } from './scripts/browsers.mjs';
import { makeFixtures } from './scripts/fixtures.mjs';
import { startFaultProxy } from './scripts/fault-proxy.mjs';
import { startReferenceServer } from './scripts/reference-server.mjs';
import { livePlaylistMiddleware } from './scripts/live-playlist.mjs';

// Real media for the tests: clips made by ffmpeg, served by the test runner from test-fixtures/.
await makeFixtures();

/**
 * The real reference server beside the test page, on another loopback port: the http
 * transport's tests talk to it cross-origin, as a site's pages would. Tests read its URL
 * from /__reelchat/server.json, which starts it. `?env=<JSON of REELCHAT_* settings>` gives
 * a server of its own with those settings (e.g. low rate limits), one per distinct set.
 */
function referenceServerPlugin() {
  let origin;
  let server; // started on first use, so suites that don't need it don't wait for it
  const configured = new Map();
  const proxies = new Map();
  const faultProxies = new Map();
  const started = () =>
    (server ??= startReferenceServer({ env: { REELCHAT_ALLOWED_ORIGINS: origin } }));
  const startedWith = (raw) => {
    const settings = JSON.parse(raw);
    const names = Object.keys(settings).sort();
    if (names.some((name) => !/^REELCHAT_[A-Z0-9_]+$/.test(name)))
      throw new Error(`Only REELCHAT_* settings: ${raw}`);
    const key = JSON.stringify(names.map((name) => [name, String(settings[name])]));
    if (!configured.has(key))
      configured.set(
        key,
        startReferenceServer({
          env: { ...Object.fromEntries(JSON.parse(key)), REELCHAT_ALLOWED_ORIGINS: origin },
        }),
      );
    return configured.get(key);
  };
  return {
    name: 'reelchat-reference-server',
    serverStart({ config }) {
      origin = `http://${config.hostname ?? 'localhost'}:${config.port}`;
    },
    async serverStop() {
      for (const proxy of proxies.values()) (await proxy).close();
      for (const proxy of faultProxies.values()) (await proxy).close();
      await (await server)?.stop();
      for (const other of configured.values()) await (await other).stop();
    },
    async serve(context) {
      if (context.path === '/__reelchat/server.json') {
        const { env } = context.query;
        const { url } = await (env ? startedWith(env) : started());
        // Scaled mode (REELCHAT_TEST_SCALED=1) differs where docs/protocol.md says it does.
        const scaled = process.env.REELCHAT_TEST_SCALED === '1';
        return { body: JSON.stringify({ url, scaled }), type: 'application/json' };
      }
      // A network that a test can cut: `?id=<name>` picks (and on first use starts) a
      // proxy in front of the server; `&state=down|up` switches it. Answers `{url, state}`.
      if (context.path === '/__reelchat/proxy') {
        const id = context.query.id || 'default';
        if (!proxies.has(id))
          proxies.set(
            id,
            started().then(({ url }) => startProxy(url)),
          );
        const proxy = await proxies.get(id);
        const state = context.query.state;
        if (state === 'down' || state === 'up') proxy.set(state);
        return {
          body: JSON.stringify({ url: proxy.url, state: proxy.state }),
          type: 'application/json',
        };
      }
      // An HTTP proxy that answers like a front proxy on a bad day (scripts/fault-proxy.mjs):
      // `?id=<name>` picks (and starts) one; `&status=408&method=PATCH&path=/v1/uploads/`
      // adds a rule: `mode=refuse|cut|lose` (default refuse), `after=<bytes>` for cut,
      // optional `code`, `retryAfter=<s>`, `times=<n>` (default 1); `&clear=1` drops its
      // rules and log. Answers `{url, log}`.
      if (context.path === '/__reelchat/faults') {
        const q = context.query;
        const id = q.id || 'default';
        if (!faultProxies.has(id))
          faultProxies.set(
            id,
            started().then(({ url }) => startFaultProxy(url)),
          );
        const proxy = await faultProxies.get(id);
        if (q.clear) proxy.clear();
        if (q.status) {
          proxy.add({
            method: q.method || 'GET',
            path: q.path || '/',
            status: Number(q.status),
            code: q.code || undefined,
            mode: q.mode || 'refuse',
            after: q.after === undefined ? undefined : Number(q.after),
            retryAfter: q.retryAfter === undefined ? undefined : Number(q.retryAfter),
            times: q.times === undefined ? 1 : Number(q.times),
          });
        }
        return {
          body: JSON.stringify({ url: proxy.url, log: proxy.log }),
          type: 'application/json',
        };
      }
      return undefined;
    },
  };
}

/**
 * A loopback TCP proxy to `target`. Down: every open connection is destroyed and new
 * ones are closed as soon as they are accepted, as when the network goes away.
 */
async function startProxy(target) {
  const upstream = new URL(target);
  const sockets = new Set();
  let state = 'up';
  const track = (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    if (state === 'down') {
      client.destroy();
      return;
    }
    const remote = createConnection({ host: upstream.hostname, port: Number(upstream.port) });
    track(client);
    track(remote);
    client.on('error', () => remote.destroy());
    remote.on('error', () => client.destroy());
    client.on('close', () => remote.destroy());
    remote.on('close', () => client.destroy());
    client.pipe(remote);
    remote.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    get state() {
      return state;
    },
    set(next) {
      state = next;
      if (next === 'down') for (const socket of sockets) socket.destroy();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/**
 * Serves a package bundled into one ES module: tus-js-client still imports CommonJS
 * (url-parse), which the dev server cannot hand to the browser as it is; mediabunny maps its
 * Node parts to nothing through package.json's `browser` field, which the dev server serves
 * as a module it does not have.
 */
function prebundlePlugin(name) {
  const path = `/__prebundled/${name}.js`;
  let bundle;
  return {
    name: `prebundle-${name}`,
    resolveImport({ source }) {
      if (source === name) return path;
    },
    async serve(context) {
      if (context.path !== path) return undefined;
      bundle ??= build({
        stdin: { contents: `export * from '${name}';`, resolveDir: process.cwd() },
        bundle: true,
        format: 'esm',
        platform: 'browser',
        write: false,
        logLevel: 'silent',
      }).then((result) => result.outputFiles[0].text);
      return { body: await bundle, type: 'js' };
    },
  };
}

export default {
  files: ['src/**/*.test.ts'],
  nodeResolve: { browser: true, exportConditions: ['browser', 'production'] },
  concurrency: 1,
  testsFinishTimeout: 300_000,
  testFramework: { config: { timeout: 30_000 } },
  // resultsReporter: what scripts/browser-tests.mjs reads to tell a hung browser from a failure.
  reporters: [defaultReporter(), resultsReporter()],
  // A take still recorded, for the player's live tests (scripts/live-playlist.mjs).
  middleware: [livePlaylistMiddleware()],
  plugins: [
    referenceServerPlugin(),
    prebundlePlugin('tus-js-client'),
    prebundlePlugin('mediabunny'),
    esbuildPlugin({
      ts: true,
      tsconfig: fileURLToPath(new URL('./tsconfig.json', import.meta.url)),
    }),
  ],
  // Every file runs in Chromium; these in Firefox and WebKit too (scripts/browsers.mjs says
  // how, and how REELCHAT_ENGINES and --files change that). One browser at a time.
  concurrentBrowsers: 1,
  ...testBrowsers({
    everyEngine: [
      'src/player/reel-player.test.ts',
      'src/player/stitcher.test.ts',
      'src/recorder/reel-recorder.test.ts',
      'src/recorder/reel-recorder.failures.test.ts',
      // The slow-uplink notice and time left: how fast each engine reports upload progress.
      'src/recorder/reel-recorder.uplink.test.ts',
      // A clip still recorded: the live→ended transition is each engine's (hls.js or native).
      'src/player/reel-player.live.test.ts',
      'src/recorder/reel-recorder.layout.test.ts',
    ],
  }),
};
