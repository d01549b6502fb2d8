// The job queue shared by workers in scaled mode (PgJobs) against a real PostgreSQL
// (REELCHAT_TEST_DATABASE_URL, e.g. from scripts/services.mjs): fairness across two workers,
// leases that lapse and are taken over, a stopping worker's hand-back, live leases. Without
// the variable this FAILS: it never passes untested.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgStore } from '../store/postgres.js';
import { PgJobs } from '../store/postgres-jobs.js';
import { LIVE_MIGRATIONS, PgLiveLeases } from '../store/postgres-live.js';
import { freshDatabases } from './pg-test-database.js';

describe('the job queue in scaled mode (PostgreSQL)', { timeout: 120_000 }, () => {
  const fresh = freshDatabases('reelchat_jobs');

  it('jobs: two workers with perOwner 1 never run two of one owner; a lapsed lease is taken over', async () => {
    const database = await fresh();
    const store = await PgStore.open(await database.connect());
    const leaseMs = 1_500;
    const [first, second] = [
      new PgJobs(await database.connect(), { leaseMs }),
      new PgJobs(await database.connect(), { leaseMs }),
    ];
    const upload = async (owner: string, id: string) => {
      const createdAt = new Date().toISOString();
      await store.createUpload({
        id,
        owner,
        conversation: 'c1',
        clientId: id,
        filetype: 'video/mp4',
        createdAt,
      });
      await store.completeUpload(id, 1000);
      await sleep(5); // distinct run_at: the oldest due job goes first
    };
    await upload('alice', 'a1');
    await upload('alice', 'a2');
    await upload('bob', 'b1');
    const owners: Record<string, string> = { a1: 'alice', a2: 'alice', b1: 'bob' };

    const one = await first.claim(Date.now(), 1);
    const two = await second.claim(Date.now(), 1);
    assert.deepEqual(one, { videoId: 'a1', attempts: 1 });
    assert.deepEqual(two, { videoId: 'b1', attempts: 1 });
    assert.equal(await first.claim(Date.now(), 1), undefined, 'alice has one running already');
    assert.equal(await second.claim(Date.now(), 1), undefined);

    // A third worker starting now leaves the running jobs alone (their leases are current).
    await new PgJobs(await database.connect(), { leaseMs }).recover();
    const inspect = await database.connect();
    const running = await inspect.query<{ video_id: string }>(
      "SELECT video_id FROM jobs WHERE state = 'running' ORDER BY video_id",
    );
    assert.deepEqual(
      running.map((row) => row.video_id),
      ['a1', 'b1'],
    );

    // The first worker dies (no more heartbeats); the second keeps b1 alive.
    const beats = setInterval(() => void second.heartbeat(['b1']), 300);
    try {
      const due = await first.nextDue(Date.now());
      assert.ok(
        due !== undefined && due <= Date.now() + leaseMs,
        'the lease end is a wake-up time',
      );
      await sleep(leaseMs + 300);
      const takenOver = await second.claim(Date.now(), 1);
      assert.deepEqual(takenOver, { videoId: 'a1', attempts: 2 });
      // The dead worker's beat, had it one left, no longer renews what is now the other's.
      await first.heartbeat(['a1']);
      const [lease] = await inspect.query<{ lease_owner: string }>(
        "SELECT lease_owner FROM jobs WHERE video_id = 'a1'",
      );
      assert.equal(lease?.lease_owner, second.owner);
      assert.equal(await first.claim(Date.now(), 1), undefined, 'b1 kept alive, a1 taken over');
    } finally {
      clearInterval(beats);
    }

    // The video becomes ready once, whoever records it.
    const meta = {
      duration: 1,
      width: 2,
      height: 2,
      bytes: 10,
      sha256: null,
      videoCodec: 'h264',
      audioCodec: null,
    };
    const outcomes = await Promise.all([
      store.markVideoReady('a1', meta),
      store.markVideoReady('a1', meta),
    ]);
    assert.equal(outcomes.filter(Boolean).length, 1);

    // Many claims at once from both workers: never two running of one owner.
    for (const owner of ['carol', 'dave', 'erin']) {
      for (let i = 0; i < 3; i++) await upload(owner, `${owner}${i}`);
      for (let i = 0; i < 3; i++) owners[`${owner}${i}`] = owner;
    }
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? first : second).claim(Date.now(), 1)),
    );
    const claimed = claims.filter((job) => job !== undefined).map((job) => owners[job.videoId]!);
    // bob's b1 still runs; each other owner gets one, alice her a2.
    assert.deepEqual(claimed.sort(), ['alice', 'carol', 'dave', 'erin'], claimed.join(', '));
  });

  it('jobs: a stopping worker hands its running job back, due at once, the attempt not counted', async () => {
    const database = await fresh();
    const store = await PgStore.open(await database.connect());
    const [first, second] = [
      new PgJobs(await database.connect(), { leaseMs: 60_000 }),
      new PgJobs(await database.connect(), { leaseMs: 60_000 }),
    ];
    await store.createUpload({
      id: 'v1',
      owner: 'alice',
      conversation: 'c1',
      clientId: 'v1',
      filetype: 'video/mp4',
      createdAt: new Date().toISOString(),
    });
    await store.completeUpload('v1', 1000);
    assert.deepEqual(await first.claim(Date.now(), 1), { videoId: 'v1', attempts: 1 });
    assert.equal(await second.claim(Date.now(), 1), undefined, 'leased to the first');
    await second.release(['v1']); // not the second's: left alone
    assert.equal(await second.claim(Date.now(), 1), undefined);
    await first.release(['v1']);
    assert.deepEqual(await second.claim(Date.now(), 1), { videoId: 'v1', attempts: 1 });
    await first.release(['v1']); // the second's now
    assert.equal(await first.claim(Date.now(), 1), undefined);
  });

  it('jobs: a video being converted live is not claimed while its live lease holds', async () => {
    const database = await fresh();
    const db = await database.connect();
    const store = await PgStore.open(db);
    await db.migrate(LIVE_MIGRATIONS);
    const jobs = new PgJobs(db, { leaseMs: 5_000, liveLeases: true });
    const createdAt = new Date().toISOString();
    await store.createUpload({
      id: 'v1',
      owner: 'alice',
      conversation: 'c1',
      clientId: 'v1',
      filetype: 'video/webm',
      createdAt,
    });
    const leases = new PgLiveLeases(db, 'worker-a');
    assert.equal(await leases.take('v1', 600), true);
    await store.completeUpload('v1', 1000);
    assert.equal(await jobs.claim(Date.now(), 1), undefined);
    const wake = await jobs.nextDue(Date.now());
    assert.ok(
      wake !== undefined && wake <= Date.now() + 600,
      'the live lease end wakes the worker',
    );
    await sleep(700);
    assert.deepEqual(await jobs.claim(Date.now(), 1), { videoId: 'v1', attempts: 1 });
  });
});
