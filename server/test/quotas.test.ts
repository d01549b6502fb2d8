// Per-user upload quotas against the real server (issue 10, item 4): unfinished uploads,
// their bytes — promised or written —, bytes kept, creations per hour.
// A stand-in converter makes every complete upload ready at once; no ffmpeg runs here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  auth,
  createUpload,
  headUpload,
  json,
  patchUpload,
  uploadBytes,
  waitFor,
} from './helpers.js';
import { assertQuota, idOf, meta, startLimited } from './limits-helpers.js';

describe('per-user upload quotas', () => {
  it('limits unfinished uploads at once (429, Retry-After); a clientId retry still gets its 409', async () => {
    const server = await startLimited({ REELCHAT_QUOTA_UNFINISHED_UPLOADS: '3' });
    try {
      const alice = await server.token('alice', ['c1']);
      const bob = await server.token('bob', ['c1']);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const created = await createUpload(server.url, alice, meta(`u-${i}`), 1000);
        assert.equal(created.status, 201);
        ids.push(idOf(created));
      }
      const refused = await createUpload(server.url, alice, meta('u-3'), 1000);
      const body = await assertQuota(refused, 429, true);
      assert.match(body.error.message, /unfinished uploads/);
      // The refusal left nothing behind, and the existing upload is still named on a retry.
      const retry = await createUpload(server.url, alice, meta('u-0'), 1000);
      assert.equal(retry.status, 409);
      // Another user has their own quota.
      assert.equal((await createUpload(server.url, bob, meta('b-0'), 1000)).status, 201);
      // Finishing one frees its place.
      assert.equal(
        (await patchUpload(server.url, alice, ids[0]!, 0, new Uint8Array(1000))).status,
        204,
      );
      assert.equal((await createUpload(server.url, alice, meta('u-3'), 1000)).status, 201);
    } finally {
      await server.close();
    }
  });

  it('limits the bytes promised by unfinished uploads: 429 while others may finish, 413 when it can never fit', async () => {
    const server = await startLimited({ REELCHAT_QUOTA_UNFINISHED_BYTES: '3000' });
    try {
      const alice = await server.token('alice', ['c1']);
      assert.equal((await createUpload(server.url, alice, meta('a'), 2000)).status, 201);
      await assertQuota(await createUpload(server.url, alice, meta('b'), 1500), 429, true);
      await assertQuota(await createUpload(server.url, alice, meta('c'), 4000), 413, false);
      assert.equal((await createUpload(server.url, alice, meta('d'), 1000)).status, 201);
    } finally {
      await server.close();
    }
  });

  it('counts the bytes written to deferred uploads (recording), checked on each PATCH, also in parallel', async () => {
    const KB = 1024;
    const server = await startLimited({ REELCHAT_QUOTA_UNFINISHED_BYTES: String(300 * KB) });
    try {
      const alice = await server.token('alice', ['c1']);
      const deferred = async (clientId: string) => {
        const created = await createUpload(server.url, alice, meta(clientId), 'deferred');
        assert.equal(created.status, 201);
        return idOf(created);
      };
      const a = await deferred('rec-a');
      const b = await deferred('rec-b');
      assert.equal(
        (await patchUpload(server.url, alice, a, 0, new Uint8Array(200 * KB))).status,
        204,
      );
      await assertQuota(
        await patchUpload(server.url, alice, b, 0, new Uint8Array(150 * KB)),
        429,
        true,
      );
      assert.equal((await headUpload(server.url, alice, b)).headers.get('upload-offset'), '0');
      assert.equal(
        (await patchUpload(server.url, alice, b, 0, new Uint8Array(60 * KB))).status,
        204,
      );

      // Two writes at once may not both spend the 40 KB left.
      const c = await deferred('rec-c');
      const d = await deferred('rec-d');
      const both = await Promise.all([
        patchUpload(server.url, alice, c, 0, new Uint8Array(30 * KB)),
        patchUpload(server.url, alice, d, 0, new Uint8Array(30 * KB)),
      ]);
      assert.deepEqual(both.map((r) => r.status).sort(), [204, 429]);
      await Promise.all(both.map((r) => r.body?.cancel()));
      // Finishing a recording (declaring its length) turns its bytes into a finished upload.
      const finished = await patchUpload(
        server.url,
        alice,
        a,
        200 * KB,
        new Uint8Array(0),
        200 * KB,
      );
      assert.equal(finished.status, 204);
      assert.equal(
        (await patchUpload(server.url, alice, b, 60 * KB, new Uint8Array(100 * KB))).status,
        204,
      );
    } finally {
      await server.close();
    }
  });

  it('stops a deferred write without Content-Length at the quota, keeping what fit', async () => {
    const KB = 1024;
    const server = await startLimited({ REELCHAT_QUOTA_UNFINISHED_BYTES: String(100 * KB) });
    try {
      const alice = await server.token('alice', ['c1']);
      const created = await createUpload(server.url, alice, meta('rec'), 'deferred');
      const id = idOf(created);
      // A streamed body: fetch sends it chunked, with no Content-Length.
      const chunks = Array.from({ length: 10 }, () => new Uint8Array(20 * KB));
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const response = await fetch(`${server.url}/v1/uploads/${id}`, {
        method: 'PATCH',
        headers: auth(alice, {
          'Tus-Resumable': '1.0.0',
          'Upload-Offset': '0',
          'Content-Type': 'application/offset+octet-stream',
        }),
        body,
        duplex: 'half',
      } as RequestInit);
      // One upload alone past the whole quota: waiting would not help.
      const refused = await assertQuota(response, 413, false);
      assert.match(refused.error.message, /more than 100 KB/);
      const offset = Number((await headUpload(server.url, alice, id)).headers.get('upload-offset'));
      assert.ok(offset <= 100 * KB, `offset ${offset}`);
    } finally {
      await server.close();
    }
  });

  it('limits the bytes a user keeps (413, no Retry-After): ready clips, waiting and unfinished uploads', async () => {
    const server = await startLimited({ REELCHAT_QUOTA_STORED_BYTES: '2500' });
    try {
      const alice = await server.token('alice', ['c1']);
      const bob = await server.token('bob', ['c1']);
      const ready = await uploadBytes(server.url, alice, new Uint8Array(1000), meta('kept'));
      await waitFor(async () => {
        const video = await json<{ state: string }>(
          await fetch(`${server.url}/v1/conversations/c1/videos/${ready}`, {
            headers: auth(alice),
          }),
        );
        return video.state === 'ready' ? true : undefined;
      }, 'the clip to be ready');
      assert.equal((await createUpload(server.url, alice, meta('second'), 1000)).status, 201);
      const body = await assertQuota(
        await createUpload(server.url, alice, meta('third'), 1000),
        413,
        false,
      );
      assert.match(body.error.message, /quota/);
      assert.equal((await createUpload(server.url, bob, meta('bobs'), 1000)).status, 201);
    } finally {
      await server.close();
    }
  });

  it('limits upload creations per hour with a burst (429, Retry-After); refused ones leave nothing', async () => {
    const server = await startLimited({
      REELCHAT_QUOTA_UPLOADS_PER_HOUR: '3600',
      REELCHAT_QUOTA_UPLOADS_BURST: '2',
    });
    try {
      const alice = await server.token('alice', ['c1']);
      assert.equal((await createUpload(server.url, alice, meta('h-0'), 100)).status, 201);
      assert.equal((await createUpload(server.url, alice, meta('h-1'), 100)).status, 201);
      // Asking again for an upload that exists costs nothing.
      assert.equal((await createUpload(server.url, alice, meta('h-0'), 100)).status, 409);
      const refused = await createUpload(server.url, alice, meta('h-2'), 100);
      const body = await assertQuota(refused, 429, true);
      assert.equal(body.error.retryAfter, 1);
      // 1000 creations at once (the flood): none gets through the empty bucket.
      const flood = await Promise.all(
        Array.from({ length: 50 }, (_, i) => createUpload(server.url, alice, meta(`f-${i}`), 100)),
      );
      assert.ok(flood.filter((r) => r.status === 201).length <= 1);
      const created = await waitFor(
        async () => {
          const again = await createUpload(server.url, alice, meta('h-2'), 100);
          return again.status === 201 ? again : undefined;
        },
        'a token',
        5_000,
      );
      assert.equal(created.status, 201);
    } finally {
      await server.close();
    }
  });
});
