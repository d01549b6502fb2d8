import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';

const entries = {
  index: 'src/index.ts',
  chat: 'src/chat/index.ts',
  recorder: 'src/recorder/index.ts',
  player: 'src/player/index.ts',
  transport: 'src/transport/index.ts',
  outbox: 'src/outbox/index.ts',
};

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
    plugins: [nodeResolve({ browser: true }), typescript()],
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
      nodeResolve({ browser: true, exportConditions: ['browser', 'production'] }),
      commonjs(),
      typescript(),
      terser(),
    ],
  },
];
