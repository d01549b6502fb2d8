// Scaled mode end to end (issue 12): two `api` instances and one `worker` over one
// PostgreSQL and one bucket, behind a round-robin proxy, as real child processes. Needs the
// services (scripts/with-services.mjs); fails, never skips, without them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eraseUser } from '../erase.js';
import { PgDatabase } from '../store/pg-database.js';
import { startCluster, type Cluster } from './cluster.js';
import {
  auth,
  createUpload,
  headUpload,
  json,
  makeClip,
  patchUpload,
  SseReader,
  waitFor,
  type ChildServer,
  type SseEvent,
} from './helpers.js';

interface Video {
  id: string;
  state: string;
  duration: number | null;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function video(base: string, token: string, id: string): Promise<Video> {
  const response = await fetch(`${base}/v1/conversations/c1/videos/${id}`, {
    headers: auth(token),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return json<Video>(response);
}

async function post(base: string, token: string, body: Record<string, unknown>) {
  const response = await fetch(`${base}/v1/conversations/c1/messages`, {
    method: 'POST',
    headers: auth(token, { 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
  });
  assert.ok(response.status === 201 || response.status === 200, await response.clone().text());
  return json<{ id: string }>(response);
}

/** Sends `bytes` as a deferred-length upload in `pieces` PATCHes, retrying each on a 5xx
 * from HEAD's offset as a tus client does. Returns the upload id. */
async function sendDeferred(
  base: () => string,
  token: string,
  bytes: Uint8Array,
  clientId: string,
  {
    pieces = 8,
    paceMs = 0,
    between,
  }: { pieces?: number; paceMs?: number; between?: (i: number) => Promise<void> } = {},
): Promise<string> {
  const created = await createUpload(
    base(),
    token,
    { conversation: 'c1', clientId, filetype: 'video/webm' },
    'deferred',
  );
  assert.equal(created.status, 201, await created.text());
  const id = created.headers.get('location')!.split('/').pop()!;
  const size = Math.ceil(bytes.length / pieces);
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    await between?.(i);
    const end = Math.min(offset + size, bytes.length);
    const last = end === bytes.length;
    for (let attempt = 0; ; attempt++) {
      const answer = await patchUpload(
        base(),
        token,
        id,
        offset,
        bytes.subarray(offset, end),
        last ? bytes.length : undefined,
      ).catch(() => undefined);
      if (answer?.status === 204) {
        offset = Number(answer.headers.get('upload-offset'));
        break;
      }
      assert.ok(attempt < 20, `PATCH kept failing: ${answer?.status} ${await answer?.text()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const head = await headUpload(base(), token, id).catch(() => undefined);
      if (head?.status === 200) offset = Number(head.headers.get('upload-offset'));
      if (offset >= end) break;
    }
    if (paceMs) await new Promise((resolve) => setTimeout(resolve, paceMs));
  }
  return id;
}

const ids = (events: SseEvent[]) => events.map((event) => Number(event.id));

/** The worker that is converting (its /metrics says so), within 30 s. */
async function busyWorker(workers: ChildServer[]): Promise<ChildServer> {
  const converting = async (worker: ChildServer) =>
    /reelchat_conversions_running 1/.test(await (await fetch(`${worker.url}/metrics`)).text());
  return waitFor(
    async () => {
      for (const worker of workers) if (await converting(worker)) return worker;
      return undefined;
    },
    'a worker to start converting',
    30_000,
  ).catch((error: unknown) => {
    const said = workers.map((worker) => worker.output().slice(-2000)).join('\n---\n');
    throw new Error(`${String(error)}; the workers said:\n${said}`);
  });
}

/**
 * Waits (up to `timeoutMs`) until the video is no longer processing, asserts it is ready and
 * that `events` heard it become ready once; the seconds since `since`.
 */
async function readyOnce(
  cluster: Cluster,
  token: string,
  events: SseReader,
  id: string,
  since: number,
  timeoutMs: number,
): Promise<string> {
  const ready = await waitFor(
    async () => {
      const v = await video(cluster.url, token, id);
      return v.state === 'processing' ? undefined : v;
    },
    'another worker to finish the video',
    timeoutMs,
  );
  assert.equal(ready.state, 'ready');
  const seconds = ((Date.now() - since) / 1000).toFixed(1);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const readyEvents = events.events.filter(
    (e) =>
      e.event === 'video.updated' &&
      (JSON.parse(e.data) as { video?: Video }).video?.state === 'ready',
  );
  assert.equal(readyEvents.length, 1, 'ready exactly once');
  return seconds;
}

describe('scaled mode: two api instances and a worker behind a round-robin proxy', () => {
  let cluster: Cluster;
  let alice: string;
  let bob: string;
  before(async () => {
    // No message rate limit: the burst below is a load, not a person.
    cluster = await startCluster({
      apis: 2,
      workers: 1,
      env: { REELCHAT_RATE_MESSAGES_PER_MINUTE: '0' },
    });
    alice = await cluster.token('alice', ['c1']);
    bob = await cluster.token('bob', ['c1']);
  });
  after(() => cluster?.stop());

  it('answers /healthz, /readyz and /metrics on every role', async () => {
    for (const instance of [...cluster.apis, ...cluster.workers]) {
      assert.equal((await fetch(`${instance.url}/healthz`)).status, 200);
      const ready = await fetch(`${instance.url}/readyz`);
      assert.equal(ready.status, 200, await ready.clone().text());
      const metrics = await (await fetch(`${instance.url}/metrics`)).text();
      assert.match(metrics, /reelchat_http_requests_total/);
      // The shared queue's backlog, read from PostgreSQL by any role.
      assert.match(metrics, /^reelchat_conversions_queued \d+$/m);
    }
    // A worker serves no API.
    assert.equal(
      (await fetch(`${cluster.workers[0]!.url}/v1/session`, { headers: auth(alice) })).status,
      404,
    );
  });

  it('finishes on one instance an upload begun on the other, and serves its media from the bucket', async () => {
    const clip = new Uint8Array(await readFile(await makeClip('webm-vp8', 3)));
    const [a, b] = cluster.apis;
    let turn = 0;
    // Every request goes to the other instance than the one before.
    const id = await sendDeferred(() => (turn++ % 2 ? b! : a!).url, alice, clip, 'across', {
      pieces: 6,
    });
    const message = await post(cluster.url, alice, { clientId: 'across-msg', video: id });
    assert.ok(message.id);
    const ready = await waitFor(
      async () => {
        const v = await video(cluster.url, bob, id);
        return v.state === 'processing' ? undefined : v;
      },
      'the video to be converted',
      60_000,
    );
    assert.equal(ready.state, 'ready');
    assert.ok(Math.abs(ready.duration! - 3) < 0.15, `duration ${ready.duration}`);
    // A worker converted it: api instances convert nothing.
    for (const api of cluster.apis) {
      assert.match(
        await (await fetch(`${api.url}/metrics`)).text(),
        /^reelchat_conversions_total 0$/m,
      );
    }
    // Its files are in the bucket, and each api instance serves the playlist.
    const keys = await cluster.objects.list(`media/${id}/`);
    assert.ok(
      keys.some(({ key }) => key.endsWith('index.m3u8')),
      keys.map((k) => k.key).join(' '),
    );
    const withUrls = await json<{ hls?: string; playlist?: string; url?: string }>(
      await fetch(`${cluster.url}/v1/conversations/c1/videos/${id}`, { headers: auth(bob) }),
    );
    const playlistUrl = withUrls.hls ?? withUrls.playlist ?? withUrls.url;
    assert.ok(playlistUrl, JSON.stringify(withUrls));
    for (const instance of cluster.apis) {
      const path = new URL(playlistUrl, cluster.url);
      const playlist = await fetch(`${instance.url}${path.pathname}${path.search}`);
      assert.equal(playlist.status, 200);
      assert.match(await playlist.text(), /#EXT-X-ENDLIST/);
    }
  });

  it('converts a recording on a worker while it uploads through both instances', async () => {
    // As Firefox records (VP8/Opus WebM): transcoded as it arrives.
    const clip = new Uint8Array(await readFile(await makeClip('webm-vp8', 6)));
    const worker = cluster.workers[0]!;
    const liveReady = async () =>
      Number(
        /reelchat_conversions_total\{state="ready",path="live"\} (\d+)/.exec(
          await (await fetch(`${worker.url}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const before = await liveReady();
    // About a second of recording per PATCH, at the pace it is recorded.
    const id = await sendDeferred(() => cluster.url, alice, clip, 'live-take', {
      pieces: 6,
      paceMs: 1000,
    });
    const lastByte = Date.now();
    const ready = await waitFor(
      async () => {
        const v = await video(cluster.url, alice, id);
        return v.state === 'processing' ? undefined : v;
      },
      'the live conversion',
      30_000,
    );
    console.log(`# live take ready ${Date.now() - lastByte} ms after its last PATCH`);
    assert.equal(ready.state, 'ready');
    assert.ok(Math.abs(ready.duration! - 6) < 0.15, `duration ${ready.duration}`);
    assert.equal(
      await liveReady(),
      before + 1,
      `converted by the live path; the worker said:\n${worker.output().slice(-3000)}`,
    );
  });

  it('gives streams on both instances, and replays on either, the same events in the same order under concurrent posts', async () => {
    const [a, b] = cluster.apis;
    const onA = await new SseReader().open(`${a!.url}/v1/events`, auth(bob));
    const onB = await new SseReader().open(`${b!.url}/v1/events`, auth(bob));
    try {
      const before = onA.events.length;
      const count = 120;
      await Promise.all(
        Array.from({ length: count }, (_, i) =>
          post([a!, b!][i % 2]!.url, i % 3 ? alice : bob, {
            clientId: `burst-${i}`,
            text: `m${i}`,
          }),
        ),
      );
      const seenA = (await onA.waitForCount(before + count)).filter(
        (e) => e.event === 'message.created',
      );
      const seenB = (await onB.waitForCount(before + count)).filter(
        (e) => e.event === 'message.created',
      );
      assert.deepEqual(ids(seenB), ids(seenA));
      const sorted = [...ids(seenA)].sort((x, y) => x - y);
      assert.deepEqual(ids(seenA), sorted, 'in increasing order');
      assert.equal(new Set(ids(seenA)).size, seenA.length, 'no duplicate');
      // A replay from the middle on the other instance: exactly the rest, same ids.
      const middle = seenA[Math.floor(seenA.length / 2)]!.id!;
      const replay = await new SseReader().open(
        `${b!.url}/v1/events`,
        auth(bob, { 'Last-Event-ID': middle }),
      );
      try {
        const rest = onA.events.filter((e) => Number(e.id) > Number(middle));
        const replayed = await replay.waitForCount(rest.length);
        assert.deepEqual(ids(replayed.slice(0, rest.length)), ids(rest));
      } finally {
        await replay.close();
      }
      // The messages' catch-up cursor agrees with the event order.
      const page = await json<{ messages: { id: string; text: string | null }[] }>(
        await fetch(`${b!.url}/v1/conversations/c1/messages?limit=200`, { headers: auth(bob) }),
      );
      const burst = page.messages.filter((m) => m.text?.startsWith('m'));
      const fromEvents = seenA.map(
        (e) => JSON.parse(e.data) as { message?: { id: string }; id?: string },
      );
      assert.deepEqual(
        burst.map((m) => m.id),
        fromEvents.map((d) => d.message?.id ?? d.id),
      );
    } finally {
      await onA.close();
      await onB.close();
    }
  });
});

describe('scaled mode: erasing a person while the instances run', () => {
  let cluster: Cluster;
  before(async () => (cluster = await startCluster({ apis: 2, workers: 1 })));
  after(() => cluster?.stop());

  it('removes their rows, their unfinished upload bytes and their media in the bucket', async () => {
    const carol = await cluster.token('carol', ['c1']);
    const clip = new Uint8Array(await readFile(await makeClip('webm-vp8', 2)));
    const id = await sendDeferred(() => cluster.url, carol, clip, 'erase-ready', { pieces: 2 });
    await post(cluster.url, carol, { clientId: 'erase-msg', video: id });
    await waitFor(
      async () => ((await video(cluster.url, carol, id)).state === 'ready' ? true : undefined),
      'ready',
      60_000,
    );
    // And one upload left half-way: its bytes are in PostgreSQL.
    const created = await createUpload(
      cluster.url,
      carol,
      { conversation: 'c1', clientId: 'erase-half', filetype: 'video/webm' },
      'deferred',
    );
    const half = created.headers.get('location')!.split('/').pop()!;
    assert.equal(
      (await patchUpload(cluster.url, carol, half, 0, clip.subarray(0, 5000))).status,
      204,
    );
    assert.ok((await cluster.objects.list(`media/${id}/`)).length > 0);

    const summary = await eraseUser(
      await mkdtemp(join(tmpdir(), 'reelchat-erase-')),
      'carol',
      cluster.databaseUrl,
      {
        bucket: cluster.bucket,
        endpoint: process.env.REELCHAT_S3_ENDPOINT,
        region: 'us-east-1',
        forcePathStyle: true,
      },
    );
    assert.ok(summary.videos.includes(id), JSON.stringify(summary));
    assert.equal(summary.mediaFolders, 1);
    assert.deepEqual(await cluster.objects.list(`media/${id}/`), []);
    const db = await PgDatabase.connect(cluster.databaseUrl, { max: 1 });
    try {
      const left = await db.query(
        `SELECT (SELECT count(*) FROM tus_uploads WHERE id = ANY($1)) AS bytes,
                (SELECT count(*) FROM messages WHERE author = 'carol') AS messages,
                (SELECT count(*) FROM videos WHERE owner = 'carol') AS videos`,
        [[id, half]],
      );
      assert.deepEqual(left[0], { bytes: 0, messages: 0, videos: 0 });
    } finally {
      await db.close();
    }
    const page = await json<{ messages: unknown[] }>(
      await fetch(`${cluster.url}/v1/conversations/c1/messages`, {
        headers: auth(await cluster.token('dave', ['c1'])),
      }),
    );
    assert.equal(JSON.stringify(page).includes('carol'), false);
  });
});

describe('scaled mode: killed instances lose nothing', () => {
  let cluster: Cluster;
  let alice: string;
  before(async () => {
    // The durable job path (a live conversion's own fallback is that same job).
    cluster = await startCluster({
      apis: 2,
      workers: 1,
      env: { REELCHAT_JOB_LEASE_S: '6', REELCHAT_LIVE_CONVERT: '0' },
    });
    alice = await cluster.token('alice', ['c1']);
  });
  after(() => cluster?.stop());

  it('finishes a conversion whose worker was killed -9 on another worker, once', async () => {
    const clip = new Uint8Array(await readFile(await makeClip('webm-vp8', 60, '640x480')));
    const events = await new SseReader().open(`${cluster.apis[0]!.url}/v1/events`, auth(alice));
    try {
      const id = await sendDeferred(() => cluster.url, alice, clip, 'killed-worker', { pieces: 2 });
      await post(cluster.url, alice, { clientId: 'killed-worker-msg', video: id });
      const worker = await busyWorker(cluster.workers);
      const killedAt = Date.now();
      cluster.kill(worker);
      await cluster.add('worker');
      const seconds = await readyOnce(cluster, alice, events, id, killedAt, 90_000);
      console.log(`# killed worker's video ready ${seconds} s after the kill`);
    } finally {
      await events.close();
    }
  });

  it('completes an upload whose api instance was killed -9 in the middle, byte-identical, one message', async () => {
    const clip = new Uint8Array(await readFile(await makeClip('webm-vp8', 4)));
    const [a] = cluster.apis;
    let current = cluster.url;
    const id = await sendDeferred(() => current, alice, clip, 'killed-api', {
      pieces: 8,
      between: async (i) => {
        if (i !== 4) return;
        cluster.kill(a!);
        // The balancer notices and takes it out; the client's next requests may hit it first.
        await cluster.replace(a!);
        current = cluster.url;
      },
    });
    await post(cluster.url, alice, { clientId: 'killed-api-msg', video: id });
    await post(cluster.url, alice, { clientId: 'killed-api-msg', video: id }); // a retry
    const ready = await waitFor(
      async () => {
        const v = await video(cluster.url, alice, id);
        return v.state === 'processing' ? undefined : v;
      },
      'the video',
      60_000,
    );
    assert.equal(ready.state, 'ready');
    const full = await json<{ sha256?: string }>(
      await fetch(`${cluster.url}/v1/conversations/c1/videos/${id}`, { headers: auth(alice) }),
    );
    assert.equal(full.sha256, sha256(clip), 'the stored bytes are the sent bytes');
    const page = await json<{ messages: { video: string | null }[] }>(
      await fetch(`${cluster.url}/v1/conversations/c1/messages`, { headers: auth(alice) }),
    );
    assert.equal(page.messages.filter((m) => m.video === id).length, 1);
  });
});

describe('scaled mode: a worker stopped for a deploy', () => {
  let cluster: Cluster;
  let alice: string;
  // A lease far longer than the conversion: had the stopped worker kept its job, no other
  // worker could have claimed it within the time this test allows.
  const LEASE_S = 90;
  before(async () => {
    cluster = await startCluster({
      apis: 1,
      workers: 2,
      env: { REELCHAT_JOB_LEASE_S: String(LEASE_S), REELCHAT_LIVE_CONVERT: '0' },
    });
    alice = await cluster.token('alice', ['c1']);
  });
  after(() => cluster?.stop());

  it('hands its running conversion to another worker at once, not when its lease lapses', async () => {
    const clip = new Uint8Array(await readFile(await makeClip('webm-vp8', 60, '640x480')));
    const events = await new SseReader().open(`${cluster.apis[0]!.url}/v1/events`, auth(alice));
    try {
      const id = await sendDeferred(() => cluster.url, alice, clip, 'stopped-worker');
      await post(cluster.url, alice, { clientId: 'stopped-worker-msg', video: id });
      const busy = await busyWorker(cluster.workers);
      const stoppedAt = Date.now();
      await busy.stop(); // SIGTERM, as a deploy does
      cluster.workers.splice(cluster.workers.indexOf(busy), 1);
      assert.match(busy.output(), /SIGTERM, shutting down/);
      const seconds = await readyOnce(cluster, alice, events, id, stoppedAt, (LEASE_S / 2) * 1000);
      console.log(
        `# a stopped worker's video ready ${seconds} s after the stop (lease ${LEASE_S} s)`,
      );
    } finally {
      await events.close();
    }
  });
});
