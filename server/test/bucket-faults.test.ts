// The bucket unavailable for 30 s in scaled mode (issue 26): one api instance and one worker
// reach Swift's S3 endpoint through a fault proxy that answers 503 SlowDown, refuses
// connections, or hangs. Meanwhile 3 clips upload and convert and an earlier video's media is
// read (server/test/bucket-outage.ts). Held: no process exits, media reads answer 503 with
// Retry-After (never 500), every clip is ready within 5 s of the outage's end — the clips
// converted during it, while the jobs that waited to publish held no slot (jobs/worker.ts). The
// same with Swift's own proxy process stopped (SIGSTOP, then SIGCONT). Needs the services
// (scripts/with-services.mjs).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startBucketFaultProxy, type BucketFault } from './bucket-fault-proxy.js';
import { describeOutage, measureOutage, uploadClip, videoState } from './bucket-outage.js';
import type { OutageFigures, OutageSetup } from './bucket-outage.js';
import { servicesEnv, startCluster } from './cluster.js';
import { makeClip, waitFor } from './helpers.js';
import { swiftProxyGroup } from './swift-proxy-process.js';

const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 30_000);
const RECOVERY_LIMIT_MS = 5_000;

function check(figures: OutageFigures, workerOutput: string): void {
  console.log(`# ${describeOutage(figures)}`);
  assert.deepEqual(figures.exited, [], 'an instance exited');
  assert.ok(figures.during.length > 0);
  assert.ok(
    figures.during.every((status) => status === 503),
    `statuses during: ${figures.during.join(',')}`,
  );
  assert.equal(figures.retryAfterMissing, 0);
  assert.equal(figures.readAfter, 200);
  // Still ready: the bucket is named as degraded, the instance stays in the pool.
  assert.deepEqual(figures.readyDuring, { status: 200, degraded: ['bucket'] });
  // Every 503 read is counted in /metrics (some may have come from the other instance's).
  assert.ok(figures.retries.tryLater503 >= figures.during.length, describeOutage(figures));
  const log = workerOutput.split('\n').slice(-60).join('\n');
  for (const ms of figures.readyAfterMs) {
    assert.ok(ms <= RECOVERY_LIMIT_MS, `ready ${ms} ms after; the worker said:\n${log}`);
  }
}

describe('scaled mode: the bucket unavailable for 30 s', () => {
  let setup: OutageSetup;

  before(async () => {
    const proxy = await startBucketFaultProxy(servicesEnv().s3.REELCHAT_S3_ENDPOINT!);
    const cluster = await startCluster({
      apis: 1,
      workers: 1,
      env: { REELCHAT_S3_ENDPOINT: proxy.url, REELCHAT_CONVERT_CONCURRENCY: '3' },
    });
    const token = await cluster.token('ana', ['c1']);
    const clip = new Uint8Array(await readFile(await makeClip('webm-vp8', 2)));
    const earlier = await uploadClip(cluster.url, token, clip, 'earlier');
    setup = { cluster, proxy, token, clip, earlier, outageMs: OUTAGE_MS, giveUpMs: 15_000 };
    await waitFor(
      async () => ((await videoState(cluster.url, token, earlier)) === 'ready' ? true : undefined),
      'the earlier clip to be ready',
      60_000,
    );
  });
  after(async () => {
    await setup?.cluster.stop();
    await setup?.proxy.close();
  });

  const faults = process.env.FAULTS?.split(',') ?? ['slowdown', 'refuse', 'hang', 'swift-stopped'];
  for (const fault of faults.filter((name) => name !== 'swift-stopped') as BucketFault[]) {
    it(`${fault}: reads answer 503 + Retry-After, clips are ready within 5 s of the end`, async () => {
      const figures = await measureOutage(
        setup,
        fault,
        () => setup.proxy.setMode(fault),
        () => setup.proxy.setMode('pass'),
      );
      check(figures, setup.cluster.workers[0]!.output());
    });
  }

  if (faults.includes('swift-stopped')) {
    it("Swift's proxy process stopped (SIGSTOP) for 30 s: the same", async () => {
      const group = swiftProxyGroup(Number(new URL(servicesEnv().s3.REELCHAT_S3_ENDPOINT!).port));
      const figures = await measureOutage(
        setup,
        'swift-stopped',
        async () => void process.kill(-group, 'SIGSTOP'),
        async () => void process.kill(-group, 'SIGCONT'),
      );
      check(figures, setup.cluster.workers[0]!.output());
    });
  }
});
