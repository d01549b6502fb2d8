// A phone's network on loopback: a TCP proxy in front of the reference server that gives each
// direction its own throughput and one-way latency, for benchmarks and tests in every engine
// (Chromium's own network emulation exists only in Chromium, and shapes per request, not the
// link). Every connection through one proxy shares one link, as a phone's connections share
// its radio: an upload and the event stream compete for the same uplink.
//
// Each direction is a token bucket (rate in bits per second, a burst of `burstBytes`) feeding a
// queue that holds at most `queueBytes`; past that the sending socket is paused, so a browser
// sees its upload go out at the link's pace (TCP backpressure), not vanish into the proxy.
// A chunk leaves the queue when the bucket allows and arrives `latencyMs` later.
//
//   const proxy = await startShapingProxy('http://127.0.0.1:8080', { up: { kbps: 750, latencyMs: 75 },
//     down: { kbps: 1600, latencyMs: 75 } });
//   proxy.url; proxy.setLink({ up: { kbps: 500 } }); proxy.stats(); await proxy.close();
import { connect, createServer } from 'node:net';

// Pieces of at most this size, so connections sharing a direction take turns at a fine grain.
const PIECE = 4096;

/**
 * @typedef {{ kbps?: number, latencyMs?: number, burstBytes?: number, queueBytes?: number }} DirectionSpec
 *   kbps: throughput in kilobits per second (1000 bits); 0 or undefined = unlimited.
 * @typedef {{ up?: DirectionSpec, down?: DirectionSpec }} LinkSpec
 *   up: browser → server; down: server → browser.
 */

/** One direction of the link: a token bucket, a queue in front of it, and a delay after it. */
class Direction {
  /** @param {DirectionSpec} spec */
  constructor(spec) {
    this.queue = [];
    this.queued = 0;
    this.bytes = 0;
    this.timer = undefined;
    this.tokens = 0;
    this.refilled = performance.now();
    this.set(spec);
  }

  /** @param {DirectionSpec} spec */
  set(spec) {
    this.refill();
    this.bytesPerMs = spec.kbps ? (spec.kbps * 1000) / 8 / 1000 : Infinity;
    this.latencyMs = spec.latencyMs ?? 0;
    // A burst of 10 ms of the rate, at least a piece: close to a radio's scheduling grain.
    this.burst = spec.burstBytes ?? Math.max(PIECE, this.bytesPerMs * 10);
    // The queue holds about 100 ms of the rate: enough to keep the link busy, small enough
    // that backpressure reaches the sender at once.
    this.limit = spec.queueBytes ?? Math.max(4 * PIECE, this.bytesPerMs * 100);
    this.tokens = Math.min(this.tokens, this.burst);
    this.pump();
  }

  refill() {
    const now = performance.now();
    if (Number.isFinite(this.bytesPerMs))
      this.tokens = Math.min(this.burst, this.tokens + (now - this.refilled) * this.bytesPerMs);
    this.refilled = now;
  }

  /** Queues `chunk` for `to`; returns false when the queue is full (the sender should pause). */
  send(chunk, to, onDrain) {
    for (let at = 0; at < chunk.length; at += PIECE) {
      const piece = chunk.subarray(at, at + PIECE);
      this.queue.push({ piece, to });
      this.queued += piece.length;
    }
    this.pump();
    if (this.queued <= this.limit) return true;
    this.waiting = this.waiting ?? [];
    this.waiting.push(onDrain);
    return false;
  }

  pump() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.refill();
    while (this.queue.length > 0) {
      const { piece, to } = this.queue[0];
      if (Number.isFinite(this.bytesPerMs)) {
        if (this.tokens < piece.length) {
          const wait = (piece.length - this.tokens) / this.bytesPerMs;
          this.timer = setTimeout(() => this.pump(), Math.max(1, wait));
          break;
        }
        this.tokens -= piece.length;
      }
      this.queue.shift();
      this.queued -= piece.length;
      this.bytes += piece.length;
      deliver(to, piece, this.latencyMs);
    }
    if (this.queued <= this.limit && this.waiting) {
      const waiting = this.waiting;
      this.waiting = undefined;
      for (const resume of waiting) resume();
    }
  }

  /** Drops what is queued for a socket that closed. */
  forget(socket) {
    const before = this.queue.length;
    this.queue = this.queue.filter((entry) => entry.to.socket !== socket);
    if (this.queue.length !== before)
      this.queued = this.queue.reduce((sum, entry) => sum + entry.piece.length, 0);
  }

  close() {
    clearTimeout(this.timer);
    this.queue = [];
  }
}

/**
 * Writes `piece` to the receiving end `latencyMs` from now, in order: each end keeps its own
 * chain of delayed writes, and an end that is closing ends only after its last piece arrived.
 */
function deliver(to, piece, latencyMs) {
  to.pending++;
  setTimeout(() => {
    to.pending--;
    if (!to.socket.destroyed) to.socket.write(piece);
    if (to.pending === 0 && to.ending) to.socket.end();
  }, latencyMs);
}

/**
 * @param {string} target the server's base URL (http://host:port)
 * @param {LinkSpec} [link]
 */
export async function startShapingProxy(target, link = {}) {
  const upstream = new URL(target);
  const up = new Direction(link.up ?? {});
  const down = new Direction(link.down ?? {});
  const sockets = new Set();
  let connections = 0;

  const server = createServer((client) => {
    connections++;
    const server = connect({ host: upstream.hostname, port: Number(upstream.port) });
    const clientEnd = { socket: client, pending: 0, ending: false };
    const serverEnd = { socket: server, pending: 0, ending: false };
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => {
        sockets.delete(socket);
        up.forget(socket);
        down.forget(socket);
      });
    }
    // Either side closing abruptly closes the other, as a reset would.
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
    pipe(client, serverEnd, up);
    pipe(server, clientEnd, down);
  });

  /** Passes what `from` reads through `direction` to `to`, pausing `from` while it is full. */
  function pipe(from, to, direction) {
    from.on('data', (chunk) => {
      if (!direction.send(chunk, to, () => from.resume())) from.pause();
    });
    from.on('end', () => {
      // Half-close once everything queued before the end has arrived.
      // (`ending` is set only once nothing for `to` is queued: a delivery that empties
      // `pending` between two queued pieces must not end it early.)
      const finish = () => {
        if (direction.queue.some((entry) => entry.to === to)) return void setTimeout(finish, 5);
        to.ending = true;
        if (to.pending === 0) to.socket.end();
      };
      finish();
    });
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());

  return {
    url: `http://127.0.0.1:${port}`,
    /** Changes the link while connections are open (a phone moving to a weaker cell). */
    setLink(/** @type {LinkSpec} */ next) {
      if (next.up) up.set({ ...currentSpec(up), ...next.up });
      if (next.down) down.set({ ...currentSpec(down), ...next.down });
    },
    /** Bytes that went through each direction so far, and connections opened. */
    stats: () => ({ upBytes: up.bytes, downBytes: down.bytes, connections }),
    close: () =>
      new Promise((resolve) => {
        up.close();
        down.close();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve(undefined));
      }),
  };
}

function currentSpec(direction) {
  return {
    kbps: Number.isFinite(direction.bytesPerMs) ? direction.bytesPerMs * 8 : 0,
    latencyMs: direction.latencyMs,
  };
}
