// The size budget: each entry point, bundled and minified with its dependencies but
// without the lazily loaded hls.js and tus-js-client, gzipped, against size-budget.json.
// `--update` writes the current sizes as the new budget.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const entries = {
  reelchat: 'src/index.ts',
  chat: 'src/chat/index.ts',
  recorder: 'src/recorder/index.ts',
  player: 'src/player/index.ts',
  transport: 'src/transport/index.ts',
};
const TOLERANCE = 0.05;
const budgetFile = new URL('../size-budget.json', import.meta.url);

export async function measure() {
  const sizes = {};
  for (const [name, entry] of Object.entries(entries)) {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      format: 'esm',
      write: false,
      splitting: true,
      metafile: true,
      outdir: 'out',
      conditions: ['browser', 'production'],
      tsconfig: 'tsconfig.build.json',
      external: ['hls.js', 'hls.js/*', 'tus-js-client'],
      logLevel: 'silent',
    });
    // What loads up front: the entry and the chunks it imports statically, not the
    // dynamic ones (loaded when a feature is used).
    const outputs = result.metafile.outputs;
    const entryPath = Object.keys(outputs).find((path) => outputs[path].entryPoint);
    const upFront = new Set();
    const visit = (path) => {
      if (upFront.has(path)) return;
      upFront.add(path);
      for (const dep of outputs[path].imports)
        if (dep.kind === 'import-statement' && !dep.external) visit(dep.path);
    };
    visit(entryPath);
    const bytes = result.outputFiles
      .filter((file) => [...upFront].some((path) => file.path.endsWith(path.replace(/^out/, ''))))
      .reduce((sum, file) => sum + gzipSync(file.contents, { level: 9 }).length, 0);
    sizes[name] = bytes;
  }
  return sizes;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const sizes = await measure();
  if (process.argv.includes('--update')) {
    writeFileSync(budgetFile, `${JSON.stringify(sizes, null, 2)}\n`);
    console.log('size budget updated', sizes);
    process.exit(0);
  }
  const budget = JSON.parse(readFileSync(budgetFile, 'utf8'));
  let over = 0;
  for (const [name, bytes] of Object.entries(sizes)) {
    const limit = Math.round((budget[name] ?? 0) * (1 + TOLERANCE));
    const verdict = bytes <= limit ? 'ok' : 'OVER';
    if (verdict === 'OVER') over++;
    console.log(
      `${name.padEnd(10)} ${(bytes / 1024).toFixed(1).padStart(6)} KiB gzip  (budget ${(budget[name] / 1024).toFixed(1)} KiB +5%)  ${verdict}`,
    );
  }
  if (over) {
    console.error(
      'Over the size budget: shrink it, or run `node scripts/check-size.mjs --update` with a reason in the commit.',
    );
    process.exit(1);
  }
}
