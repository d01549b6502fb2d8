// The three faults of bench/storage-faults.mjs. The server's test modules are imported when a
// case runs: they read the services' environment, which the entry sets first.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const KB = 1024;
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
/** What a client waits after a refusal: Retry-After, at most 5 s (or 250 ms when none). */
const retryWait = (response) => {
  const asked = Number(response?.headers.get('retry-after'));
  return asked > 0 ? Math.min(asked, 5) * 1000 : 250;
};
const countOf = (statuses, status) => statuses.get(status) ?? 0;
const describeStatuses = (statuses) =>
  [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([status, n]) => `${status === 0 ? 'no answer' : status}×${n}`)
    .join(', ');

export async function bucketFaults(outageSeconds) {
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
      outageMs: outageSeconds * 1000,
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
  }
}

export async function postgresRestart() {
  const { startCluster } = await import('../server/test/cluster.ts');
  const { removeClips } = await import('../server/test/helpers.ts');
  const { postgresControl } = await import('../server/test/postgres-process.ts');
  const { RESTART_CLUSTER, RESTART_LOAD, runRestartWorkload, settledVideo } =
    await import('../server/test/pg-restart-workload.ts');

  const load = RESTART_LOAD;
  const cluster = await startCluster(RESTART_CLUSTER);
  const postgres = postgresControl(cluster.databaseUrl);
  const guard = { postgresDown: false };
  try {
    const { tally, streams, uploads, restartedAt } = await runRestartWorkload(
      cluster,
      postgres,
      load,
      guard,
    );
    const sent = Date.now() - restartedAt;
    let intact = 0;
    for (const { id, bytes, token } of uploads) {
      const video = await settledVideo(cluster, id, token);
      if (video.state === 'ready' && video.sha256 === sha256(bytes)) intact++;
    }
    const ready = Date.now() - restartedAt;
    await sleep(1000); // the last events reach both streams
    await Promise.all(streams.map((stream) => stream.close()));
    const answered = [...tally.statuses].reduce((sum, [, n]) => sum + n, 0);
    const refused =
      answered -
      [...tally.statuses].filter(([s]) => s > 0 && s < 300).reduce((sum, [, n]) => sum + n, 0);
    console.log(
      `postgres stopped ${load.outageMs / 1000} s: ${answered} answers (${describeStatuses(tally.statuses)}); ` +
        `${refused} refused or unanswered and retried, ${countOf(tally.statuses, 500)} × 500; ` +
        `first success ${seconds(tally.firstSuccessAfter)} after the restart; ` +
        `every upload sent ${seconds(sent)} and every video settled ${seconds(ready)} after it, ` +
        `${intact}/${uploads.length} ready and byte-identical; ` +
        `streams: ${streams.map((s) => `${new Set(s.events.map((e) => e.id)).size}/${s.events.length} events unique, ${s.reconnects} reconnects`).join('; ')}; ` +
        `processes running: ${[...cluster.apis, ...cluster.workers].filter((p) => p.running()).length}/${cluster.apis.length + cluster.workers.length}`,
    );
  } finally {
    if (guard.postgresDown) await postgres.start();
    await cluster.stop();
    await removeClips();
  }
}

