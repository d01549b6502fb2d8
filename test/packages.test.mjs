// The two packages as npm ships them: each tarball holds only what that package needs, a
// site that installs `reelchat` gets no server dependency, and the packed server starts
// with `npx reelchat-server`. Runs after `npm run build` (npm test does that first).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const SERVER_DEPENDENCIES = ['better-sqlite3', '@tus/server', '@tus/file-store', 'jose'];

let scratch;

/** `npm pack` of one package: the tarball's path and the files in it. */
async function pack(args) {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch, ...args], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('[')));
  return { tarball: join(scratch, info.filename), files: info.files.map((f) => f.path) };
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
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'reelchat-pack-'));
    library = await pack([]);
    server = await pack(['--workspace', 'server']);
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('reelchat holds the built library and its manifest, nothing of the server or the tests', () => {
    const { files } = library;
    for (const needed of ['package.json', 'custom-elements.json', 'dist/index.js']) {
      assert.ok(files.includes(needed), `${needed} is missing from the tarball`);
    }
    assert.ok(files.includes('dist/cdn/reelchat.js'));
    assert.ok(files.includes('dist/types/frameworks/react.d.ts'));
    const stray = files.filter(
      (f) => !/^(package\.json|README\.md|LICENSE|custom-elements\.json|dist\/)/.test(f),
    );
    assert.deepEqual(stray, [], 'files outside dist/ in the library tarball');
    const foreign = files.filter((f) => /server|\.test\.|fixtures/.test(f));
    assert.deepEqual(foreign, [], 'server, test or fixture files in the library tarball');
  });

  it('reelchat-server holds its bundle only', () => {
    assert.deepEqual(server.files.sort(), ['README.md', 'dist/main.js', 'package.json']);
  });

  it('a site that installs reelchat gets the browser dependencies and no server dependency', async () => {
    const site = await project('site', library.tarball);
    const modules = join(site, 'node_modules');
    for (const dependency of ['lit', 'hls.js', 'nanoid', 'idb-keyval', 'tus-js-client']) {
      assert.ok(existsSync(join(modules, dependency)), `${dependency} was not installed`);
    }
    for (const dependency of SERVER_DEPENDENCIES) {
      assert.ok(!existsSync(join(modules, dependency)), `${dependency} was installed`);
    }
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
