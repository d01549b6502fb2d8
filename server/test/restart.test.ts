// A server killed with SIGKILL in the middle of a conversion finishes it after a restart
// on the same data folder: conversion jobs are durable.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { signToken } from '../auth/tokens.js';
import {
  auth,
  json,
  makeClip,
  openTestDatabase,
  probeDuration,
  removeClips,
  SECRET,
  startChild,
  uploadBytes,
  waitFor,
} from './helpers.js';

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** ffmpeg processes working on files in our data folder (orphans of the killed server). */
function convertersIn(dataDir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('restart', () => {
  let dataDir: string;
  const children: ChildProcess[] = [];

  after(async () => {
    for (const child of children) {
      child.kill('SIGKILL');
      await exited(child);
    }
    for (const pid of convertersIn(dataDir)) process.kill(pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    await removeClips();
  });

  it('finishes a conversion interrupted by kill -9', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'reelchat-restart-'));
    // Transcoded (VP8 → H.264) and long enough to be caught in the middle.
    const source = await makeClip('webm-vp8', 20, '640x360');
    const token = await signToken(SECRET, { user: 'alice', name: 'Alice', conversations: ['c1'] });

    const first = await startChild(dataDir);
    children.push(first.process);
    const id = await uploadBytes(first.url, token, await readFile(source), {
      conversation: 'c1',
      clientId: 'long-clip',
      filetype: 'video/webm',
    });
    // Kill while the conversion is writing its temporary folder.
    const media = join(dataDir, 'media');
    await waitFor(
      () => (readdirSync(media).some((name) => name.startsWith('.')) ? true : undefined),
      'the conversion to start',
      60_000,
    );
    first.process.kill('SIGKILL');
    await exited(first.process);
    const state = await readVideoState(dataDir, id);
    assert.equal(state, 'processing');
    for (const pid of convertersIn(dataDir)) process.kill(pid, 'SIGKILL');

    const second = await startChild(dataDir);
    children.push(second.process);
    const video = await waitFor(
      async () => {
        const response = await fetch(`${second.url}/v1/conversations/c1/videos/${id}`, {
          headers: auth(token),
        });
        const body = await json<{ state: string; duration: number; playlist: string }>(response);
        return body.state === 'processing' ? undefined : body;
      },
      'the video after restart',
      120_000,
    );
    assert.equal(video.state, 'ready');
    const expected = await probeDuration(source);
    assert.ok(Math.abs(video.duration - expected) < 0.2, `${video.duration} vs ${expected}`);
    assert.ok(Math.abs((await probeDuration(second.url + video.playlist)) - expected) < 0.2);
    assert.equal(existsSync(join(dataDir, 'uploads', id)), false);

    second.process.kill('SIGTERM');
    await exited(second.process);
    assert.equal(second.process.exitCode, 0);
  });
});

async function readVideoState(dataDir: string, id: string): Promise<string> {
  const db = await openTestDatabase(dataDir);
  try {
    const [row] = await db.query<{ state: string }>('SELECT state FROM videos WHERE id = ?', id);
    return row!.state;
  } finally {
    await db.close();
  }
}
