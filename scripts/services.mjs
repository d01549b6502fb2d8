#!/usr/bin/env node
// Throwaway PostgreSQL 15 and OpenStack Swift (with its S3 API) on free loopback ports, for the
// scaled-mode tests and for a developer trying scaled mode. Everything lives under one folder;
// `stop` kills only the processes recorded there and removes their data.
//
//   eval "$(node scripts/services.mjs start)"   # prints `export NAME=value` lines
//   node scripts/services.mjs stop              # [--dir DIR], default .services/ at the repo root
//
// Tests: `const { env, stop } = await startServices({ dir })` (no dir: a temporary folder).
// The bucket REELCHAT_TEST_S3_BUCKET exists once start returns; tests may create more.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  open,
  readFile,
  rm,
  rmdir,
  writeFile,
} from 'node:fs/promises';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { backendConf, MEMORY_CACHE, proxyConf, RING_SCRIPT, swiftConf } from './services-swift.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_DIR = join(REPO, '.services');
const PG_BIN = '/usr/lib/postgresql/15/bin';
// Swift's scripts run on Debian's python; a python3 earlier on PATH (pyenv, venv) has no swift.
const PYTHON = '/usr/bin/python3';
const S3_KEY = 'test:tester';
const S3_SECRET = 'testing';
const BUCKET = 'reelchat-test';
const READY_TIMEOUT_MS = 60_000;
// Files and folders this script creates in DIR; `stop` removes only these.
const OWNED = ['pg', 'swift', 'logs', 'env.json', 'env.sh', 'state.json'];

/**
 * Starts PostgreSQL and Swift under `dir` and waits until both answer. Resolves to the
 * environment a scaled-mode process needs and a `stop()` that kills them and removes their data.
 * Rejects (with the failing service's log tail) when either does not start. Unless
 * `keepRunning`, they are killed when this process exits without calling stop().
 */
export async function startServices({ dir, keepRunning = false } = {}) {
  const temporary = dir === undefined;
  const root = temporary ? await mkdtemp(join(tmpdir(), 'reelchat-services-')) : resolve(dir);
  await mkdir(root, { recursive: true });
  // mkdtemp makes it 0700; the postgres user (when we are root) must pass through it.
  if (temporary) await chmod(root, 0o711);
  if (existsSync(join(root, 'state.json'))) await stopServices(root);
  await mkdir(join(root, 'logs'), { recursive: true });

  const started = { root, processes: [] };
  const release = keepRunning
    ? () => {}
    : killedWithThisProcess(started.processes, temporary ? root : undefined);
  const stop = async () => {
    release();
    await stopRecorded(started.processes);
    await removeOwned(root, temporary);
  };

  const begin = Date.now();
  try {
    const [pgPort, s3Port, objectPort, containerPort, accountPort] = await freePorts(5);
    const record = async (proc) => {
      started.processes.push(proc);
      await writeFile(join(root, 'state.json'), JSON.stringify(started, null, 2));
    };
    await settled([
      startPostgres(root, pgPort, record),
      startSwift(root, { s3Port, objectPort, containerPort, accountPort }, record),
    ]);
    const env = {
      REELCHAT_TEST_DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
      REELCHAT_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
      REELCHAT_S3_REGION: 'us-east-1',
      REELCHAT_S3_FORCE_PATH_STYLE: '1',
      AWS_ACCESS_KEY_ID: S3_KEY,
      AWS_SECRET_ACCESS_KEY: S3_SECRET,
      REELCHAT_TEST_S3_BUCKET: BUCKET,
    };
    await writeFile(join(root, 'env.json'), JSON.stringify(env, null, 2) + '\n');
    await writeFile(join(root, 'env.sh'), exportLines(env));
    return { env, dir: root, seconds: (Date.now() - begin) / 1000, stop };
  } catch (error) {
    await stopRecorded(started.processes).catch(() => {});
    release();
    // The logs stay for a look (a temporary folder goes: the message carries the tail).
    if (temporary) await rm(root, { recursive: true, force: true });
    throw error;
  }
}

