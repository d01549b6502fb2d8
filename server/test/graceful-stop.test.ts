// A graceful stop of an api instance (issue 26), as a deploy does it: scaled mode, two api
// instances behind a round-robin proxy; one is taken out of the pool and sent SIGTERM while
// the library's http transport follows a conversation's events through it and a tus PATCH
// sends its body to it slowly. Held: the stream's last frame sends the client to the other
// instance at once (no "offline", every event once, in order); the PATCH finishes and its
// bytes count; a new request to the stopping instance is answered 503 with Retry-After;
// the instance exits 0 once the PATCH is done.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReelEvent } from '../../src/transport/types.js';
import { startCluster, type Cluster } from './cluster.js';
import {
  auth,
  createUpload,
  headUpload,
  json,
  SseReader,
  waitFor,
  type ChildServer,
} from './helpers.js';

const UPLOAD_BYTES = 256 * 1024;

/**
 * The browser library's http transport, run in Node (fetch and streams are the same there).
 * Imported by a name the server's tsconfig does not follow: it has no DOM types.
 */
interface Transport {
  subscribe(conversation: string, onEvent: (event: ReelEvent) => void): () => void;
  close(): Promise<void>;
}
async function httpTransport(endpoint: string, token: string): Promise<Transport> {
  const path = '../../src/transport/http/http-transport.js';
  const { HttpTransport } = (await import(path)) as {
    HttpTransport: new (options: { endpoint: string; token: string }) => Transport;
  };
  return new HttpTransport({ endpoint, token });
}

/** Event streams open on one instance, from its /metrics. */
async function streamsOpen(instance: ChildServer): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  return Number(/^reelchat_event_streams_open (\d+)$/m.exec(text)?.[1]);
}

/** A PATCH whose body is sent in two halves: the second when the caller says. */
function slowPatch(url: string, token: string, id: string, bytes: Buffer) {
  const { hostname, port } = new URL(url);
  const half = bytes.length / 2;
  let sendRest!: () => void;
  const answer = new Promise<{ status: number; offset: string | undefined }>((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method: 'PATCH',
        path: `/v1/uploads/${id}`,
        headers: auth(token, {
          'Tus-Resumable': '1.0.0',
          'Upload-Offset': '0',
          'Content-Type': 'application/offset+octet-stream',
          'Content-Length': String(bytes.length),
        }),
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, offset: res.headers['upload-offset'] as string }),
        );
      },
    );
    req.on('error', reject);
    req.write(bytes.subarray(0, half));
    sendRest = () => req.end(bytes.subarray(half));
  });
  return { answer, sendRest: () => sendRest() };
}

describe('an api instance stopped gracefully (SIGTERM)', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let victim: ChildServer | undefined;

  before(async () => {
    cluster = await startCluster({ apis: 2, workers: 0, env: { REELCHAT_DRAIN_S: '10' } });
  });
  after(async () => {
    await cluster?.stop();
    await victim?.stop();
  });

  it('sends its streams elsewhere at once, finishes its PATCH, refuses new requests with 503', async () => {
    const token = await cluster.token('alice', ['c1']);
    const post = async (text: string) => {
      const response = await fetch(`${cluster.url}/v1/conversations/c1/messages`, {
        method: 'POST',
        headers: auth(token, { 'Content-Type': 'application/json' }),
        body: JSON.stringify({ clientId: `m-${text}`, text }),
      });
      assert.equal(response.status, 201, await response.text());
    };
    const transport = await httpTransport(cluster.url, token);
    const events: ReelEvent[] = [];
    const unsubscribe = transport.subscribe('c1', (event) => events.push(event));
    const texts = () =>
      events.flatMap((event) => (event.type === 'message.created' ? [event.message.text] : []));
    const connections = () =>
      events.flatMap((event) => (event.type === 'connection' ? [event.state] : []));
    try {
      await waitFor(() => (connections().includes('online') ? true : undefined), 'online', 10_000);
      const [first, second] = cluster.apis as [ChildServer, ChildServer];
      victim = (await streamsOpen(first)) === 1 ? first : second;
      const survivor = victim === first ? second : first;
      assert.equal(await streamsOpen(victim), 1);
      await post('before');
      await waitFor(() => (texts().length === 1 ? true : undefined), 'the first event', 10_000);

      // A raw stream on the stopping instance, to see its last frame as it is sent.
      const raw = await new SseReader().open(`${victim.url}/v1/events`, auth(token));
      const bytes = randomBytes(UPLOAD_BYTES);
      const meta = { conversation: 'c1', clientId: 'slow', filetype: 'video/mp4' };
      const created = await createUpload(victim.url, token, meta, bytes.length);
      assert.equal(created.status, 201, await created.text());
      const id = created.headers.get('location')!.split('/').pop()!;
      // In flight, its first half sent (no HEAD meanwhile: tus would end the PATCH for it).
      const patch = slowPatch(victim.url, token, id, bytes);
      // The transport's stream has been open for over a second (it reconnects at once only then).
      await sleep(1000);

      const stoppedAt = Date.now();
      const exited = cluster.stopGracefully(victim);
      await waitFor(
        async () => ((await streamsOpen(survivor)) === 1 ? true : undefined),
        'the stream to reconnect to the other instance',
        5_000,
      );
      const reconnectMs = Date.now() - stoppedAt;
      console.log(`stream on the other instance ${reconnectMs} ms after SIGTERM`);
      // Without the last frame the client would say "offline" and wait its backoff (0.5 s).
      assert.deepEqual(connections(), ['online'], 'the client never went offline');
      assert.ok(reconnectMs < 1500, `reconnected ${reconnectMs} ms after SIGTERM`);

      const frames = await waitFor(
        () => (raw.events.length > 0 ? raw.events : undefined),
        'the last frame',
        5_000,
      );
      assert.deepEqual(
        frames.map((frame) => frame.event),
        ['reconnect'],
      );

      // The stop is draining (the PATCH is in flight): anything new is refused, briefly.
      const refused = await fetch(`${victim.url}/v1/conversations/c1/messages`, {
        headers: auth(token),
      });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '1');
      const refusal = await json<{ error: { retryAfter: number } }>(refused);
      assert.equal(refusal.error.retryAfter, 1);
      const ready = await fetch(`${victim.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal((await json<{ failed: string }>(ready)).failed, 'stopping');

      await post('during');
      patch.sendRest();
      const patched = await patch.answer;
      assert.equal(patched.status, 204);
      assert.equal(patched.offset, String(bytes.length));
      assert.equal(await exited, 0, victim.output());
      assert.match(victim.output(), /2 event streams told to reconnect elsewhere; 1 of 1 requests/);
      const head = await headUpload(cluster.url, token, id);
      assert.equal(head.headers.get('upload-offset'), String(bytes.length));

      await post('after');
      await waitFor(() => (texts().length === 3 ? true : undefined), 'every event', 10_000);
      await sleep(500);
      assert.deepEqual(texts(), ['before', 'during', 'after'], 'every event once, in order');
      assert.deepEqual(connections(), ['online']);
      await raw.close();
    } finally {
      unsubscribe();
      await transport.close();
    }
  });
});
