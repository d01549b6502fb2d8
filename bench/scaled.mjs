// Scaled mode's figures (issue 12), on throwaway PostgreSQL and Swift started here:
//   node --import tsx bench/scaled.mjs [uploads=100] [streams=500] [messages=400] [takeSeconds=60]
// 1. `uploads` concurrent 5 MB uploads (real H.264 clips, one user each) through a round-robin
//    proxy to two api instances and two workers: errors, time until all are ready, peak RSS.
// 2. Event fan-out: `streams` event streams spread over the two api instances, `messages`
//    posted through the proxy: deliveries per second until every stream has every message.
// 3. One live take of `takeSeconds` (H.264 in Matroska, as Chromium records) sent in 1 s
//    PATCHes at real-time pace: the object-store requests and bytes written for it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRoundRobinProxy } from '../scripts/round-robin-proxy.mjs';
import { startServices } from '../scripts/services.mjs';

const [UPLOADS = 100, STREAMS = 500, MESSAGES = 400, TAKE_S = 60] = process.argv
  .slice(2)
  .map(Number);
const services = await startServices();
Object.assign(process.env, services.env);
const { startCluster } = await import('../server/test/cluster.ts');
const { SseReader, auth, createUpload, patchUpload, waitFor } =
  await import('../server/test/helpers.ts');

function clip(name, args) {
  const path = join(tmpdir(), `reelchat-bench-${name}`);
  if (!existsSync(path)) execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, path]);
  return new Uint8Array(readFileSync(path));
}
const peakRssMB = (pid) =>
  Math.round(
    Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024,
  );

async function sendPieces(base, token, bytes, clientId, pieceBytes, paceMs = 0) {
  const created = await createUpload(
    base,
    token,
    { conversation: 'c1', clientId, filetype: 'video/mp4' },
    paceMs ? 'deferred' : bytes.length,
  );
  if (created.status !== 201) throw new Error(`create ${created.status}`);
  const id = created.headers.get('location').split('/').pop();
  for (let offset = 0; offset < bytes.length;) {
    const end = Math.min(offset + pieceBytes, bytes.length);
    const final = paceMs && end === bytes.length ? bytes.length : undefined;
    const answer = await patchUpload(base, token, id, offset, bytes.subarray(offset, end), final);
    if (answer.status !== 204) throw new Error(`patch ${answer.status} ${await answer.text()}`);
    offset = end;
    if (paceMs && offset < bytes.length) await new Promise((r) => setTimeout(r, paceMs));
  }
  const posted = await fetch(`${base}/v1/conversations/c1/messages`, {
    method: 'POST',
    headers: auth(token, { 'Content-Type': 'application/json' }),
    body: JSON.stringify({ clientId: `${clientId}-msg`, video: id }),
  });
  if (posted.status !== 201) throw new Error(`message ${posted.status}`);
  return id;
}
const state = async (base, token, id) =>
  (await (await fetch(`${base}/v1/conversations/c1/videos/${id}`, { headers: auth(token) })).json())
    .state;