/** Stops what `dir`'s state.json records and removes the data this script made there. */
export async function stopServices(dir = DEFAULT_DIR) {
  const root = resolve(dir);
  const statePath = join(root, 'state.json');
  if (!existsSync(statePath)) return false;
  const state = JSON.parse(await readFile(statePath, 'utf8'));
  await stopRecorded(state.processes ?? []);
  await removeOwned(root, false);
  return true;
}

// ---- PostgreSQL ------------------------------------------------------------------------------

async function startPostgres(root, port, record) {
  const pgDir = join(root, 'pg');
  const data = join(pgDir, 'data');
  const log = join(root, 'logs', 'postgres.log');
  await mkdir(pgDir, { recursive: true });
  // PostgreSQL refuses to run as root: then it runs as the `postgres` user, owning its folder.
  const as = process.getuid?.() === 0 ? await postgresUser(pgDir) : {};
  if (as.uid !== undefined) {
    await chown(pgDir, as.uid, as.gid);
    await writeFile(log, '');
    await chown(log, as.uid, as.gid);
  }
  await run(
    join(PG_BIN, 'initdb'),
    ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { ...as, cwd: pgDir, log, name: 'initdb' },
  );
  // A unix socket path is limited to 107 bytes; TCP is what the URL uses anyway.
  const socketDir = pgDir.length < 80 ? pgDir : '';
  const options = [
    '-c listen_addresses=127.0.0.1',
    `-p ${port}`,
    `-k '${socketDir}'`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  const starting = run(
    join(PG_BIN, 'pg_ctl'),
    ['-D', data, '-l', log, '-o', options, '-w', '-t', '30', 'start'],
    { ...as, cwd: pgDir, log, name: 'pg_ctl start' },
  );
  // Recorded even when pg_ctl gave up waiting: a postmaster may run all the same.
  const failed = await starting.then(
    () => undefined,
    (error) => error,
  );
  const pidFile = join(data, 'postmaster.pid');
  if (!existsSync(pidFile)) throw failed ?? new Error(`postgres wrote no ${pidFile}`);
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  // The postmaster is its own session leader (pg_ctl detaches it): signal it, not a group.
  await record({
    name: 'postgres',
    pid,
    group: false,
    mark: data,
    stopSignal: 'SIGINT',
    // Immediate shutdown: quick, and the postmaster still removes its shared memory.
    killSignal: 'SIGQUIT',
  });
  if (failed) throw failed;
  await waitForPort(port, 'postgres', log);
}

async function postgresUser(pgDir) {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) {
    throw new Error(
      'Running as root, but there is no `postgres` user: install postgresql-15 (it creates it).',
    );
  }
  const [, , uid, gid] = line.split(':');
  assertReachable(pgDir, Number(uid), Number(gid));
  return { uid: Number(uid), gid: Number(gid) };
}

/** The postgres user must be able to walk down to its folder (no 0700 home above it). */
function assertReachable(path, uid, gid) {
  for (let at = dirname(path); ; at = dirname(at)) {
    const info = statSync(at);
    const bit = info.uid === uid ? 0o100 : info.gid === gid ? 0o010 : 0o001;
    if (!(info.mode & bit)) {
      throw new Error(
        `The postgres user cannot enter ${at}; choose a --dir it can reach (e.g. under /tmp).`,
      );
    }
    if (at === dirname(at)) return;
  }
}

// ---- Swift -----------------------------------------------------------------------------------

