// PostgreSQL going away while people post (issue 26): a TCP proxy in front of the test
// server's database is cut — its connections dropped mid-traffic, new ones dropped at once —
// then restored. Requests that need the database answer 503 with Retry-After, never 500; the
// process keeps running (a pg client's `error` event on a connection that ends must never
// reach the top); once the database is back the next request works.
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { auth, startServer, type TestServer } from './helpers.js';
import { createTestDatabase, type TestDatabase } from './pg-test-database.js';

/** Forwards TCP to `target`; `cut()` drops every connection and each new one until `restore()`. */
async function tcpProxy(target: URL) {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    cut(): void {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    restore(): void {
      cut = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('PostgreSQL unreachable for a while (scaled mode)', () => {
  let database: TestDatabase;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;
  let server: TestServer;
  const exits: unknown[] = [];
  const onUncaught = (error: unknown) => exits.push(error);

  before(async () => {
    process.on('uncaughtException', onUncaught);
    database = await createTestDatabase('reelchat_outage');
    const target = new URL(database.url);
    proxy = await tcpProxy(target);
    const proxied = new URL(database.url);
    proxied.host = `127.0.0.1:${proxy.port}`;
    server = await startServer({ REELCHAT_DATABASE_URL: proxied.href });
  });
  after(async () => {
    proxy.restore();
    await server?.close();
    await proxy?.close();
    await database?.drop();
    process.off('uncaughtException', onUncaught);
  });

  it('answers 503 with Retry-After while it is gone, never 500 or a crash, and works once it is back', async () => {
    const token = await server.token('alice', ['c1']);
    const post = async (clientId: string) => {
      const response = await fetch(`${server.url}/v1/conversations/c1/messages`, {
        method: 'POST',
        headers: auth(token, { 'Content-Type': 'application/json' }),
        body: JSON.stringify({ clientId, text: clientId }),
      });
      await response.arrayBuffer();
      return { status: response.status, retryAfter: response.headers.get('retry-after') };
    };
    assert.equal((await post('before')).status, 201);

    // Cut while posts are under way: their transactions lose their connections mid-flight.
    const during = Array.from({ length: 12 }, (_, i) => post(`during-${i}`));
    await new Promise((resolve) => setTimeout(resolve, 5));
    proxy.cut();
    const answers = await Promise.all(during);
    for (const answer of answers) {
      assert.ok([201, 503].includes(answer.status), `status ${answer.status}`);
    }
    const outage: { status: number; retryAfter: string | null }[] = [];
    for (let i = 0; i < 8; i++) outage.push(await post(`outage-${i}`));
    assert.deepEqual(
      outage,
      outage.map(() => ({ status: 503, retryAfter: '5' })),
    );
    // Connections that ended while being opened or while idle came and went meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 500));

    proxy.restore();
    assert.equal((await post('after')).status, 201);
    const listed = await fetch(`${server.url}/v1/conversations/c1/messages?limit=100`, {
      headers: auth(token),
    });
    const ids = ((await listed.json()) as { messages: { clientId: string }[] }).messages.map(
      (message) => message.clientId,
    );
    assert.ok(ids.includes('before') && ids.includes('after'), ids.join());
    assert.ok(!ids.some((id) => id.startsWith('outage-')), ids.join());
    assert.deepEqual(exits, []);
  });
});