export async function diskFull(outageSeconds) {
  const { mountSmallDisk } = await import('../server/test/small-disk.ts');
  const helpers = await import('../server/test/helpers.ts');
  const { signToken } = await import('../server/auth/tokens.ts');
  const { auth, createUpload, headUpload, makeClip, patchUpload } = helpers;

  const reserve = 128 * KB;
  const disk = await mountSmallDisk(64);
  const server = await helpers.startChildServer({
    REELCHAT_DATA_DIR: join(disk.path, 'data'),
    REELCHAT_DATABASE_URL: '',
    REELCHAT_DISK_RESERVE_BYTES: String(reserve),
    REELCHAT_RATE_MESSAGES_PER_MINUTE: '0',
  });
  const statuses = new Map();
  const count = (response) => {
    const status = response?.status ?? 0;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  };
  let freedAt;
  let firstTakenAfter;
  const taken = () => {
    if (freedAt !== undefined && firstTakenAfter === undefined)
      firstTakenAfter = Date.now() - freedAt;
  };
  try {
    const token = await signToken(helpers.SECRET, {
      user: 'alice',
      name: 'Alice',
      conversations: ['c1'],
    });
    const files = await Promise.all(
      [
        makeClip('mp4', 6, '640x480'),
        makeClip('mp4', 10, '1280x720'),
        makeClip('webm-vp8', 6, '640x480'),
      ].map(async (path) => readFile(await path)),
    );
    /** A tus client: 32 KB every 200 ms from HEAD's offset, waiting as asked after a refusal. */
    const upload = async (bytes, n) => {
      const created = await createUpload(
        server.url,
        token,
        { conversation: 'c1', clientId: `disk-${n}`, filetype: 'video/mp4' },
        bytes.length,
      );
      count(created);
      const id = created.headers.get('location').split('/').pop();
      for (;;) {
        const head = await headUpload(server.url, token, id);
        const offset = Number(head.headers.get('upload-offset'));
        if (offset >= bytes.length) return { id, bytes, completedAt: Date.now() };
        const response = await patchUpload(
          server.url,
          token,
          id,
          offset,
          bytes.subarray(offset, offset + 32 * KB),
        ).catch(() => undefined);
        count(response);
        await response?.arrayBuffer();
        if (response?.status === 204) taken();
        await sleep(response?.status === 204 ? 200 : retryWait(response));
      }
    };
    /** A member's 40 messages, one every 250 ms, each retried with its clientId until taken. */
    const messages = async () => {
      for (let i = 0; i < 40; i++) {
        for (;;) {
          const response = await fetch(`${server.url}/v1/conversations/c1/messages`, {
            method: 'POST',
            headers: auth(token, { 'Content-Type': 'application/json' }),
            body: JSON.stringify({ clientId: `disk-msg-${i}`, text: `message ${i}` }),
          }).catch(() => undefined);
          count(response);
          await response?.arrayBuffer();
          if (response?.status === 201 || response?.status === 200) break;
          await sleep(retryWait(response));
        }
        await sleep(250);
      }
    };
    const fault = (async () => {
      await sleep(1000);
      await disk.fill(reserve + 32 * KB);
      await sleep(outageSeconds * 1000);
      await disk.freeUp();
      freedAt = Date.now();
    })();
    const [uploads] = await Promise.all([Promise.all(files.map(upload)), messages(), fault]);
    const settled = [];
    for (const { id, bytes } of uploads) {
      const video = await helpers.waitFor(async () => {
        const body = await helpers.json(
          await fetch(`${server.url}/v1/conversations/c1/videos/${id}`, { headers: auth(token) }),
        );
        return body.state === 'processing' ? undefined : body;
      }, `video ${id} to settle`);
      settled.push(video.state === 'ready' && video.sha256 === sha256(bytes));
    }
    const readyAfter = Date.now() - freedAt;
    const completedAfter = Math.max(...uploads.map((u) => u.completedAt)) - freedAt;
    console.log(
      `disk full ${outageSeconds} s: ${describeStatuses(statuses)}; ${countOf(statuses, 507)} × 507 and ` +
        `${countOf(statuses, 503)} × 503 retried, ${countOf(statuses, 500)} × 500; first upload byte taken ` +
        `${seconds(firstTakenAfter ?? NaN)} after the space was freed (clients wait Retry-After, at most 5 s); every upload complete ` +
        `${seconds(completedAfter)} and every video settled ${seconds(readyAfter)} after; ` +
        `${settled.filter(Boolean).length}/${settled.length} ready and byte-identical; server running: ${server.running()}`,
    );
  } finally {
    await server.stop();
    await disk.remove();
    await helpers.removeClips();
  }
}