async function startSwift(root, ports, record) {
  const base = join(root, 'swift');
  const etc = join(base, 'etc');
  const srv = join(base, 'srv');
  await mkdir(join(srv, 'd1'), { recursive: true });
  await mkdir(etc, { recursive: true });
  const user = userInfo().username;
  await writeFile(join(etc, 'swift.conf'), swiftConf());
  const backends = [
    ['object', ports.objectPort],
    ['container', ports.containerPort],
    ['account', ports.accountPort],
  ];
  for (const [kind, port] of backends) {
    await writeFile(join(etc, `${kind}-server.conf`), backendConf(kind, port, srv, etc, user));
  }
  await writeFile(join(etc, 'proxy-server.conf'), proxyConf(ports.s3Port, etc, user, S3_SECRET));
  await writeFile(join(etc, 'reelchat_memory_cache.py'), MEMORY_CACHE);
  const server = async ([kind, port]) => {
    const conf = join(etc, `${kind}-server.conf`);
    const log = join(root, 'logs', `swift-${kind}.log`);
    const child = await spawnLogged(`/usr/bin/swift-${kind}-server`, [conf, '--verbose'], log, {
      ...process.env,
      PYTHONPATH: etc, // for the proxy's memory cache
    });
    await record({ name: `swift-${kind}`, pid: child.pid, group: true, mark: conf });
    await waitForPort(port, `swift-${kind}`, log, child);
  };
  // All three rings in one python process (swift-ring-builder costs a python start per step),
  // built while the backends, which do not read them, start; the proxy needs them.
  const rings = run(PYTHON, ['-c', RING_SCRIPT, ...backends.flat().map(String)], {
    cwd: etc,
    log: join(root, 'logs', 'rings.log'),
    name: 'swift rings',
  });
  await settled([...backends.map(server), rings.then(() => server(['proxy', ports.s3Port]))]);
  await createBucket(ports.s3Port, join(root, 'logs', 'swift-proxy.log'));
}

/**
 * Creates the test bucket, retrying while the backends come up: the first request that
 * succeeds proves the proxy, s3api, tempauth, account and container servers all answer.
 * Signed with AWS signature v2 (which s3api accepts) to keep this script free of the SDK.
 */
async function createBucket(port, log) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = '';
  let faults = 0;
  while (Date.now() < deadline) {
    const date = new Date().toUTCString();
    const signature = createHmac('sha1', S3_SECRET)
      .update(`PUT\n\n\n${date}\n/${BUCKET}`)
      .digest('base64');
    const answer = await httpRequest(port, 'PUT', `/${BUCKET}`, {
      Date: date,
      Authorization: `AWS ${S3_KEY}:${signature}`,
      'Content-Length': '0',
    }).catch((error) => ({ status: 0, body: String(error) }));
    if (answer.status === 200) return;
    last = `${answer.status} ${answer.body.slice(0, 300)}`;
    // Connection refused and 503 mean "still starting"; anything else thrice is a real fault.
    if (answer.status !== 0 && answer.status !== 503 && ++faults >= 3) break;
    await sleep(150);
  }
  throw new Error(`Swift's S3 API did not create the bucket: ${last}\n${tail(log)}`);
}

// ---- Processes -------------------------------------------------------------------------------

/** Runs a command to completion; rejects with its log's tail when it fails. */
async function run(command, args, { uid, gid, cwd, log, name }) {
  const out = await open(log, 'a');
  try {
    const child = spawn(command, args, {
      cwd,
      uid,
      gid,
      stdio: ['ignore', out.fd, out.fd],
      env: { ...process.env, LC_ALL: 'C' },
    });
    const code = await new Promise((done, fail) => {
      child.once('error', fail);
      child.once('exit', (status, sig) => done(status ?? sig));
    });
    if (code !== 0) throw new Error(`${name} failed (${code}):\n${tail(log)}`);
  } finally {
    await out.close();
  }
}

/** Starts a long-running server in its own process group, output appended to `log`. */
async function spawnLogged(command, args, log, env) {
  const out = await open(log, 'a');
  const child = spawn(command, args, { detached: true, env, stdio: ['ignore', out.fd, out.fd] });
  const spawned = new Promise((done, fail) => {
    child.once('spawn', done);
    child.once('error', (error) => fail(new Error(`${command}: ${error.message}`)));
  });
  await out.close();
  await spawned;
  child.unref();
  return child;
}

/** Waits until something listens on `port`; fails early when `child` exits meanwhile. */
async function waitForPort(port, name, log, child) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`${name} exited (${child.exitCode}) while starting:\n${tail(log)}`);
    }
    if (await canConnect(port)) return;
    await sleep(100);
  }
  throw new Error(
    `${name} did not listen on port ${port} within ${READY_TIMEOUT_MS} ms:\n${tail(log)}`,
  );
}

