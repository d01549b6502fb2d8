import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { MediaSigner } from '../auth/media-tokens.js';
import { HttpError, sendError } from '../http/errors.js';
import type { MetadataStore } from '../store/types.js';
import { LocalFanout } from './fanout.js';
import { SseHub } from './sse.js';

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

/** An SSE server whose handler waits `delayMs` (as the token check does) before streaming. */
async function serve(delayMs: number, maxStreamsPerUser = 4) {
  const fanout = new CountingFanout();
  const store = { eventsAfter: async () => [] } as unknown as MetadataStore;
  const hub = new SseHub(store, fanout, new MediaSigner(randomBytes(32), 60), {
    heartbeatMs: 60_000,
    retryMs: 1000,
    maxStreamsPerUser,
  });
  const server = http.createServer((req, res) => {
    void (async () => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await hub.stream({
        req,
        res,
        user: 'u',
        conversations: ['c'],
        lastEventId: 0,
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
});
