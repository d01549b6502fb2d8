// The floods against the reference server with its default limits, and what the
// quota checks cost an honest recorder. Run: node --import tsx bench/limits.mjs
//  - 5000 messages from one user, 50 at a time (issue: all 201 in 1.6 s);
//  - 1000 creations of 200 MB uploads from one user, 50 at a time (issue: 195 GB promised);
//  - one deferred upload of 16 MB in 128 KB PATCHes (the recorder's chunks), with the
//    quotas on (defaults) and off, for the cost of the per-PATCH check.
import { loadavg } from 'node:os';
import { startReferenceServer } from '../scripts/reference-server.mjs';

const MESSAGES = 5000;
const CREATIONS = 1000;
const AT_ONCE = 50;
const CHUNK = 128 * 1024;
const RECORDING_BYTES = 16 * 1024 * 1024;

async function token(url, user) {
  const response = await fetch(`${url}/v1/dev/token?user=${user}&conversations=bench`);
  return (await response.json()).token;
}

/** Runs `count` requests, `AT_ONCE` in flight; returns the statuses and the seconds. */
async function flood(count, send) {
  const statuses = new Map();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      while (next < count) {
        const response = await send(next++);
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    }),
  );
  return { statuses: Object.fromEntries(statuses), seconds: (performance.now() - started) / 1000 };
}

const metadata = (clientId) =>
  [
    ['conversation', 'bench'],
    ['clientId', clientId],
    ['filetype', 'video/webm'],
  ]
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');

/** A deferred upload sent in CHUNK-sized PATCHes, one after another; ms per PATCH. */
async function recording(url, bearer, clientId) {
  const tus = { Authorization: `Bearer ${bearer}`, 'Tus-Resumable': '1.0.0' };
  const created = await fetch(`${url}/v1/uploads`, {
    method: 'POST',
    headers: { ...tus, 'Upload-Defer-Length': '1', 'Upload-Metadata': metadata(clientId) },
  });
  if (created.status !== 201) throw new Error(`creation: ${created.status}`);
  const path = created.headers.get('location');
  const chunk = new Uint8Array(CHUNK);
  const started = performance.now();
  for (let offset = 0; offset < RECORDING_BYTES; offset += CHUNK) {
    const last = offset + CHUNK >= RECORDING_BYTES;
    const response = await fetch(new URL(path, url), {
      method: 'PATCH',
      headers: {
        ...tus,
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream',
        ...(last ? { 'Upload-Length': String(RECORDING_BYTES) } : {}),
      },
      body: chunk,
    });
    if (response.status !== 204) throw new Error(`PATCH at ${offset}: ${response.status}`);
  }
  return (performance.now() - started) / (RECORDING_BYTES / CHUNK);
}

const figures = { bench: 'limits' };
const limited = await startReferenceServer();
try {
  const flooder = await token(limited.url, 'flooder');
  const messages = await flood(MESSAGES, (i) =>
    fetch(`${limited.url}/v1/conversations/bench/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${flooder}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ clientId: `m-${i}`, text: `flood ${i}` }),
    }),
  );
  console.log(
    `${MESSAGES} messages, ${AT_ONCE} at once: ${JSON.stringify(messages.statuses)} in ${messages.seconds.toFixed(2)} s`,
  );
  figures.messagesAccepted = messages.statuses[201] ?? 0;
  figures.messagesRefused = messages.statuses[429] ?? 0;
  figures.messagesSeconds = Number(messages.seconds.toFixed(2));

  const creations = await flood(CREATIONS, (i) =>
    fetch(`${limited.url}/v1/uploads`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${flooder}`,
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(200 * 1024 * 1024),
        'Upload-Metadata': metadata(`u-${i}`),
      },
    }),
  );
  const accepted = creations.statuses[201] ?? 0;
  console.log(
    `${CREATIONS} creations of 200 MB, ${AT_ONCE} at once: ${JSON.stringify(creations.statuses)} ` +
      `in ${creations.seconds.toFixed(2)} s — ${((accepted * 200) / 1024).toFixed(2)} GB promised`,
  );
  figures.creationsAccepted = accepted;
  figures.creationsSeconds = Number(creations.seconds.toFixed(2));

  const recorder = await token(limited.url, 'recorder');
  figures.patchMsQuotaOn = Number((await recording(limited.url, recorder, 'rec')).toFixed(2));
} finally {
  await limited.stop();
}

const unlimited = await startReferenceServer({
  env: {
    REELCHAT_QUOTA_UNFINISHED_UPLOADS: '0',
    REELCHAT_QUOTA_UNFINISHED_BYTES: '0',
    REELCHAT_QUOTA_STORED_BYTES: '0',
    REELCHAT_QUOTA_UPLOADS_PER_HOUR: '0',
  },
});
try {
  const recorder = await token(unlimited.url, 'recorder');
  figures.patchMsQuotaOff = Number((await recording(unlimited.url, recorder, 'rec')).toFixed(2));
} finally {
  await unlimited.stop();
}
console.log(
  `deferred upload of ${RECORDING_BYTES / 1024 / 1024} MB in ${CHUNK / 1024} KB PATCHes: ` +
    `${figures.patchMsQuotaOn} ms per PATCH with quotas, ${figures.patchMsQuotaOff} ms without`,
);
// Shared machines: the figures mean little without the load they were taken under.
figures.loadAverage = Number(loadavg()[0].toFixed(1));
console.log(`load average (1 min): ${figures.loadAverage}`);
console.log(JSON.stringify(figures));