function canConnect(port) {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

/**
 * A test process that exits or is interrupted without calling stop() must not leave servers
 * behind (they run in their own process groups, so a Ctrl-C does not reach them). Returns a
 * function that undoes this.
 */
function killedWithThisProcess(processes, temporaryDir) {
  const kill = () => {
    processes.forEach((proc) => signal(proc, proc.killSignal ?? 'SIGKILL'));
    if (temporaryDir) rmSync(temporaryDir, { recursive: true, force: true, maxRetries: 3 });
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'].filter(
    (name) => process.listenerCount(name) === 0,
  );
  // Kill, then let the signal take its default course (this listener is gone by then).
  const onSignal = (name) => {
    kill();
    process.kill(process.pid, name);
  };
  process.on('exit', kill);
  for (const name of signals) process.once(name, onSignal);
  return () => {
    process.off('exit', kill);
    for (const name of signals) process.off(name, onSignal);
  };
}

async function stopRecorded(processes) {
  await Promise.all(
    processes.map(async (proc) => {
      if (!signal(proc, proc.stopSignal ?? 'SIGTERM')) return;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && alive(proc)) await sleep(50);
      if (alive(proc)) signal(proc, 'SIGKILL');
      while (alive(proc)) await sleep(50);
    }),
  );
}

/** Signals a recorded process (or its group) if it is still the one we started. */
function signal(proc, name) {
  if (!ours(proc)) return false;
  try {
    process.kill(proc.group ? -proc.pid : proc.pid, name);
    return true;
  } catch {
    return false;
  }
}

function alive(proc) {
  try {
    process.kill(proc.group ? -proc.pid : proc.pid, 0);
    return ours(proc);
  } catch {
    return false;
  }
}

/**
 * A recorded pid is ours while its command line names our folder. A group whose leader has
 * exited is still ours: Linux does not reuse a pid that is a live group's id.
 */
function ours(proc) {
  try {
    return readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').includes(proc.mark);
  } catch {
    if (!proc.group) return false;
    try {
      process.kill(-proc.pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

async function removeOwned(root, whole) {
  if (whole) return rm(root, { recursive: true, force: true });
  for (const name of OWNED) await rm(join(root, name), { recursive: true, force: true });
  await rmdir(root).catch(() => {}); // only when nothing else is left there
}

// ---- Small helpers ---------------------------------------------------------------------------

async function freePorts(count) {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      await new Promise((done) => server.listen(0, '127.0.0.1', done));
      return server;
    }),
  );
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

function httpRequest(port, method, path, headers) {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => done({ status: res.statusCode, body }));
    });
    req.on('error', fail);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

function tail(path, lines = 30) {
  try {
    const text = readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `--- ${path} (last ${lines} lines) ---\n${text}`;
  } catch {
    return `(no log at ${path})`;
  }
}

function exportLines(env) {
  const quote = (value) =>
    /^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
  return Object.entries(env)
    .map(([name, value]) => `export ${name}=${quote(value)}\n`)
    .join('');
}

/** Like Promise.all, but rejects only once every start has ended, so all get recorded. */
async function settled(promises) {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

function sleep(ms) {
  return new Promise((done) => setTimeout(done, ms));
}

// ---- CLI -------------------------------------------------------------------------------------

async function main(argv) {
  const [command, ...rest] = argv;
  const at = rest.indexOf('--dir');
  const dir = at >= 0 ? rest[at + 1] : DEFAULT_DIR;
  if (!dir || !['start', 'stop'].includes(command)) {
    console.error('usage: node scripts/services.mjs start|stop [--dir DIR]');
    return 2;
  }
  if (command === 'stop') {
    const stopped = await stopServices(dir);
    console.error(
      stopped ? `services in ${resolve(dir)} stopped` : `nothing runs in ${resolve(dir)}`,
    );
    return 0;
  }
  const running = runningEnv(dir);
  if (running) {
    console.error(`services already run in ${resolve(dir)}`);
    process.stdout.write(exportLines(running));
    return 0;
  }
  const services = await startServices({ dir, keepRunning: true });
  console.error(`services ready in ${services.seconds.toFixed(1)} s (${services.dir})`);
  process.stdout.write(exportLines(services.env));
  return 0;
}

/** The env of a folder whose recorded processes all still run, else undefined. */
function runningEnv(dir) {
  try {
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    if (!state.processes.length || !state.processes.every(alive)) return undefined;
    return JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

const invoked = process.argv[1] && realpathSync(process.argv[1]);
if (invoked && pathToFileURL(invoked).href === import.meta.url) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
