import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { readFileSync, realpathSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import esbuild from 'rollup-plugin-esbuild';

const entries = {
  index: 'src/index.ts',
  chat: 'src/chat/index.ts',
  recorder: 'src/recorder/index.ts',
  player: 'src/player/index.ts',
  transport: 'src/transport/index.ts',
  outbox: 'src/outbox/index.ts',
};

/**
 * Honours a package's `browser` field where it maps one of its own files to `false` (an
 * empty module). mediabunny keeps its Node-only part (`node:fs/promises`, for file paths) in
 * such a file and expects the bundler to drop it; plugin-node-resolve 16 did not for the
 * import from deep inside the package (target.js, source.js) and left
 * `import 'node:fs/promises'` in the encoder chunk, which a browser refuses to load.
 */
const isNodeBuiltin = (id) => id.startsWith('node:') || builtinModules.includes(id);

function browserFalseFiles(packageName) {
  // Its own package.json is not among its exports, so read it from where npm put it.
  const root = realpathSync(
    fileURLToPath(new URL(`node_modules/${packageName}/`, import.meta.url)),
  );
  const manifest = join(root, 'package.json');
  const { browser } = JSON.parse(readFileSync(manifest, 'utf8'));
  if (typeof browser !== 'object' || browser === null) {
    throw new Error(`${packageName} has no browser map to honour; review rollup.config.mjs`);
  }
  const dropped = new Set(
    Object.entries(browser)
      .filter(([file, to]) => to === false && file.startsWith('./'))
      .map(([file]) => join(root, file)),
  );
  const EMPTY = '\0browser-false-file';
  return {
    name: 'browser-false-files',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.')) return null;
      return dropped.has(resolve(dirname(importer), source)) ? EMPTY : null;
    },
    load: (id) => (id === EMPTY ? 'export {};' : null),
    // The build is for browsers: a Node built-in left in any chunk fails it here, not in a page.
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        const nodeImports = chunk.type === 'chunk' ? chunk.imports.filter(isNodeBuiltin) : [];
        if (nodeImports.length > 0) {
          this.error(`${chunk.fileName} imports ${nodeImports.join(', ')}, which no browser has`);
        }
      }
    },
  };
}

const typescript = () => esbuild({ target: 'es2022', tsconfig: 'tsconfig.build.json' });

export default [
  // npm: one module per entry point, dependencies left to the site's bundler.
  {
    input: entries,
    output: {
      dir: 'dist',
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: 'chunks/[name]-[hash].js',
      sourcemap: true,
    },
    external: (id) => /^(lit|@lit|hls\.js|nanoid|idb-keyval|tus-js-client)(\/|$)/.test(id),
    plugins: [browserFalseFiles('mediabunny'), nodeResolve({ browser: true }), typescript()],
  },
  // CDN: one file for a plain <script type="module">; hls.js and tus-js-client stay
  // separate chunks beside it, fetched only when a player or an upload needs them.
  {
    input: { reelchat: 'src/index.ts' },
    output: {
      dir: 'dist/cdn',
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: '[name]-[hash].js',
      manualChunks(id) {
        if (id.includes('/node_modules/hls.js/')) return 'hls';
        if (id.includes('/node_modules/tus-js-client/')) return 'tus';
      },
      sourcemap: true,
    },
    plugins: [
      browserFalseFiles('mediabunny'),
      nodeResolve({ browser: true, exportConditions: ['browser', 'production'] }),
      commonjs(),
      typescript(),
      terser(),
    ],
  },
];
