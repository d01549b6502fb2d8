// Upload throughput and memory: 100 concurrent 5 MB tus uploads to the reference server on
// loopback. Run: node --import tsx bench/uploads.mjs [uploads] [megabytes]
// Goals (issue 3): 0 errors; report the server's peak memory.
//
// The bytes are random, so the server's converter rejects each file by its magic bytes
// (state failed) without starting ffmpeg: the figures measure the upload path (tus,
// SQLite, events), not 100 ffmpeg runs. ffmpeg would run in child processes anyway and
// not count toward the server's own memory.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tus from 'tus-js-client';
import { startReferenceServer } from '../scripts/reference-server.mjs';

const UPLOADS = Number(process.argv[2] ?? 100);
const MEGABYTES = Number(process.argv[3] ?? 5);
const CHUNK = 1024 * 1024;
const TIMEOUT_MS = 5 * 60_000;

/** kB figures from /proc/<pid>/status (Linux). */
function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: field('VmRSS'), peak: field('VmHWM') };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

const server = await startReferenceServer();
const watchdog = setTimeout(() => {
  console.error('bench/uploads: timed out');
  void server.stop().then(() => process.exit(1));
}, TIMEOUT_MS);

try {
  const pid = server.child.pid;
  // One person per upload, as in a busy chat site: the per-user quotas stay as configured.
  const tokens = await Promise.all(
    Array.from({ length: UPLOADS }, async (_, i) => {
      const url = `${server.url}/v1/dev/token?user=bench-${i}&conversations=bench`;
      return (await (await fetch(url)).json()).token;
    }),
  );
  const before = memory(pid);
  let peakSampled = before.rss;
  const sampler = setInterval(() => (peakSampled = Math.max(peakSampled, memory(pid).rss)), 50);

  const body = randomBytes(MEGABYTES * 1024 * 1024);
  const errors = [];
  const started = performance.now();
  await Promise.all(
    Array.from(
      { length: UPLOADS },
      (_, i) =>
        new Promise((resolve) => {
          const upload = new tus.Upload(body, {
            endpoint: `${server.url}/v1/uploads`,
            headers: { Authorization: `Bearer ${tokens[i]}` },
            metadata: { conversation: 'bench', clientId: `bench-${i}`, filetype: 'video/webm' },
            chunkSize: CHUNK,
            retryDelays: [],
            onSuccess: () => resolve(),
            onError: (error) => {
              errors.push(String(error).slice(0, 200));
              resolve();
            },
          });
          upload.start();
        }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const after = memory(pid);
  const totalMB = (UPLOADS * MEGABYTES * 1024 * 1024) / 1e6;

  for (const error of errors.slice(0, 5)) console.error(`error: ${error}`);
  console.log(
    `${UPLOADS} uploads of ${MEGABYTES} MB (${CHUNK / 1024 / 1024} MB PATCHes), ${UPLOADS} at once`,
  );
  console.log(`errors: ${errors.length}`);
  console.log(`total: ${seconds.toFixed(2)} s (${(totalMB / seconds).toFixed(0)} MB/s)`);
  console.log(
    `server memory: ${(before.rss / 1024).toFixed(0)} MB before, peak ${(Math.max(after.peak, peakSampled) / 1024).toFixed(0)} MB (VmHWM)`,
  );
  console.log(
    JSON.stringify({
      bench: 'uploads',
      uploads: UPLOADS,
      megabytesEach: MEGABYTES,
      errors: errors.length,
      seconds: Number(seconds.toFixed(2)),
      megabytesPerSecond: Number((totalMB / seconds).toFixed(0)),
      serverRssBeforeMB: Number((before.rss / 1024).toFixed(0)),
      serverPeakRssMB: Number((Math.max(after.peak, peakSampled) / 1024).toFixed(0)),
    }),
  );
  process.exitCode = errors.length === 0 ? 0 : 1;
} finally {
  clearTimeout(watchdog);
  await server.stop();
}
