import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
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
  await sleep(50);
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
