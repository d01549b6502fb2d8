// The SQLite job queue: fair across owners (at most `perOwner` running each, owners served
// in turn), and writes that wait for another connection's lock without blocking the loop.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../store/sqlite.js';

const META = {
  duration: 1,
  width: 2,
  height: 2,
  bytes: 3,
  sha256: null,
  videoCodec: 'h264',
  audioCodec: null,
};

describe('SqliteStore as a job queue', () => {
  let dir: string;
  let store: SqliteStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reelchat-queue-'));
    store = new SqliteStore(join(dir, 'reelchat.db'), () => undefined, { busyWaitMs: 3000 });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A complete upload of `owner`, so a queued job (ties in run_at go in insertion order). */
  async function queued(id: string, owner: string): Promise<void> {
    await store.createUpload({
      id,
      owner,
      conversation: 'c1',
      clientId: `client-${id}`,
      filetype: 'video/webm',
      createdAt: new Date().toISOString(),
    });
    await store.completeUpload(id, 10);
  }

  const claim = async (perOwner = 1) =>
    (await store.jobs.claim(Date.now() + 60_000, perOwner))?.videoId;

  it('runs one job per owner while another owner’s waits', async () => {
    await queued('a1', 'alice');
    await queued('a2', 'alice');
    await queued('b1', 'bob');
    assert.equal(await claim(), 'a1');
    assert.equal(await claim(), 'b1', 'bob does not wait behind alice’s second clip');
    assert.equal(await claim(), undefined, 'alice already has one running');
    await store.markVideoReady('a1', META);
    assert.equal(await claim(), 'a2');
  });

  it('serves owners in turn: one who has not had a turn goes first', async () => {
    await queued('a1', 'alice');
    await queued('a2', 'alice');
    await queued('a3', 'alice');
    await queued('b1', 'bob');
    assert.equal(await claim(), 'a1');
    await store.markVideoReady('a1', META);
    // With one slot, a plain oldest-first queue would run a2 and a3 before bob's clip.
    assert.equal(await claim(), 'b1');
    await store.markVideoReady('b1', META);
    assert.equal(await claim(), 'a2');
  });

  it('lets an owner run more at once when allowed', async () => {
    await queued('a1', 'alice');
    await queued('a2', 'alice');
    assert.equal(await claim(2), 'a1');
    assert.equal(await claim(2), 'a2');
  });

  it('takes back a stopped worker’s running jobs, due now and the attempt not counted', async () => {
    await queued('a1', 'alice');
    await queued('b1', 'bob');
    assert.deepEqual(await store.jobs.claim(Date.now(), 1), { videoId: 'a1', attempts: 1 });
    await store.jobs.release(['a1', 'b1']); // b1 is queued, not running: left as it is
    assert.equal(await claim(), 'b1', 'bob, who has not had a turn, goes first');
    assert.deepEqual(await store.jobs.claim(Date.now(), 1), { videoId: 'a1', attempts: 1 });
  });

  it('nextDue names only jobs due later (due ones wait for a running job to end)', async () => {
    await queued('a1', 'alice');
    await queued('a2', 'alice');
    const now = Date.now() + 60_000;
    assert.equal(await claim(), 'a1');
    assert.equal(await store.jobs.nextDue(now), undefined, 'a2 is due already: no timer needed');
    await store.jobs.retry('a1', now + 5000, 'later');
    assert.equal(await store.jobs.nextDue(now), now + 5000);
  });

  it('a write waits for another connection’s lock without blocking the event loop', async () => {
    await queued('a1', 'alice');
    const other = new Database(join(dir, 'reelchat.db'));
    const loop = monitorEventLoopDelay({ resolution: 10 });
    try {
      other.exec('BEGIN IMMEDIATE');
      loop.enable();
      const writing = store.jobs.claim(Date.now(), 1);
      let settled = false;
      void writing.finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(settled, false, 'the write waits while the lock is held');
      other.exec('COMMIT');
      assert.equal((await writing)?.videoId, 'a1');
      loop.disable();
      assert.ok(loop.max / 1e6 < 200, `the loop was blocked for ${loop.max / 1e6} ms`);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });

  it('a write fails with SQLITE_BUSY once it has waited its time', async () => {
    const other = new Database(join(dir, 'reelchat.db'));
    try {
      other.exec('BEGIN IMMEDIATE');
      const started = Date.now();
      await assert.rejects(store.touchMember('alice', 'Alice', 'c1'), { code: 'SQLITE_BUSY' });
      const waited = Date.now() - started;
      assert.ok(waited >= 2900 && waited < 4000, `waited ${waited} ms`);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });
});
