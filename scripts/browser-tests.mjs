// `npm run test:browser`: wtr, and once more for the files whose browser hung.
//
// WebKitGTK's web process has been seen to hang on a media test page on a loaded CI machine
// (no test failed: the page stopped answering, and the file "did not finish"). Such a file
// says nothing about the code, so it runs once more in a fresh browser of that engine. Only
// that: a file in which any test failed is never run again, and the second run's result is
// the result. Every rerun is printed.
//
// The results come from `resultsReporter()` (in web-test-runner.config.mjs), which writes
// each test file's outcome per browser to the file REELCHAT_WTR_RESULTS names.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A wtr reporter writing `[{ file, browser, passed, hung }]` to $REELCHAT_WTR_RESULTS. */
export function resultsReporter(path = process.env.REELCHAT_WTR_RESULTS) {
  return {
    onTestRunFinished({ sessions }) {
      if (!path) return;
      const results = sessions.map((session) => ({
        file: session.testFile,
        browser: session.browser.name,
        passed: Boolean(session.passed),
        // Failed as a whole, with no test of it failing: the browser, not the code.
        hung: !session.passed && session.errors.length > 0 && !anyTestFailed(session.testResults),
      }));
      writeFileSync(path, JSON.stringify(results));
    },
  };
}

function anyTestFailed(suite) {
  if (!suite) return false;
  return (
    suite.tests.some((test) => !test.passed && !test.skipped) || suite.suites.some(anyTestFailed)
  );
}

const ENGINE_OF_BROWSER = {
  Chrome: 'chromium',
  Chromium: 'chromium',
  Firefox: 'firefox',
  WebKit: 'webkit',
};

/** Runs wtr with `args` and `env`; resolves with its exit code and the results it wrote. */
async function runWtr(args, env) {
  const dir = mkdtempSync(join(tmpdir(), 'reelchat-wtr-'));
  const resultsPath = join(dir, 'results.json');
  try {
    const code = await new Promise((resolve, reject) => {
      const child = spawn('npx', ['wtr', ...args], {
        stdio: 'inherit',
        env: { ...process.env, ...env, REELCHAT_WTR_RESULTS: resultsPath },
      });
      child.on('error', reject);
      child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
    });
    let results;
    try {
      results = JSON.parse(readFileSync(resultsPath, 'utf8'));
    } catch {
      results = undefined; // wtr did not get as far as reporting
    }
    return { code, results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Which engine's files to run again, or undefined when a failure is not a hang. */
export function rerunsFor(results) {
  const failed = results.filter((result) => !result.passed);
  if (failed.length === 0 || failed.some((result) => !result.hung)) return undefined;
  const byEngine = new Map();
  for (const { file, browser } of failed) {
    const engine = ENGINE_OF_BROWSER[browser];
    if (!engine) return undefined;
    byEngine.set(engine, [...(byEngine.get(engine) ?? []), file]);
  }
  return byEngine;
}

/** The command line's other options (`--config …`), without the files it named. */
function withoutFiles(args) {
  const kept = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--files') while (args[i + 1] && !args[i + 1].startsWith('-')) i++;
    else if (!args[i].startsWith('--files=')) kept.push(args[i]);
  }
  return kept;
}

async function main() {
  const first = await runWtr(process.argv.slice(2), {});
  if (first.code === 0) return 0;
  const reruns = first.results && rerunsFor(first.results);
  if (!reruns) return first.code || 1;
  for (const [engine, files] of reruns) {
    console.error(
      `\nbrowser-tests: in ${engine}, ${files.join(', ')} stopped answering with no test ` +
        `failed; running ${files.length === 1 ? 'it' : 'them'} once more in a fresh ${engine}.\n`,
    );
    const again = await runWtr([...withoutFiles(process.argv.slice(2)), '--files', ...files], {
      REELCHAT_ENGINES: engine,
    });
    if (again.code !== 0) return again.code || 1;
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
