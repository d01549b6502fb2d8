// The bucket unavailable in scaled mode (issue 26), measured: for each fault — 503 SlowDown,
// refused connections, no answer (a fault proxy in front of Swift's S3 endpoint) and Swift's
// own proxy process stopped — 3 clips convert and an earlier clip is read twice a second
// while the bucket is away for `seconds`; prints the reads refused, the slowest, what the
// bucket's side saw, and when each clip was ready after the outage ended.
//   node --import tsx bench/storage-faults.mjs [seconds=30]
// It starts its own PostgreSQL and Swift (scripts/services.mjs).
import { readFile } from 'node:fs/promises';
import { startServices } from '../scripts/services.mjs';

const [SECONDS = 30] = process.argv.slice(2).map(Number);
if (!Number.isFinite(SECONDS) || SECONDS <= 0) {
  console.error('usage: node --import tsx bench/storage-faults.mjs [seconds=30]');
  process.exit(2);
}
const services = await startServices();
Object.assign(process.env, services.env);
const { startCluster, servicesEnv } = await import('../server/test/cluster.ts');
const { makeClip, waitFor } = await import('../server/test/helpers.ts');
const { startBucketFaultProxy } = await import('../server/test/bucket-fault-proxy.ts');
const { describeOutage, measureOutage, uploadClip, videoState } =
  await import('../server/test/bucket-outage.ts');
const { swiftProxyGroup } = await import('../server/test/swift-proxy-process.ts');

const endpoint = servicesEnv().s3.REELCHAT_S3_ENDPOINT;
const proxy = await startBucketFaultProxy(endpoint);
const cluster = await startCluster({
  apis: 1,
  workers: 1,
  env: { REELCHAT_S3_ENDPOINT: proxy.url, REELCHAT_CONVERT_CONCURRENCY: '3' },
});
try {
  const token = await cluster.token('ana', ['c1']);
  const clip = new Uint8Array(await readFile(await makeClip('webm-vp8', 2)));
  const earlier = await uploadClip(cluster.url, token, clip, 'earlier');
  await waitFor(
    async () => ((await videoState(cluster.url, token, earlier)) === 'ready' ? true : undefined),
    'the earlier clip to be ready',
  );
  const setup = {
    cluster,
    proxy,
    token,
    clip,
    earlier,
    outageMs: SECONDS * 1000,
    giveUpMs: 120_000,
  };
  for (const fault of ['slowdown', 'refuse', 'hang']) {
    const figures = await measureOutage(
      setup,
      fault,
      () => proxy.setMode(fault),
      () => proxy.setMode('pass'),
    );
    console.log(describeOutage(figures));
  }
  const group = swiftProxyGroup(Number(new URL(endpoint).port));
  const stopped = await measureOutage(
    setup,
    'swift-stopped',
    async () => void process.kill(-group, 'SIGSTOP'),
    async () => void process.kill(-group, 'SIGCONT'),
  );
  console.log(describeOutage(stopped));
} finally {
  await cluster.stop();
  await proxy.close();
  await services.stop();
}
