// Starts the real reference server as a child process on a free loopback port, for
// browser tests, end-to-end tests and benchmarks. Resolves once it is listening.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startRoundRobinProxy } from './round-robin-proxy.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {{ env?: Record<string, string>, dataDir?: string, args?: string[] }} [options]
 * @returns {Promise<{ url: string, dataDir: string, child: import('node:child_process').ChildProcess, stop(): Promise<void> }>}
 */
export async function startReferenceServer(options = {}) {
  return process.env.REELCHAT_TEST_SCALED === '1'
    ? startReferenceCluster(options)
    : startOne(options);
}

/**
 * Scaled mode (REELCHAT_TEST_SCALED=1, inside scripts/with-services.mjs): two `api` instances
 * and a `worker` over a fresh PostgreSQL database and the services' bucket, behind a
 * round-robin proxy whose URL is the server's — so a suite runs unchanged against the pair.
 *
 * @param {{ env?: Record<string, string> }} [options]
 */
export async function startReferenceCluster(options = {}) {
  const serverUrl = process.env.REELCHAT_TEST_DATABASE_URL;
  const bucket = process.env.REELCHAT_TEST_S3_BUCKET;
  if (!serverUrl || !bucket) {
    throw new Error(
      'REELCHAT_TEST_SCALED=1 needs the services: run through scripts/with-services.mjs.',
    );
  }
  const name = `reelchat_ref_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const databaseUrl = new URL(serverUrl);
  databaseUrl.pathname = `/${name}`;
  const env = {
    ...options.env,
    REELCHAT_DATABASE_URL: databaseUrl.toString(),
    REELCHAT_S3_BUCKET: bucket,
    REELCHAT_LOG: 'off',
  };
  const start = (role) => startOne({ env: { ...env, REELCHAT_ROLE: role } });
  const first = await start('api'); // migrates alone
  const instances = [first, ...(await Promise.all([start('api'), start('worker')]))];
  const proxy = await startRoundRobinProxy([first.url, instances[1].url]);
  return {
    url: proxy.url,
    dataDir: first.dataDir,
    child: first.child,
    instances,
    async stop() {
      await proxy.close();
      await Promise.all(instances.map((instance) => instance.stop()));
      const again = new pg.Client({ connectionString: serverUrl });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    },
  };
}

/** @param {{ env?: Record<string, string>, dataDir?: string, args?: string[] }} [options] */
async function startOne(options = {}) {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'reelchat-'));
  const ownsDataDir = options.dataDir === undefined;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'server/main.ts'), ...(options.args ?? [])],
    {
      cwd: root,
      env: {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        REELCHAT_DATA_DIR: dataDir,
        REELCHAT_DEV_TOKENS: '1',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`The reference server did not start:\n${output}`)),
      20_000,
    );
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The reference server exited (${code}):\n${output}`));
    });
  });
  if (process.env.REELCHAT_SERVER_LOGS) {
    child.stdout.pipe(process.stderr);
    child.stderr.pipe(process.stderr);
  } else {
    child.stdout.resume();
    child.stderr.resume();
  }
  return {
    url,
    dataDir,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
