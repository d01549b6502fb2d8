// The size budget: each entry point as a bundler sees it (esbuild, minified, code split),
// counting only what loads up front — the entry and the chunks it imports statically, each
// gzipped; dynamic imports (the recorder and player <reel-chat> loads when opened, their
// cores — the recorder's take lifecycle, the player's engines and sequencing —, the
// transports, hls.js, tus-js-client) are left out. Two checks, from size-budget.json:
// - `limits`: absolute ceilings in bytes (issue 13: `reelchat` ≤ 25 KB, `reelchat/recorder`
//   and `reelchat/player` ≤ 12 KB each), never raised by `--update`; `goals` are ceilings not
//   reached yet, printed with how far off they are, not enforced;
// - `budget`: every entry's last accepted size, +5 %, so a regression shows in review.
// `--update` writes the current sizes as the new `budget`.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const entries = {
  reelchat: 'src/index.ts',
  chat: 'src/chat/index.ts',
  recorder: 'src/recorder/index.ts',
  player: 'src/player/index.ts',
  transport: 'src/transport/index.ts',
  outbox: 'src/outbox/index.ts',
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
    // The entry's own output (a dynamic import's chunk is an entry point to esbuild too).
    const entryPath = Object.keys(outputs).find((path) => outputs[path].entryPoint === entry);
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
  const file = JSON.parse(readFileSync(budgetFile, 'utf8'));
  const limits = file.limits ?? {};
  const goals = file.goals ?? {};
  if (process.argv.includes('--update')) {
    writeFileSync(budgetFile, `${JSON.stringify({ limits, goals, budget: sizes }, null, 2)}\n`);
    console.log('size budget updated', sizes);
    process.exit(0);
  }
  const budget = file.budget ?? {};
  const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
  let overBudget = 0;
  let overLimit = 0;
  for (const [name, bytes] of Object.entries(sizes)) {
    const allowed = Math.round((budget[name] ?? 0) * (1 + TOLERANCE));
    const limit = limits[name];
    const verdicts = [];
    if (limit !== undefined && bytes > limit) {
      overLimit++;
      verdicts.push(`OVER THE LIMIT of ${kb(limit)}`);
    }
    if (goals[name] !== undefined && bytes > goals[name]) {
      verdicts.push(`goal ${kb(goals[name])} not reached yet`);
    }
    if (bytes > allowed) {
      overBudget++;
      verdicts.push('over the budget');
    }
    console.log(
      `${name.padEnd(10)} ${kb(bytes).padStart(8)} gzip up front  (${limit === undefined ? '' : `limit ${kb(limit)}, `}budget ${kb(budget[name] ?? 0)} +5%)  ${verdicts.join(', ') || 'ok'}`,
    );
  }
  if (overLimit) {
    console.error(
      'Over an absolute limit (size-budget.json "limits"): make more of it load on demand.',
    );
  }
  if (overBudget) {
    console.error(
      'Over the size budget: shrink it, or run `node scripts/check-size.mjs --update` with a reason in the commit.',
    );
  }
  if (overLimit || overBudget) process.exit(1);
}
