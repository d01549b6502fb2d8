import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FfmpegExitError, FfmpegProcess } from './ffmpeg-process.js';

const FFMPEG = process.env.FFMPEG_PATH || 'ffmpeg';
/** An ffmpeg run that never ends on its own: real time test pattern into nothing. */
const ENDLESS = [
  '-nostdin',
  '-v',
  'error',
  '-re',
  '-f',
  'lavfi',
  '-i',
  'testsrc2',
  '-f',
  'null',
  '-',
];

/** The pid of the child once it is running (the class keeps it private on purpose). */
async function pidOf(process: FfmpegProcess): Promise<number> {
  for (;;) {
    const pid = (process as unknown as { child?: { pid?: number } }).child?.pid;
    if (pid) return pid;
    await sleep(5);
  }
}

/** Running (not exited, not a zombie waiting for a parent that is gone). */
function alive(pid: number): boolean {
  try {
    return statOf(pid).state !== 'Z';
  } catch {
    return false;
  }
}

/** Fields of /proc/<pid>/stat that matter here (comm may hold spaces and parentheses). */
function statOf(pid: number): { comm: string; state: string; ppid: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const close = text.lastIndexOf(')');
  const [state, ppid] = text.slice(close + 2).split(' ');
  return { comm: text.slice(text.indexOf('(') + 1, close), state: state!, ppid: Number(ppid) };
}

/** The ffmpeg processes below `root` (its children, grandchildren, …). */
function ffmpegsBelow(root: number): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = statOf(Number(name));
      parents.set(Number(name), stat.ppid);
      names.set(Number(name), stat.comm);
    } catch {
      // exited meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === root) return true;
    }
    return false;
  };
  return [...parents.keys()].filter((pid) => names.get(pid) === 'ffmpeg' && below(pid));
}

/** A Node process that runs `script` (an ES module body with FfmpegProcess in scope). */
function nodeWith(script: string): ChildProcess {
  const module = new URL('./ffmpeg-process.ts', import.meta.url).href;
  const body = `const { FfmpegProcess } = await import(${JSON.stringify(module)});\n${script}`;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', body], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function waitUntil(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

test('collects stdout of a successful run', async () => {
  const output = await new FfmpegProcess({
    command: FFMPEG,
    args: ['-hide_banner', '-version'],
    timeoutMs: 10_000,
  }).run();
  assert.match(output, /^ffmpeg version/);
});

test('runs at lower priority and is killed by its signal, leaving no listener', async () => {
  const controller = new AbortController();
  const ffmpeg = new FfmpegProcess({
    command: FFMPEG,
    args: ENDLESS,
    timeoutMs: 60_000,
    signal: controller.signal,
  });
  const running = ffmpeg.run();
  const pid = await pidOf(ffmpeg);
  await waitUntil(() => ffmpegsBelow(process.pid).length === 1, 'ffmpeg to start', 5000);
  // ffmpeg itself, not only the wrapper that started it.
  assert.equal(getPriority(ffmpegsBelow(process.pid)[0]!), 10);
  assert.equal(getPriority(pid), 10);
  controller.abort(new Error('stop'));
  await assert.rejects(running, /stop/);
  assert.equal(alive(pid), false);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});

test('is killed by its time limit', async () => {
  const ffmpeg = new FfmpegProcess({ command: FFMPEG, args: ENDLESS, timeoutMs: 300 });
  const running = ffmpeg.run();
  const pid = await pidOf(ffmpeg);
  await assert.rejects(running, (error: unknown) => {
    assert.ok(error instanceof FfmpegExitError);
    assert.equal(error.timedOut, true);
    return true;
  });
  assert.equal(alive(pid), false);
});

test('a failing run reports its exit code and what ffmpeg said', async () => {
  const run = new FfmpegProcess({
    command: FFMPEG,
    args: ['-v', 'error', '-i', 'file:/nonexistent/clip.webm', '-f', 'null', '-'],
    timeoutMs: 10_000,
  }).run();
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof FfmpegExitError);
    assert.match(error.stderrTail, /No such file/);
    assert.match(error.message, /exited with code/);
    return true;
  });
});

test('a missing executable rejects with ENOENT', async () => {
  const run = new FfmpegProcess({
    command: '/nonexistent/ffmpeg',
    args: [],
    timeoutMs: 1000,
  }).run();
  await assert.rejects(run, { code: 'ENOENT' });
});

test('ffmpeg dies with a server killed with -9', async () => {
  const server = nodeWith(`
    const args = ${JSON.stringify(ENDLESS)};
    await new FfmpegProcess({ command: ${JSON.stringify(FFMPEG)}, args, timeoutMs: 600_000 }).run();
  `);
  let ffmpeg: number | undefined;
  try {
    await waitUntil(() => ffmpegsBelow(server.pid!).length === 1, 'ffmpeg to start', 10_000);
    ffmpeg = ffmpegsBelow(server.pid!)[0];
    server.kill('SIGKILL');
    await waitUntil(() => !alive(ffmpeg!), 'the orphaned ffmpeg to die', 2000);
  } finally {
    server.kill('SIGKILL');
    if (ffmpeg !== undefined && alive(ffmpeg)) process.kill(ffmpeg, 'SIGKILL');
  }
});

test('the time limit holds while the server is stuck and cannot run its timer', async () => {
  // Node's own timer cannot fire while the loop is blocked; the limit outside Node
  // (timeout -s KILL, 2 s after Node's) still ends ffmpeg.
  const server = nodeWith(`
    const args = ${JSON.stringify(ENDLESS)};
    const run = new FfmpegProcess({ command: ${JSON.stringify(FFMPEG)}, args, timeoutMs: 500 }).run();
    run.catch(() => undefined);
    setTimeout(() => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20_000);
    }, 100);
  `);
  let ffmpeg: number | undefined;
  try {
    await waitUntil(() => ffmpegsBelow(server.pid!).length === 1, 'ffmpeg to start', 10_000);
    ffmpeg = ffmpegsBelow(server.pid!)[0];
    const started = Date.now();
    await waitUntil(() => !alive(ffmpeg!), 'ffmpeg to be killed by its time limit', 6000);
    assert.ok(Date.now() - started >= 1000, 'ended by the outer limit, not at once');
    assert.equal(server.exitCode, null, 'the server is still stuck');
  } finally {
    server.kill('SIGKILL');
    if (ffmpeg !== undefined && alive(ffmpeg)) process.kill(ffmpeg, 'SIGKILL');
  }
});
