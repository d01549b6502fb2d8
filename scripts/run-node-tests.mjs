// Runs Node's built-in test runner over every *.test.ts below the given folders (or the given files).
// Node 20's --test does not expand globs or pick up .ts files by itself, so we list them.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

// Folders are searched; a *.test.ts named directly is taken as it is.
const folders = process.argv.slice(2);
const files = folders
  .flatMap((path) => (path.endsWith('.test.ts') ? [path] : findTests(path)))
  .sort();
if (files.length === 0) {
  console.error(`No *.test.ts files under ${folders.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
