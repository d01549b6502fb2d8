// One user's heavy clips do not hold every conversion slot (issue 10, item 5): with two
// slots, a clip from another user starts while the first user's clips wait their turn.
// A stub converter holds alice's clips until released, so the order is the queue's alone.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { describe, it } from 'node:test';
import type { ConvertResult } from '../convert/index.js';
import type { VideoConverter } from '../jobs/worker.js';
import { auth, json, startServer, uploadBytes, waitFor } from './helpers.js';

const RESULT: ConvertResult = {
  duration: 3,
  width: 320,
  height: 240,
  bytes: 1000,
  videoCodec: 'vp8',
  audioCodec: null,
  remuxed: false,
};

/** Converts at once, except the clips in `held`, which wait for release() (or an abort). */
class HoldingConverter implements VideoConverter {
  readonly held = new Set<string>();
  readonly started: string[] = [];
  readonly running = new Set<string>();
  maxHeldAtOnce = 0;
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));

  async convert(input: string, _outputDir: string, signal?: AbortSignal): Promise<ConvertResult> {
    const id = basename(input);
    this.started.push(id);
    this.running.add(id);
    try {
      if (this.held.has(id)) {
        const heldNow = [...this.running].filter((running) => this.held.has(running)).length;
        this.maxHeldAtOnce = Math.max(this.maxHeldAtOnce, heldNow);
        await new Promise<void>((resolve, reject) => {
          void this.released.then(resolve);
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
      return RESULT;
    } finally {
      this.running.delete(id);
    }
  }

  releaseAll(): void {
    this.release();
  }

  async close(): Promise<void> {
    this.release();
  }
}

describe('a fair conversion queue', () => {
  it('converts another user’s clip while one user’s two clips wait their turn', async () => {
    const converter = new HoldingConverter();
    const server = await startServer({ REELCHAT_CONVERT_CONCURRENCY: '2' }, { converter });
    try {
      const alice = await server.token('alice', ['c1']);
      const bob = await server.token('bob', ['c1']);
      const upload = (token: string, clientId: string) =>
        uploadBytes(server.url, token, randomBytes(1000), {
          conversation: 'c1',
          clientId,
          filetype: 'video/webm',
        });
      // alice's clips are "heavy": they hold their slot until released.
      const a1 = await upload(alice, 'heavy-1');
      converter.held.add(a1);
      const a2 = await upload(alice, 'heavy-2');
      converter.held.add(a2);
      await waitFor(() => (converter.started.includes(a1) ? true : undefined), 'a1 to start');
      const b1 = await upload(bob, 'short');

      const stateOf = async (token: string, id: string) => {
        const response = await fetch(`${server.url}/v1/conversations/c1/videos/${id}`, {
          headers: auth(token),
        });
        return (await json<{ state: string }>(response)).state;
      };
      await waitFor(
        async () => ((await stateOf(bob, b1)) === 'ready' ? true : undefined),
        'bob’s clip to be ready while alice’s are held',
        10_000,
      );
      assert.equal(await stateOf(alice, a1), 'processing');
      assert.equal(await stateOf(alice, a2), 'processing');
      assert.deepEqual(converter.started, [a1, b1], 'alice’s second clip waits for her first');

      converter.releaseAll();
      for (const id of [a1, a2]) {
        await waitFor(
          async () => ((await stateOf(alice, id)) === 'ready' ? true : undefined),
          `alice’s clip ${id}`,
          10_000,
        );
      }
      assert.deepEqual(converter.started, [a1, b1, a2]);
      assert.equal(converter.maxHeldAtOnce, 1, 'one of alice’s conversions at a time');
    } finally {
      await server.close();
    }
  });
});
