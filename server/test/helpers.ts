// Shared by the server tests: the real server in-process on a loopback port (or as a child
// process), tokens, clips made with ffmpeg, raw tus requests and an SSE reader.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createApp, type App, type AppOptions } from '../compose.js';
import { signToken } from '../auth/tokens.js';
import { readConfig, type ServerConfig } from '../config.js';
import {
  dropTestDatabase,
  prepareTestDatabase,
  TEST_DATABASE_URL,
  testDatabaseUrl,
} from './test-databases.js';

export { openTestDatabase, SERVICES_DATABASE_URL, TEST_DATABASE_URL } from './test-databases.js';

const run = promisify(execFile);

export const SECRET = 'test-secret-that-is-long-enough-0123456789';
export const ORIGIN = 'https://chat.example';

export interface TestServer {
  app: App;
  url: string;
  config: ServerConfig;
  dataDir: string;
  token(user: string, conversations: string[], name?: string): Promise<string>;
  close(): Promise<void>;
}

export function testEnv(dataDir: string, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    REELCHAT_DATA_DIR: dataDir,
    REELCHAT_JWT_SECRET: SECRET,
    REELCHAT_ALLOWED_ORIGINS: ORIGIN,
    REELCHAT_CONVERT_CONCURRENCY: '1',
    // No request log in test output (the tests of the log turn it on).
    REELCHAT_LOG: 'off',
    // Closing does not wait for requests a test left open (graceful-stop.test.ts sets it).
    REELCHAT_DRAIN_S: '0',
    ...(TEST_DATABASE_URL
      ? {
          REELCHAT_DATABASE_URL: testDatabaseUrl(env.REELCHAT_DATA_DIR ?? dataDir),
          // A killed worker's job is taken over when its lease lapses: soon, in tests.
          REELCHAT_JOB_LEASE_S: '5',
        }
      : {}),
    ...env,
  };
}

export async function startServer(
  env: Record<string, string> = {},
  options: AppOptions & { dataDir?: string } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'reelchat-test-')));
  await prepareTestDatabase(dataDir);
  const config = readConfig(testEnv(dataDir, env));
  const app = await createApp(config, options);
  return {
    app,
    url: app.url,
    config,
    dataDir,
    token: (user, conversations, name = user) => signToken(SECRET, { user, name, conversations }),
    async close() {
      await app.close();
      if (!options.dataDir) {
        await rm(dataDir, { recursive: true, force: true });
        await dropTestDatabase(dataDir);
      }
    },
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Clips

const clipDir = join(tmpdir(), `reelchat-test-clips-${process.pid}`);

/** Makes (once per process) a test-pattern clip with a tone. */
export async function makeClip(
  kind: 'mp4' | 'webm-vp8' | 'webm-vp9',
  seconds = 2,
  size = '320x240',
): Promise<string> {
  await mkdir(clipDir, { recursive: true });
  const path = join(clipDir, `${kind}-${seconds}s-${size}.${kind === 'mp4' ? 'mp4' : 'webm'}`);
  if (existsSync(path)) return path;
  const codec =
    kind === 'mp4'
      ? ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac']
      : kind === 'webm-vp8'
        ? [
            '-c:v',
            'libvpx',
            '-deadline',
            'realtime',
            '-cpu-used',
            '8',
            '-b:v',
            '300k',
            '-c:a',
            'libopus',
          ]
        : [
            '-c:v',
            'libvpx-vp9',
            '-deadline',
            'realtime',
            '-cpu-used',
            '8',
            '-b:v',
            '300k',
            '-c:a',
            'libopus',
          ];
  const tmp = `${path}.part${kind === 'mp4' ? '.mp4' : '.webm'}`;
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${size}:rate=30:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    ...codec,
    '-shortest',
    tmp,
  ]);
  await run('mv', [tmp, path]);
  return path;
}

export async function removeClips(): Promise<void> {
  await rm(clipDir, { recursive: true, force: true });
}

/** Duration in seconds as ffprobe reads it (a file or a playlist). */
export async function probeDuration(path: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'default=nw=1:nk=1',
    path,
  ]);
  return Number(stdout.trim());
}

// HTTP

