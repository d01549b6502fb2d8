// Event streams under load, with sleepy clients: the server's peak memory with 500 open
// event streams of which 50 stop reading while 2000 messages are posted to their
// conversation. Run: node bench/streams.mjs [streams] [stalled] [messages] [chars]
// (defaults 500 50 2000 1000; a message is `chars` four-byte emoji, 4 KB of UTF-8 at 1000).
// Goals (issue 10): the server survives; every reading stream gets every message; every
// stalled stream is dropped once REELCHAT_SSE_MAX_BUFFERED_BYTES (1 MB) are queued for it.
//
// One user per stream (a user may hold 32). Streams are raw sockets: a reader counts the
// events it receives, a sleeper stops reading after the response head. Whether the server
// dropped a sleeper is read from the kernel's TCP table (/proc/net/tcp, Linux): a client
// that does not read cannot see the close. Kernel socket buffers (~4 MB per stalled
// loopback socket) are not part of the server's RSS.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { startReferenceServer } from '../scripts/reference-server.mjs';

const STREAMS = Number(process.argv[2] ?? 500);
const STALLED = Number(process.argv[3] ?? 50);
const MESSAGES = Number(process.argv[4] ?? 2000);
const CHARS = Number(process.argv[5] ?? 1000);
const POSTS_AT_ONCE = 8;
const TIMEOUT_MS = 10 * 60_000;
const CONVERSATION = 'bench';
const EVENT = Buffer.from('event: message.created\n');

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

/** CPU seconds the process has used (user + system), from /proc/<pid>/stat. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Kernel state of every TCP connection, by "localPort:remotePort" ('01' = ESTABLISHED). */
function tcpStates() {
  const states = new Map();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (!local || !remote) continue;
      const port = (address) => parseInt(address.split(':').pop(), 16);
      states.set(`${port(local)}:${port(remote)}`, state);
    }
  }
  return states;
}

/** GET /v1/events on a raw socket; counts complete message events, or stops reading. */
function openStream(url, token, stall) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const stream = { socket, events: 0, closed: false, serverPort: Number(port) };
    let head = '';
    let carry = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('close', () => (stream.closed = true));
    socket.once('error', reject);
    socket.write(
      `GET /v1/events?conversation=${CONVERSATION} HTTP/1.1\r\nHost: ${hostname}\r\n` +
        `Authorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    const onData = (chunk) => {
      if (head !== null) {
        head += chunk.toString('latin1');
        if (!head.includes('retry:')) return;
        if (!head.startsWith('HTTP/1.1 200')) {
          reject(new Error(`stream refused: ${head.split('\r\n')[0]}`));
          return;
        }
        head = null;
        resolve(stream);
        if (stall) {
          socket.pause();
          return;
        }
      }
      // Count "event: message.created" lines, also when one spans two chunks.
      const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      let at = 0;
      while ((at = data.indexOf(EVENT, at)) !== -1) {
        stream.events++;
        at += EVENT.length;
      }
      carry = data.subarray(Math.max(0, data.length - EVENT.length + 1));
    };
    socket.on('data', onData);
  });
}

async function post(url, token, clientId, text) {
  for (;;) {
    const response = await fetch(`${url}/v1/conversations/${CONVERSATION}/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ clientId, text }),
    });
    await response.arrayBuffer();
    if (response.status === 201) return;
    if (response.status !== 429) throw new Error(`post ${clientId}: ${response.status}`);
    const wait = Number(response.headers.get('retry-after') ?? 1);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
}

async function until(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return check();
}

