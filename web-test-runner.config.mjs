import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { chromiumArgs, requireChromium } from './scripts/chromium.mjs';
import { makeFixtures } from './scripts/fixtures.mjs';
import { startReferenceServer } from './scripts/reference-server.mjs';

// Real media for the tests: clips made by ffmpeg, served by the test runner from test-fixtures/.
await makeFixtures();

/**
 * The real reference server beside the test page, on another loopback port: the http
 * transport's tests talk to it cross-origin, as a site's pages would. Tests read its URL
 * from /__reelchat/server.json, which starts it.
 */
function referenceServerPlugin() {
  let origin;
  let server; // started on first use, so suites that don't need it don't wait for it
  return {
    name: 'reelchat-reference-server',
    serverStart({ config }) {
      origin = `http://${config.hostname ?? 'localhost'}:${config.port}`;
    },
    async serverStop() {
      await (await server)?.stop();
    },
    async serve(context) {
      if (context.path !== '/__reelchat/server.json') return undefined;
      server ??= startReferenceServer({ env: { REELCHAT_ALLOWED_ORIGINS: origin } });
      return { body: JSON.stringify({ url: (await server).url }), type: 'application/json' };
    },
  };
}

/**
 * Serves a package bundled into one ES module: tus-js-client still imports CommonJS
 * (url-parse), which the dev server cannot hand to the browser as it is.
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
  plugins: [
    referenceServerPlugin(),
    prebundlePlugin('tus-js-client'),
    esbuildPlugin({
      ts: true,
      tsconfig: fileURLToPath(new URL('./tsconfig.json', import.meta.url)),
    }),
  ],
  browsers: [
    chromeLauncher({
      launchOptions: { executablePath: requireChromium(), headless: true, args: chromiumArgs },
    }),
  ],
};