export function auth(token: string, headers: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${token}`, ...headers };
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

export function tusMetadata(meta: Record<string, string>): string {
  return Object.entries(meta)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');
}

/** POST /v1/uploads; returns the response (Location names the upload). */
export function createUpload(
  url: string,
  token: string,
  meta: Record<string, string>,
  length: number | 'deferred',
): Promise<Response> {
  return fetch(`${url}/v1/uploads`, {
    method: 'POST',
    headers: auth(token, {
      'Tus-Resumable': '1.0.0',
      'Upload-Metadata': tusMetadata(meta),
      ...(length === 'deferred'
        ? { 'Upload-Defer-Length': '1' }
        : { 'Upload-Length': String(length) }),
    }),
  });
}

export function patchUpload(
  url: string,
  token: string,
  id: string,
  offset: number,
  bytes: Uint8Array,
  finalLength?: number,
): Promise<Response> {
  return fetch(`${url}/v1/uploads/${id}`, {
    method: 'PATCH',
    headers: auth(token, {
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
      ...(finalLength !== undefined ? { 'Upload-Length': String(finalLength) } : {}),
    }),
    body: bytes,
  });
}

export function headUpload(url: string, token: string, id: string): Promise<Response> {
  return fetch(`${url}/v1/uploads/${id}`, {
    method: 'HEAD',
    headers: auth(token, { 'Tus-Resumable': '1.0.0' }),
  });
}

/** Creates an upload and sends all bytes in one PATCH; returns the upload id. */
export async function uploadBytes(
  url: string,
  token: string,
  bytes: Uint8Array,
  meta: Record<string, string>,
): Promise<string> {
  const created = await createUpload(url, token, meta, bytes.length);
  if (created.status !== 201)
    throw new Error(`creation: ${created.status} ${await created.text()}`);
  const id = created.headers.get('location')!.split('/').pop()!;
  const patched = await patchUpload(url, token, id, 0, bytes);
  if (patched.status !== 204) throw new Error(`patch: ${patched.status} ${await patched.text()}`);
  return id;
}

// Server-sent events

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** Reads an SSE stream with fetch (Node has no EventSource): collects events until closed. */
export class SseReader {
  readonly events: SseEvent[] = [];
  status = 0;
  private readonly controller = new AbortController();
  private done?: Promise<void>;

  async open(url: string, headers: Record<string, string>): Promise<this> {
    const response = await fetch(url, { headers, signal: this.controller.signal });
    this.status = response.status;
    if (response.ok && response.body) this.done = this.read(response.body).catch(() => undefined);
    else await response.body?.cancel();
    return this;
  }

  close(): Promise<void> {
    this.controller.abort();
    return this.done ?? Promise.resolve();
  }

  /** Resolves when `count` events have arrived. */
  waitForCount(count: number): Promise<SseEvent[]> {
    return waitFor(
      () => (this.events.length >= count ? this.events : undefined),
      `${count} events`,
      30_000,
    );
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { event: 'message', data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') event.id = value;
          else if (field === 'event') event.event = value;
          else if (field === 'data') event.data += value;
        }
        if (event.data) this.events.push(event);
      }
    }
  }
}

/** A request with the path sent exactly as given (fetch would resolve `..` and `%2E%2E`). */
export function rawRequest(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; headers: import('node:http').IncomingHttpHeaders }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: hostname, port, path, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

// The server as a child process: for tests that must see the process crash (or not).

export interface ChildServer {
  child: ChildProcess;
  url: string;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** Whether the process is still running. */
  running(): boolean;
  /** SIGTERM (SIGKILL after 5 s), then removes the data folder. */
  stop(): Promise<void>;
}

/** Starts `server/main.ts` (via tsx) on a loopback port with testEnv(…, env). */
export async function startChildServer(env: Record<string, string> = {}): Promise<ChildServer> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const dataDir = await mkdtemp(join(tmpdir(), 'reelchat-test-'));
  // The test may name its own folder (REELCHAT_DATA_DIR in env), to restart on it.
  await prepareTestDatabase(env.REELCHAT_DATA_DIR ?? dataDir);
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'server/main.ts')], {
    cwd: root,
    env: { ...process.env, ...testEnv(dataDir, env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => (output += chunk.toString());
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const url = await waitFor(
    () => {
      if (!running()) throw new Error(`The server exited at start:\n${output}`);
      return /reelchat server listening on (http:\/\/\S+)/.exec(output)?.[1];
    },
    'the child server to listen',
    30_000,
  ).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  return {
    child,
    url,
    output: () => output,
    running,
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(force);
      }
      await rm(dataDir, { recursive: true, force: true });
      // A folder the test named is the test's to remove (with its database, on the next start).
      if (env.REELCHAT_DATA_DIR === undefined) await dropTestDatabase(dataDir);
    },
  };
}

/** A server started by startChild: its process and URL. */
export interface Child {
  process: ChildProcess;
  url: string;
}

/** Starts `server/main.ts` (via tsx) on `dataDir`, which it keeps, so a test can kill and restart it. */
export async function startChild(dataDir: string): Promise<Child> {
  await prepareTestDatabase(dataDir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, ...testEnv(dataDir) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /reelchat server listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve({ process: child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${output}`)));
  });
}