const results = {};
try {
  // 1. Uploads.
  {
    const body = clip('5mb.mp4', [
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1280x720:rate=30:duration=16',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-b:v',
      '2500k',
      '-pix_fmt',
      'yuv420p',
      '-f',
      'mp4',
    ]);
    const cluster = await startCluster({
      apis: 2,
      workers: 2,
      env: { REELCHAT_QUOTA_UPLOADS_BURST: '1000' },
    });
    try {
      const tokens = await Promise.all(
        Array.from({ length: UPLOADS }, (_, i) => cluster.token(`up-${i}`, ['c1'])),
      );
      const errors = [];
      const started = performance.now();
      const ids = await Promise.all(
        tokens.map((token, i) =>
          sendPieces(cluster.url, token, body, `up-${i}`, 1024 * 1024).catch((error) =>
            errors.push(`${error} ${error?.cause ?? ''}`),
          ),
        ),
      );
      const uploadedS = (performance.now() - started) / 1000;
      const pending = new Set(ids.filter((id) => typeof id === 'string'));
      let failed = 0;
      await waitFor(
        async () => {
          for (const id of [...pending]) {
            const s = await state(cluster.url, tokens[ids.indexOf(id)], id);
            if (s !== 'processing') {
              pending.delete(id);
              if (s !== 'ready') failed++;
            }
          }
          return pending.size === 0 ? true : undefined;
        },
        'all videos ready',
        15 * 60_000,
      );
      const readyS = (performance.now() - started) / 1000;
      results.uploads = {
        uploads: UPLOADS,
        megabytesEach: Number((body.length / 1e6).toFixed(1)),
        errors: errors.length,
        failed,
        uploadedS: Number(uploadedS.toFixed(1)),
        allReadyS: Number(readyS.toFixed(1)),
        peakRssMB: [...cluster.apis, ...cluster.workers].map((i) => peakRssMB(i.child.pid)),
      };
      console.log(
        `uploads: ${UPLOADS} × ${results.uploads.megabytesEach} MB, ${errors.length} errors, ${failed} failed; uploaded in ${results.uploads.uploadedS} s, all ready ${results.uploads.allReadyS} s; peak RSS api ${results.uploads.peakRssMB.slice(0, 2).join('/')} MB, workers ${results.uploads.peakRssMB.slice(2).join('/')} MB`,
      );
      for (const error of errors.slice(0, 3)) console.error(error);
    } finally {
      await cluster.stop();
    }
  }
  // 2. Fan-out.
  {
    const cluster = await startCluster({
      apis: 2,
      workers: 1,
      env: { REELCHAT_RATE_MESSAGES_PER_MINUTE: '0', REELCHAT_SSE_MAX_STREAMS_PER_USER: '1000' },
    });
    try {
      const reader = await cluster.token('reader', ['c1']);
      const readers = await Promise.all(
        Array.from({ length: STREAMS }, (_, i) =>
          new SseReader().open(`${cluster.apis[i % 2].url}/v1/events`, auth(reader)),
        ),
      );
      const writers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => cluster.token(`w${i}`, ['c1'])),
      );
      const started = performance.now();
      for (let i = 0; i < MESSAGES; i += writers.length) {
        await Promise.all(
          writers.map((token, w) =>
            fetch(`${cluster.url}/v1/conversations/c1/messages`, {
              method: 'POST',
              headers: auth(token, { 'Content-Type': 'application/json' }),
              body: JSON.stringify({ clientId: `f-${i + w}`, text: `fan-out ${i + w}` }),
            }).then((r) => r.arrayBuffer()),
          ),
        );
      }
      const postedS = (performance.now() - started) / 1000;
      await waitFor(
        () => (readers.every((r) => r.events.length >= MESSAGES) ? true : undefined),
        'every stream to have every message',
        10 * 60_000,
      );
      const deliveredS = (performance.now() - started) / 1000;
      results.fanout = {
        streams: STREAMS,
        messages: MESSAGES,
        messagesPerS: Math.round(MESSAGES / postedS),
        deliveriesPerS: Math.round((STREAMS * MESSAGES) / deliveredS),
        allDeliveredS: Number(deliveredS.toFixed(1)),
      };
      console.log(
        `fan-out: ${MESSAGES} messages to ${STREAMS} streams on 2 instances: posted at ${results.fanout.messagesPerS}/s, every stream had every message after ${results.fanout.allDeliveredS} s (${results.fanout.deliveriesPerS} deliveries/s)`,
      );
      await Promise.all(readers.map((r) => r.close()));
    } finally {
      await cluster.stop();
    }
  }
  // 3. Object-store cost of one live take.
  {
    const take = clip(`take-${TAKE_S}s-g60.mkv`, [
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=640x480:rate=30:duration=${TAKE_S}`,
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:sample_rate=48000:duration=${TAKE_S}`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-bf',
      '0',
      // A keyframe every 2 s, as the recorder asks for: 2 s segments.
      '-g',
      '60',
      '-b:v',
      '1200k',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'libopus',
      '-f',
      'matroska',
    ]);
    const counting = await startRoundRobinProxy([services.env.REELCHAT_S3_ENDPOINT]);
    const cluster = await startCluster({
      apis: 2,
      workers: 1,
      env: { REELCHAT_S3_ENDPOINT: counting.url },
    });
    try {
      const token = await cluster.token('taker', ['c1']);
      const before = { requests: { ...counting.stats.requests }, bytesIn: counting.stats.bytesIn };
      const piece = Math.ceil(take.length / TAKE_S);
      const id = await sendPieces(cluster.url, token, take, 'take', piece, 1000);
      const lastPatch = performance.now();
      await waitFor(
        async () => ((await state(cluster.url, token, id)) === 'ready' ? true : undefined),
        'the take to be ready',
        120_000,
      );
      const readyMs = performance.now() - lastPatch;
      const requests = Object.fromEntries(
        Object.entries(counting.stats.requests).map(([m, n]) => [m, n - (before.requests[m] ?? 0)]),
      );
      const total = Object.values(requests).reduce((a, b) => a + b, 0);
      const written = counting.stats.bytesIn - before.bytesIn;
      results.liveTake = {
        seconds: TAKE_S,
        takeMB: Number((take.length / 1e6).toFixed(1)),
        objectStoreRequests: total,
        byMethod: requests,
        objectStoreWrittenMB: Number((written / 1e6).toFixed(1)),
        writtenPerTakeByte: Number((written / take.length).toFixed(2)),
        readyAfterLastPatchMs: Math.round(readyMs),
      };
      console.log(
        `live ${TAKE_S} s take (${results.liveTake.takeMB} MB): ${total} object-store requests (${JSON.stringify(requests)}), ${results.liveTake.objectStoreWrittenMB} MB written (${results.liveTake.writtenPerTakeByte}× the take); ready ${results.liveTake.readyAfterLastPatchMs} ms after the last PATCH`,
      );
    } finally {
      await cluster.stop();
      await counting.close();
    }
  }
  console.log(JSON.stringify({ bench: 'scaled', ...results }));
} finally {
  await services.stop();
}
