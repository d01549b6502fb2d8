// The bucket unavailable for 30 s in scaled mode (issue 26): one api instance and one worker
// reach Swift's S3 endpoint through a fault proxy that answers 503 SlowDown, refuses
// connections, or hangs. Meanwhile 3 clips upload and convert and an earlier video's media is
// read. Held: no process exits, media reads answer 503 with Retry-After (never 500), every
// clip is ready within 5 s of the outage's end. The same with Swift's own proxy process
// stopped (SIGSTOP, then SIGCONT). Needs the services (scripts/with-services.mjs).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import {
  startBucketFaultProxy,
  type BucketFault,
  type BucketFaultProxy,
} from './bucket-fault-proxy.js';
import { servicesEnv, startCluster, type Cluster } from './cluster.js';
import { auth, json, makeClip, uploadBytes, waitFor } from './helpers.js';
import { swiftProxyGroup } from './swift-proxy-process.js';

const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 30_000);
const RECOVERY_LIMIT_MS = 5_000;

async function videoState(base: string, token: string, id: string): Promise<string> {
  const response = await fetch(`${base}/v1/conversations/c1/videos/${id}`, {
    headers: auth(token),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await json<{ state: string }>(response)).state;
}

async function upload(base: string, token: string, clip: Uint8Array, clientId: string) {
  return uploadBytes(base, token, clip, { conversation: 'c1', clientId, filetype: 'video/webm' });
}

describe('scaled mode: the bucket unavailable for 30 s', () => {
  let proxy: BucketFaultProxy;
  let cluster: Cluster;
  let token: string;
  let clip: Uint8Array;
  let earlier: string;

  before(async () => {
    proxy = await startBucketFaultProxy(servicesEnv().s3.REELCHAT_S3_ENDPOINT!);
    cluster = await startCluster({
      apis: 1,
      workers: 1,
      env: { REELCHAT_S3_ENDPOINT: proxy.url, REELCHAT_CONVERT_CONCURRENCY: '3' },
    });
    token = await cluster.token('ana', ['c1']);
    clip = new Uint8Array(await readFile(await makeClip('webm-vp8', 2)));
    earlier = await upload(cluster.url, token, clip, 'earlier');
    await waitFor(
      async () => ((await videoState(cluster.url, token, earlier)) === 'ready' ? true : undefined),
      'the earlier clip to be ready',
      60_000,
    );
  });
  after(async () => {
    await cluster?.stop();
    await proxy?.close();
  });

  /**
   * `begin()` makes the bucket unavailable for 30 s, `end()` brings it back; meanwhile 3 clips
   * upload and the earlier clip is read twice a second. Returns the figures it printed.
   */
  async function outage(label: string, begin: () => Promise<void>, end: () => Promise<void>) {
    const reads = new Map<number, number>();
    let retryAfterMissing = 0;
    let slowestMs = 0;
    const read = async (file: string) => {
      const started = Date.now();
      const response = await fetch(`${cluster.url}/media/${earlier}/${file}`, {
        headers: auth(token),
      });
      await response.arrayBuffer();
      reads.set(response.status, (reads.get(response.status) ?? 0) + 1);
      if (response.status === 503 && !response.headers.get('retry-after')) retryAfterMissing++;
      slowestMs = Math.max(slowestMs, Date.now() - started);
      return response.status;
    };
    assert.equal(await read('index.m3u8'), 200);

    const [slowdownsBefore, hungBefore] = [proxy.slowdowns, proxy.hung];
    await begin();
    const outageEnds = Date.now() + OUTAGE_MS;
    const during: number[] = [];
    let ended: number;
    let slowestDuringMs: number;
    let ids: string[];
    try {
      ids = await Promise.all(
        [0, 1, 2].map((n) => upload(cluster.url, token, clip, `${label}-${n}`)),
      );
      slowestMs = 0;
      while (Date.now() < outageEnds - 1_000) {
        during.push(...(await Promise.all([read('index.m3u8'), read('init.mp4')])));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      while (Date.now() < outageEnds) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await end();
      ended = Date.now();
      slowestDuringMs = slowestMs;
    }

    const readyAfter = await Promise.all(
      ids.map((id) =>
        waitFor(
          async () =>
            (await videoState(cluster.url, token, id)) === 'ready' ? Date.now() : undefined,
          `${id} ready after the outage`,
          RECOVERY_LIMIT_MS + 10_000,
        ).then((at) => at - ended),
      ),
    );
    assert.equal(await read('index.m3u8'), 200);
    console.log(
      `# ${label}: ${during.length} reads during the outage (${[...reads].map(([s, n]) => `${n}×${s}`).join(', ')}), ` +
        `the slowest ${slowestDuringMs} ms; bucket requests answered 503: ` +
        `${proxy.slowdowns - slowdownsBefore}, connections held: ${proxy.hung - hungBefore}; ` +
        `clips ready ${readyAfter.map((ms) => `${ms} ms`).join(', ')} after it ended`,
    );
    assert.ok(during.length > 0);
    assert.ok(
      during.every((status) => status === 503),
      `statuses during: ${during.join(',')}`,
    );
    assert.equal(reads.get(500), undefined);
    assert.equal(retryAfterMissing, 0);
    const log = cluster.workers[0]!.output().split('\n').slice(-60).join('\n');
    for (const ms of readyAfter) {
      assert.ok(ms <= RECOVERY_LIMIT_MS, `ready ${ms} ms after; the worker said:\n${log}`);
    }
    for (const instance of [...cluster.apis, ...cluster.workers]) {
      assert.ok(instance.running(), `an instance exited:\n${instance.output()}`);
    }
  }

  const faults = process.env.FAULTS?.split(',') ?? ['slowdown', 'refuse', 'hang', 'swift-stopped'];
  for (const fault of faults.filter((name) => name !== 'swift-stopped') as BucketFault[]) {
    it(`${fault}: reads answer 503 + Retry-After, clips are ready within 5 s of the end`, () =>
      outage(
        fault,
        () => proxy.setMode(fault),
        () => proxy.setMode('pass'),
      ));
  }

  if (faults.includes('swift-stopped')) {
    it("Swift's proxy process stopped (SIGSTOP) for 30 s: the same", async () => {
      const group = swiftProxyGroup(Number(new URL(servicesEnv().s3.REELCHAT_S3_ENDPOINT!).port));
      await outage(
        'swift-stopped',
        async () => void process.kill(-group, 'SIGSTOP'),
        async () => void process.kill(-group, 'SIGCONT'),
      );
    });
  }
});
