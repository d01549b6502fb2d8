// One bucket outage in scaled mode, measured (server/test/bucket-faults.test.ts asserts on it,
// bench/storage-faults.mjs prints it): `begin()` makes the bucket unavailable for `outageMs`,
// `end()` brings it back; meanwhile 3 clips upload and convert and an earlier clip's playlist
// and init segment are read twice a second.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BucketFaultProxy } from './bucket-fault-proxy.js';
import type { Cluster } from './cluster.js';
import { auth, json, uploadBytes, waitFor } from './helpers.js';

export interface OutageSetup {
  cluster: Cluster;
  proxy: BucketFaultProxy;
  token: string;
  clip: Uint8Array;
  /** A ready video whose media is read during the outage. */
  earlier: string;
  outageMs: number;
  /** How long after the outage to wait for the clips before giving up. */
  giveUpMs: number;
}

export interface OutageFigures {
  label: string;
  /** Statuses of the media reads made during the outage. */
  during: number[];
  /** 503 answers without Retry-After, during or after. */
  retryAfterMissing: number;
  slowestReadMs: number;
  /** Requests the fault proxy answered 503, connections it held. */
  slowdowns: number;
  held: number;
  /** Per clip: ms from the outage's end to the clip being ready. */
  readyAfterMs: number[];
  /** The status of a read after the clips were ready. */
  readAfter: number;
  /** Instances that exited. */
  exited: string[];
  /** /readyz of an api instance during the outage: its status and what it called degraded. */
  readyDuring: { status: number; degraded: string[] };
  /** From /metrics after it: 503s the api instances gave, the worker's retries and waits. */
  retries: { tryLater503: number; putRetries: number; waits: number };
}

/** A counter's value in an instance's /metrics (0 when absent). */
async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

async function retryCounts(cluster: Cluster): Promise<OutageFigures['retries']> {
  const worker = cluster.workers[0]!.url;
  const given = await Promise.all(
    cluster.apis.map((api) => counter(api.url, 'reelchat_http_try_later_total{status="503"}')),
  );
  return {
    tryLater503: given.reduce((sum, n) => sum + n, 0),
    putRetries: await counter(worker, 'reelchat_storage_put_retries_total'),
    waits: await counter(worker, 'reelchat_storage_waits_total'),
  };
}

export async function videoState(base: string, token: string, id: string): Promise<string> {
  const response = await fetch(`${base}/v1/conversations/c1/videos/${id}`, {
    headers: auth(token),
  });
  if (response.status !== 200) throw new Error(`video ${id}: ${response.status}`);
  return (await json<{ state: string }>(response)).state;
}

export function uploadClip(base: string, token: string, clip: Uint8Array, clientId: string) {
  return uploadBytes(base, token, clip, { conversation: 'c1', clientId, filetype: 'video/webm' });
}

export async function measureOutage(
  setup: OutageSetup,
  label: string,
  begin: () => Promise<void>,
  end: () => Promise<void>,
): Promise<OutageFigures> {
  const { cluster, proxy, token, clip, earlier } = setup;
  let retryAfterMissing = 0;
  let slowestReadMs = 0;
  const read = async (file: string) => {
    const started = Date.now();
    const response = await fetch(`${cluster.url}/media/${earlier}/${file}`, {
      headers: auth(token),
    });
    await response.arrayBuffer();
    if (response.status === 503 && !response.headers.get('retry-after')) retryAfterMissing++;
    slowestReadMs = Math.max(slowestReadMs, Date.now() - started);
    return response.status;
  };
  const readBefore = await read('index.m3u8');
  if (readBefore !== 200) throw new Error(`A read before the outage answered ${readBefore}`);

  const [slowdownsBefore, heldBefore] = [proxy.slowdowns, proxy.hung];
  const retriesBefore = await retryCounts(cluster);
  let readyDuring = { status: 0, degraded: [] as string[] };
  await begin();
  const outageEnds = Date.now() + setup.outageMs;
  const during: number[] = [];
  let ids: string[];
  let ended: number;
  try {
    ids = await Promise.all(
      [0, 1, 2].map((n) => uploadClip(cluster.url, token, clip, `${label}-${n}`)),
    );
    slowestReadMs = 0;
    const readyz = await fetch(`${cluster.apis[0]!.url}/readyz`);
    const body = await json<{ degraded?: string[] }>(readyz);
    readyDuring = { status: readyz.status, degraded: body.degraded ?? [] };
    while (Date.now() < outageEnds - 1_000) {
      during.push(...(await Promise.all([read('index.m3u8'), read('init.mp4')])));
      await sleep(500);
    }
    while (Date.now() < outageEnds) await sleep(50);
  } finally {
    await end();
    ended = Date.now();
  }
  const slowestDuring = slowestReadMs;
  const readyAfterMs = await Promise.all(
    ids.map((id) =>
      waitFor(
        async () =>
          (await videoState(cluster.url, token, id)) === 'ready' ? Date.now() : undefined,
        `${id} ready after the outage`,
        setup.giveUpMs,
      ).then((at) => at - ended),
    ),
  );
  const retriesAfter = await retryCounts(cluster);
  return {
    label,
    during,
    readyDuring,
    retries: {
      tryLater503: retriesAfter.tryLater503 - retriesBefore.tryLater503,
      putRetries: retriesAfter.putRetries - retriesBefore.putRetries,
      waits: retriesAfter.waits - retriesBefore.waits,
    },
    retryAfterMissing,
    slowestReadMs: slowestDuring,
    slowdowns: proxy.slowdowns - slowdownsBefore,
    held: proxy.hung - heldBefore,
    readyAfterMs,
    readAfter: await read('index.m3u8'),
    exited: [...cluster.apis, ...cluster.workers]
      .filter((instance) => !instance.running())
      .map((instance) => instance.output()),
  };
}

export function describeOutage(figures: OutageFigures): string {
  const refused = figures.during.filter((status) => status === 503).length;
  return (
    `${figures.label}: ${figures.during.length} reads during the outage, ${refused} answered 503 ` +
    `(${figures.during.filter((status) => status === 500).length} × 500), the slowest ` +
    `${figures.slowestReadMs} ms; bucket requests answered 503: ${figures.slowdowns}, ` +
    `connections held: ${figures.held}; clips ready ` +
    `${figures.readyAfterMs.map((ms) => `${ms} ms`).join(', ')} after it ended; ` +
    `503s given ${figures.retries.tryLater503}, writes retried ${figures.retries.putRetries}, ` +
    `conversion waits ${figures.retries.waits}; /readyz ${figures.readyDuring.status} ` +
    `degraded [${figures.readyDuring.degraded.join(', ')}]; ` +
    `${figures.exited.length} processes exited`
  );
}