const server = await startReferenceServer();
const watchdog = setTimeout(() => {
  console.error('bench/streams: timed out');
  void server.stop().then(() => process.exit(1));
}, TIMEOUT_MS);
const streams = [];
try {
  const pid = server.child.pid;
  const tokens = [];
  for (let i = 0; i < STREAMS; i++) {
    const response = await fetch(
      `${server.url}/v1/dev/token?user=u${i}&conversations=${CONVERSATION}`,
    );
    tokens.push((await response.json()).token);
  }
  const idle = memory(pid);
  for (let i = 0; i < STREAMS; i++) {
    streams.push(await openStream(server.url, tokens[i], i < STALLED));
  }
  const stalled = streams.slice(0, STALLED);
  const readers = streams.slice(STALLED);
  const open = memory(pid);
  let peakSampled = open.rss;
  const sampler = setInterval(() => (peakSampled = Math.max(peakSampled, memory(pid).rss)), 50);

  const text = '😀'.repeat(CHARS);
  const started = performance.now();
  const cpuBefore = cpuSeconds(pid);
  const clientCpuBefore = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: POSTS_AT_ONCE }, async () => {
      while (next < MESSAGES) {
        const i = next++;
        await post(server.url, tokens[i % STREAMS], `m${i}`, text);
      }
    }),
  );
  const postedS = (performance.now() - started) / 1000;
  const delivered = await until(
    () => readers.every((s) => s.events >= MESSAGES || s.closed),
    TIMEOUT_MS / 2,
  );
  const deliveredS = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const serverCpuS = cpuSeconds(pid) - cpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const clientCpuS = (clientCpu.user + clientCpu.system) / 1e6;
  const after = memory(pid);
  const peakKB = Math.max(after.peak, peakSampled);

  const states = tcpStates();
  const serverHeld = (s) => states.get(`${s.serverPort}:${s.socket.localPort}`) === '01';
  const stalledDropped = stalled.filter((s) => !serverHeld(s)).length;
  const complete = readers.filter((s) => s.events === MESSAGES).length;
  const fewest = Math.min(...readers.map((s) => s.events));
  const readersClosed = readers.filter((s) => s.closed).length;
  const health = await fetch(`${server.url}/healthz`).then(
    (r) => r.status,
    () => 0,
  );
  const mb = (kb) => Number((kb / 1024).toFixed(0));
  const frameKB = (Buffer.byteLength(text) + 200) / 1024;

  console.log(
    `${STREAMS} event streams (${STALLED} stop reading), ${MESSAGES} messages of ${CHARS} ` +
      `four-byte characters (~${frameKB.toFixed(1)} KB a frame), ${POSTS_AT_ONCE} posts at once`,
  );
  console.log(
    `server memory: ${mb(idle.rss)} MB idle, ${mb(open.rss)} MB with the streams open, ` +
      `peak ${mb(peakKB)} MB (VmHWM), ${mb(after.rss)} MB after`,
  );
  console.log(`stalled streams dropped by the server: ${stalledDropped} of ${STALLED}`);
  console.log(
    `reading streams with all ${MESSAGES} messages: ${complete} of ${readers.length}` +
      ` (fewest ${fewest}; ${readersClosed} closed)${delivered ? '' : ' — TIMED OUT'}`,
  );
  console.log(
    `time: ${postedS.toFixed(2)} s to post, ${deliveredS.toFixed(2)} s until every reader had ` +
      `every message (${((frameKB * MESSAGES * readers.length) / 1024 / deliveredS).toFixed(0)} MB/s fanned out)`,
  );
  console.log(
    `CPU over that time: server ${serverCpuS.toFixed(1)} s, this client ${clientCpuS.toFixed(1)} s`,
  );
  console.log(`server alive after: ${health === 200 ? 'yes' : `NO (${health})`}`);
  console.log(
    JSON.stringify({
      bench: 'streams',
      streams: STREAMS,
      stalled: STALLED,
      messages: MESSAGES,
      charsEach: CHARS,
      serverRssIdleMB: mb(idle.rss),
      serverRssOpenMB: mb(open.rss),
      serverPeakRssMB: mb(peakKB),
      stalledDropped,
      readersComplete: complete,
      readers: readers.length,
      postSeconds: Number(postedS.toFixed(2)),
      deliverSeconds: Number(deliveredS.toFixed(2)),
      serverCpuSeconds: Number(serverCpuS.toFixed(1)),
      clientCpuSeconds: Number(clientCpuS.toFixed(1)),
      serverAlive: health === 200,
    }),
  );
  process.exitCode = health === 200 && complete === readers.length ? 0 : 1;
} finally {
  clearTimeout(watchdog);
  for (const stream of streams) stream.socket.destroy();
  await server.stop();
}
