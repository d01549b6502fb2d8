// /healthz, /readyz, /metrics and the request id, on the embedded default (SQLite).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startServer, type TestServer } from './helpers.js';

describe('health, readiness and metrics', () => {
  let server: TestServer;
  before(async () => (server = await startServer()));
  after(() => server.close());

  it('answers /healthz and /readyz while the database answers', async () => {
    assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { ok: true });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { ok: boolean; disk?: Record<string, unknown> };
    assert.equal(body.ok, true);
    // The data folder's disk is said, with the reserve kept on it (and not full here).
    assert.equal(body.disk?.full, false);
    assert.ok(Number(body.disk?.freeBytes) > 0);
    assert.equal(body.disk?.reserveBytes, server.config.diskReserveBytes);
    assert.deepEqual(Object.keys(body).sort(), ['disk', 'ok']);
  });

  it('counts requests by route pattern, never by id or token', async () => {
    const token = await server.token('alice', ['c1']);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.url}/v1/conversations/c1/messages`, {
        headers: auth(token),
      });
      assert.equal(res.status, 200);
    }
    await fetch(`${server.url}/media/nothing-here/index.m3u8?t=secret-token-value`);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(
      text,
      /reelchat_http_requests_total\{method="GET",route="\/v1\/conversations\/:c\/messages",status="2xx"\} 3/,
    );
    assert.match(text, /route="\/media\/:video\/:file",status="4xx"\} 1/);
    assert.match(text, /# TYPE reelchat_event_streams_open gauge\nreelchat_event_streams_open 0/);
    assert.match(text, /reelchat_conversions_running 0/);
    assert.match(text, /# TYPE reelchat_conversions_queued gauge\nreelchat_conversions_queued 0/);
    // The answers that asked to come back later (503, 507): none here.
    assert.match(
      text,
      /# TYPE reelchat_http_try_later_total counter\nreelchat_http_try_later_total 0\n/,
    );
    assert.match(
      text,
      /# TYPE reelchat_disk_free_bytes gauge\nreelchat_disk_free_bytes [1-9]\d*\n/,
    );
    assert.doesNotMatch(text, /secret-token-value|nothing-here/);
  });

  it('gives every answer a request id, keeping a plain one from the load balancer', async () => {
    const given = await fetch(`${server.url}/healthz`, { headers: { 'X-Request-Id': 'lb-42.a' } });
    assert.equal(given.headers.get('x-request-id'), 'lb-42.a');
    const odd = await fetch(`${server.url}/healthz`, { headers: { 'X-Request-Id': 'a b"<>' } });
    assert.match(odd.headers.get('x-request-id') ?? '', /^[0-9a-f]{16}$/);
  });
});

describe('the JSON request log', () => {
  it('writes one line per request with its id, path without the query, and no token', async () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      if (typeof chunk === 'string' && chunk.startsWith('{"time"')) lines.push(chunk);
      else return write(chunk, ...rest);
      return true;
    }) as typeof process.stdout.write;
    const server = await startServer({ REELCHAT_LOG: 'json' });
    try {
      const token = await server.token('alice', ['c1']);
      await fetch(`${server.url}/v1/conversations/c1/messages?limit=5`, {
        headers: auth(token, { 'X-Request-Id': 'req-1' }),
      });
      await fetch(`${server.url}/media/x/index.m3u8?t=secret-token-value`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await server.close();
      process.stdout.write = write;
    }
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const first = entries.find((entry) => entry.id === 'req-1');
    assert.ok(first, `no line for req-1 in ${lines.join('')}`);
    assert.equal(first.kind, 'request');
    assert.equal(first.status, 200);
    assert.equal(first.path, '/v1/conversations/c1/messages');
    assert.equal(first.route, '/v1/conversations/:c/messages');
    assert.equal(typeof first.ms, 'number');
    assert.ok(entries.some((entry) => entry.path === '/media/x/index.m3u8'));
    assert.doesNotMatch(lines.join(''), /secret-token-value|Bearer/);
  });
});
