// Runs every benchmark in bench/ one after another (they share two cores: never in
// parallel), collects the JSON line each prints last, and prints one table of figures.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = readdirSync(here)
  .filter((name) => name.endsWith('.mjs') && name !== 'run-all.mjs')
  .sort();

const rows = [];
let failed = 0;
for (const script of scripts) {
  console.error(`\n▶ ${script}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, script)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  process.stderr.write(result.stdout ?? '');
  const line = (result.stdout ?? '')
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"bench"'));
  if (result.status !== 0 || !line) {
    failed++;
    rows.push([script, 'FAILED', `exit ${result.status ?? result.signal}`]);
    continue;
  }
  const { bench, ...figures } = JSON.parse(line);
  for (const [name, value] of Object.entries(figures))
    rows.push([bench, name, JSON.stringify(value)]);
}

const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 8));
console.log(`\n${'bench'.padEnd(widths[0])}  ${'figure'.padEnd(widths[1])}  value`);
for (const row of rows)
  console.log(`${row[0].padEnd(widths[0])}  ${row[1].padEnd(widths[1])}  ${row[2]}`);
process.exit(failed ? 1 : 0);
