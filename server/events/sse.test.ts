import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { MediaSigner } from '../auth/media-tokens.js';
import { waitFor } from '../test/helpers.js';
import { HttpError, sendError } from '../http/errors.js';
import type { MetadataStore, StoredEvent } from '../store/types.js';
import { LocalFanout } from './fanout.js';
import { SseHub, writeOrDrop } from './sse.js';

/** A fan-out that counts its listeners. */
class CountingFanout extends LocalFanout {
  subscribed = 0;
  override subscribe(listener: Parameters<LocalFanout['subscribe']>[0]): () => void {
    this.subscribed++;
    const unsubscribe = super.subscribe(listener);
    return () => {
      this.subscribed--;
      unsubscribe();
    };
  }
}

/** A log of `count` message events in conversation c, each with `textLength` characters. */
function eventLog(count: number, textLength: number): Pick<MetadataStore, 'eventsAfter'> {
  const text = 'x'.repeat(textLength);
  return {
    eventsAfter: async (after, _conversations, _user, limit) =>
      Array.from({ length: Math.max(0, Math.min(limit, count - after)) }, (_, i) => {
        const seq = after + i + 1;
        const message = {
          id: `m${seq}`,
          conversation: 'c',
          clientId: `k${seq}`,
          author: 'u',
          authorName: 'U',
          text,
          video: null,
          createdAt: new Date(0).toISOString(),
          deletedAt: null,
        };
        return { seq, conversation: 'c', audience: null, type: 'message.created', message };
      }) satisfies StoredEvent[],
  };
}

/** An SSE server whose handler waits `delayMs` (as the token check does) before streaming. */
async function serve(
  delayMs: number,
  maxStreamsPerUser = 4,
  log: Pick<MetadataStore, 'eventsAfter'> = eventLog(0, 0),
  maxBufferedBytes = 1024 * 1024,
) {
  const fanout = new CountingFanout();
  const store = log as unknown as MetadataStore;
  const hub = new SseHub(store, fanout, new MediaSigner(randomBytes(32), 60), {
    heartbeatMs: 60_000,
    retryMs: 1000,
    maxStreamsPerUser,
    maxBufferedBytes,
  });
  const server = http.createServer((req, res) => {
    void (async () => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const lastEventId = Number(req.headers['last-event-id'] ?? 0);
      await hub.stream({
        req,
        res,
        user: 'u',
        conversations: ['c'],
        lastEventId,
        expiresAt: Date.now() + 60_000,
      });
    })().catch((error: unknown) => {
      if (error instanceof HttpError) sendError(res, error);
      else {
        console.error(error);
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    fanout,
    url,
    async close() {
      hub.closeAll();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('SseHub', () => {
  it('keeps nothing for a client that left before its stream started', async () => {
    const sse = await serve(200, 2);
    try {
      for (let i = 0; i < 3; i++) {
        const gone = new AbortController();
        const request = fetch(sse.url, { signal: gone.signal }).catch(() => undefined);
        setTimeout(() => gone.abort(), 50);
        await request;
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(sse.fanout.subscribed, 0, 'no listener left behind');
      // Nor does a departed client count against the user's limit.
      const response = await fetch(sse.url);
      assert.equal(response.status, 200);
      await response.body?.cancel();
    } finally {
      await sse.close();
    }
  });

  it('refuses a user more streams than the limit, and frees a slot when one closes', async () => {
    const sse = await serve(0, 2);
    try {
      const first = new AbortController();
      const open = [await fetch(sse.url, { signal: first.signal }), await fetch(sse.url)];
      assert.deepEqual(
        open.map((r) => r.status),
        [200, 200],
      );
      const refused = await fetch(sse.url);
      assert.equal(refused.status, 429);
      const body = (await refused.json()) as { error: { message: string } };
      assert.match(body.error.message, /Too many event streams/);
      first.abort();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = await fetch(sse.url);
      assert.equal(again.status, 200);
      await again.body?.cancel();
      await open[1]!.body?.cancel();
    } finally {
      await sse.close();
    }
  });

  it('replays a long log to a client that reads, without dropping it for being behind', async () => {
    // 1500 events of ~4 KB (6 MB; 2 MB a batch) against a 64 KB bound: the replay waits.
    const sse = await serve(0, 4, eventLog(1500, 4000), 64 * 1024);
    try {
      const response = await fetch(sse.url, { headers: { 'Last-Event-ID': '1' } });
      let text = '';
      for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
        text += chunk.replace(/x+/g, 'x');
        if (text.includes('id: 1500\n')) break;
      }
      const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
      assert.deepEqual(
        ids,
        Array.from({ length: 1499 }, (_, i) => i + 2),
      );
    } finally {
      await sse.close();
    }
  });
});

describe('writeOrDrop', () => {
  it('writes nothing after the end, and drops a stream whose client does not read', async () => {
    const results: { afterEnd?: boolean; errors: number; stillOpen?: boolean } = { errors: 0 };
    const server = http.createServer((req, res) => {
      res.on('error', () => results.errors++);
      if (req.url === '/ended') {
        res.end('bye');
        results.afterEnd = writeOrDrop(res, Buffer.from('late'), 1024);
        return;
      }
      res.writeHead(200);
      // 16 MB at once: the kernel takes a few, the rest would be queued past the bound.
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      let open = true;
      for (let i = 0; i < 16 && open; i++) open = writeOrDrop(res, chunk, 64 * 1024);
      results.stillOpen = open;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/ended`)).text(), 'bye');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(results.afterEnd, false);
      assert.equal(results.errors, 0, 'no write-after-end error');
      // A client that never reads the response.
      const stalled = net.connect(port, '127.0.0.1');
      stalled.on('error', () => undefined);
      stalled.pause();
      stalled.write('GET /stalled HTTP/1.1\r\nHost: x\r\n\r\n');
      const open = await waitFor(() => results.stillOpen, 'the stalled response', 5000);
      assert.equal(open, false, 'dropped once past the bound');
      stalled.destroy();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
