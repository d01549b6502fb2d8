// The two packages as npm ships them, packed from a clean checkout (the tracked files only,
// nothing built): `npm pack` must build them itself (prepack), as `npm publish` and a git
// install do. Each tarball holds only what that package needs, passes publint and
// @arethetypeswrong/cli, a site that installs `reelchat` gets no server dependency and can
// import every entry in plain Node (server-side rendering), and the packed server starts
// with `npx reelchat-server`.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const SERVER_DEPENDENCIES = ['better-sqlite3', '@tus/server', '@tus/file-store', 'jose'];
const ENTRIES = ['reelchat', 'reelchat/chat', 'reelchat/recorder', 'reelchat/player'];
const MORE_ENTRIES = ['reelchat/transport', 'reelchat/outbox'];
const TAGS = ['reel-chat', 'reel-recorder', 'reel-player', 'reel-clip'];
const BIG = 64 * 1024 * 1024;

let scratch;

/**
 * A clean checkout: the files git tracks, as they are in the work tree (so no dist/, no
 * custom-elements.json, no server/dist/), with this checkout's node_modules linked in.
 */
async function cleanCheckout() {
  const dir = join(scratch, 'checkout');
  const { stdout } = await run('git', ['ls-files', '-z'], { cwd: root, maxBuffer: BIG });
  for (const file of stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(root, file))) continue; // deleted in the work tree, not yet committed
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(root, file), join(dir, file));
  }
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** `npm pack` of one package in the checkout (its prepack builds): the tarball and its files. */
async function pack(checkout, args) {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch, ...args], {
    cwd: checkout,
    maxBuffer: BIG,
  });
  // The build's own output comes first on stdout; npm's JSON report is the last thing.
  const report = /^\[\s*\{/m.exec(stdout);
  assert.ok(report, `npm pack printed no JSON report:\n${stdout}`);
  const [info] = JSON.parse(stdout.slice(report.index));
  return { tarball: join(scratch, info.filename), files: info.files.map((f) => f.path) };
}

/** Runs a package linter from this checkout's node_modules; it must exit 0. */
async function lint(command, args) {
  try {
    await run('npx', ['--no-install', command, ...args], { cwd: root, maxBuffer: BIG });
  } catch (error) {
    assert.fail(`${command} ${args.join(' ')} failed:\n${error.stdout}\n${error.stderr}`);
  }
}

async function project(name, tarball, allowScripts = {}) {
  const dir = join(scratch, name);
  await run('mkdir', ['-p', dir]);
  const manifest = { name, private: true, allowScripts };
  await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], {
    cwd: dir,
    maxBuffer: 16 * 1024 * 1024,
  });
  return dir;
}

/** Ends the server's whole process group (npx and node); it may have exited already. */
function stop(child) {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch (error) {
    if (error.code !== 'ESRCH') console.error(error);
  }
}

describe('the packages as published', { timeout: 600_000 }, () => {
  let library;
  let server;
  let site;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'reelchat-pack-'));
    const checkout = await cleanCheckout();
    for (const built of ['dist', 'custom-elements.json', 'server/dist']) {
      assert.ok(!existsSync(join(checkout, built)), `${built} is in the clean checkout`);
    }
    library = await pack(checkout, []);
    server = await pack(checkout, ['--workspace', 'server']);
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('reelchat holds the built library and its manifest, nothing of the server or the tests', () => {
    const { files } = library;
    const needed = [
      'package.json',
      'LICENSE',
      'custom-elements.json',
      'dist/index.js',
      'dist/cdn/reelchat.js',
      'dist/types/index.d.ts',
      'dist/types/chat/index.d.ts',
      'dist/types/frameworks/react.d.ts',
    ];
    for (const file of needed) {
      assert.ok(files.includes(file), `${file} is missing from the tarball`);
    }
    const stray = files.filter(
      (f) => !/^(package\.json|README\.md|LICENSE|custom-elements\.json|dist\/)/.test(f),
    );
    assert.deepEqual(stray, [], 'files outside dist/ in the library tarball');
    const foreign = files.filter((f) => /server|\.test\.|fixtures/.test(f));
    assert.deepEqual(foreign, [], 'server, test or fixture files in the library tarball');
  });

  it('reelchat-server holds its bundle and licence only', () => {
    assert.deepEqual(server.files.sort(), ['LICENSE', 'README.md', 'dist/main.js', 'package.json']);
  });

  it('both packages pass publint and @arethetypeswrong/cli', async () => {
    await lint('publint', ['run', '--strict', library.tarball]);
    await lint('publint', ['run', '--strict', server.tarball]);
    // reelchat is ESM only (`"type": "module"`, no require condition): the esm-only profile
    // leaves out node10 resolution (no subpath exports there) and require() from CommonJS.
    // The framework entries (./react, ./vue, …) are types only and resolve as such.
    await lint('attw', ['--profile', 'esm-only', library.tarball]);
    // The server is a command (bin) with nothing to import: attw finds no types, and passes.
    await lint('attw', [server.tarball]);
  });

  it('a site that installs reelchat gets the browser dependencies and no server dependency', async () => {
    site = await project('site', library.tarball);
    const modules = join(site, 'node_modules');
    for (const dependency of ['lit', 'hls.js', 'nanoid', 'idb-keyval', 'tus-js-client']) {
      assert.ok(existsSync(join(modules, dependency)), `${dependency} was not installed`);
    }
    for (const dependency of SERVER_DEPENDENCIES) {
      assert.ok(!existsSync(join(modules, dependency)), `${dependency} was installed`);
    }
  });

  it('every entry imports in plain Node, with no DOM, and defines no element there', async () => {
    site ??= await project('site', library.tarball);
    const script = `
      const entries = ${JSON.stringify([...ENTRIES, ...MORE_ENTRIES])};
      const loaded = {};
      for (const entry of entries) loaded[entry] = Object.keys(await import(entry)).length;
      const registry = globalThis.customElements;
      const defined = ${JSON.stringify(TAGS)}.filter((tag) => registry?.get?.(tag));
      console.log(JSON.stringify({ loaded, defined, dom: typeof document, window: typeof window }));
    `;
    const { stdout } = await run('node', ['--input-type=module', '-e', script], { cwd: site });
    const result = JSON.parse(stdout);
    assert.equal(result.dom, 'undefined', 'the import ran with a document');
    assert.equal(result.window, 'undefined');
    for (const entry of [...ENTRIES, ...MORE_ENTRIES]) {
      assert.ok(result.loaded[entry] > 0, `${entry} exported nothing`);
    }
    assert.deepEqual(result.defined, [], 'elements were defined on the server');
  });

  it('the packed server starts with npx reelchat-server and answers /healthz', async () => {
    const dir = await project('deploy', server.tarball, { 'better-sqlite3': true });
    const child = spawn('npx', ['--no-install', 'reelchat-server'], {
      cwd: dir,
      env: {
        ...process.env,
        PORT: '0',
        REELCHAT_DEV_TOKENS: '1',
        REELCHAT_DATA_DIR: join(dir, 'data'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    try {
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const url = await new Promise((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk) => {
          out += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(out);
          if (match) resolve(match[1]);
        });
        child.once('exit', (code) =>
          reject(new Error(`reelchat-server exited with ${code}: ${stderr}`)),
        );
      });
      const response = await fetch(`${url}/healthz`);
      assert.equal(response.status, 200);
    } finally {
      stop(child);
    }
  });
});
