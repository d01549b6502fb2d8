// The shaping proxy the network benchmarks and tests put between a browser and the server:
// each direction goes no faster than its rate, every byte is late by its latency, a change of
// rate applies to a transfer already running, and what passes is byte for byte what was sent.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startShapingProxy, type ShapingProxy } from '../scripts/shaping-proxy.mjs';

const BODY = randomBytes(250_000);
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** POST /echo answers the body's sha256; GET /bytes answers BODY. */
let origin: Server;
let target = '';

before(async () => {
  origin = createServer((req, res) => {
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => res.end(sha(Buffer.concat(chunks))));
    } else res.end(BODY);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => origin.close(() => resolve())));

/** One request through `proxy` with a fresh connection: its answer and the seconds it took. */
function timed(proxy: ShapingProxy, method: 'GET' | 'POST', body?: Buffer) {
  const started = performance.now();
  return new Promise<{ answer: Buffer; seconds: number }>((resolve, reject) => {
    const req = request(`${proxy.url}/x`, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ answer: Buffer.concat(chunks), seconds: (performance.now() - started) / 1000 }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('shaping proxy', { timeout: 60_000 }, () => {
  it('sends up no faster than the uplink, byte for byte', async () => {
    const proxy = await startShapingProxy(target, { up: { kbps: 1000 } });
    try {
      const { answer, seconds } = await timed(proxy, 'POST', BODY);
      assert.equal(answer.toString(), sha(BODY));
      // 250 kB at 1000 kbit/s is 2.0 s; a burst of 10 ms may go at once.
      assert.ok(seconds >= 1.9, `took ${seconds} s`);
      assert.ok(seconds < 3.2, `took ${seconds} s`);
    } finally {
      await proxy.close();
    }
  });

  it('sends down no faster than the downlink, byte for byte', async () => {
    const proxy = await startShapingProxy(target, { down: { kbps: 2000 } });
    try {
      const { answer, seconds } = await timed(proxy, 'GET');
      assert.ok(answer.equals(BODY));
      assert.ok(seconds >= 0.95, `took ${seconds} s`);
      assert.ok(seconds < 1.8, `took ${seconds} s`);
    } finally {
      await proxy.close();
    }
  });

  it('delays each direction by its latency', async () => {
    const proxy = await startShapingProxy(target, {
      up: { latencyMs: 120 },
      down: { latencyMs: 80 },
    });
    try {
      const { seconds } = await timed(proxy, 'POST', Buffer.from('hi'));
      assert.ok(seconds >= 0.2, `took ${seconds} s`);
      assert.ok(seconds < 0.6, `took ${seconds} s`);
    } finally {
      await proxy.close();
    }
  });

  it('applies a slower link to a transfer already running', async () => {
    const proxy = await startShapingProxy(target, { up: { kbps: 2000 } });
    try {
      const running = timed(proxy, 'POST', BODY);
      await new Promise((resolve) => setTimeout(resolve, 500));
      proxy.setLink({ up: { kbps: 500 } });
      const { answer, seconds } = await running;
      assert.equal(answer.toString(), sha(BODY));
      // 0.5 s at 250 kB/s is 125 kB; the other 125 kB at 62.5 kB/s take 2 s more.
      assert.ok(seconds >= 2.3, `took ${seconds} s`);
      assert.ok(seconds < 3.8, `took ${seconds} s`);
      assert.equal(proxy.stats().upBytes >= BODY.length, true);
    } finally {
      await proxy.close();
    }
  });
});
