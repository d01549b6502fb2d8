// Attacks from a caller with a valid token against data that is not theirs: other users'
// uploads and videos, other conversations, forged or odd tokens, floods. Each test here
// failed before the fix it guards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  auth,
  createUpload,
  headUpload,
  patchUpload,
  rawRequest,
  SECRET,
  startServer,
  type TestServer,
} from './helpers.js';

describe('security', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let mallory: string;

  before(async () => {
    server = await startServer();
    alice = await server.token('alice', ['c1', 'c2'], 'Alice');
    bob = await server.token('bob', ['c1'], 'Bob');
    mallory = await server.token('mallory', ['c1'], 'Mallory');
  });
  after(() => server.close());

  const locationId = (response: Response) => response.headers.get('location')!.split('/').pop()!;

  describe('tus', () => {
    it('acts on the upload in the path only, never on an id smuggled in the query', async () => {
      // Alice's unfinished upload in c2, a conversation Mallory is not in.
      const victim = locationId(
        await createUpload(
          server.url,
          alice,
          { conversation: 'c2', clientId: 'secret-take', filetype: 'video/webm' },
          1000,
        ),
      );
      assert.equal(
        (await patchUpload(server.url, alice, victim, 0, new Uint8Array(10))).status,
        204,
      );
      // Mallory's own unfinished upload passes the ownership check…
      const own = locationId(
        await createUpload(
          server.url,
          mallory,
          { conversation: 'c1', clientId: 'decoy', filetype: 'video/webm' },
          1000,
        ),
      );
      const headers = (extra: Record<string, string> = {}) =>
        auth(mallory, { 'Tus-Resumable': '1.0.0', ...extra });
      // …and the query names Alice's.
      const head = await rawRequest(server.url, `/v1/uploads/${own}?x=/${victim}`, {
        method: 'HEAD',
        headers: headers(),
      });
      assert.equal(head.headers['upload-offset'], '0', 'HEAD answered about the path upload');
      assert.equal(head.headers['upload-metadata']?.includes('c2'), false);

      const patch = await fetch(`${server.url}/v1/uploads/${own}?x=/${victim}`, {
        method: 'PATCH',
        headers: headers({
          'Upload-Offset': '10',
          'Content-Type': 'application/offset+octet-stream',
        }),
        body: new Uint8Array(990),
      });
      assert.notEqual(patch.status, 204, 'PATCH must not write into Alice’s upload');

      const removed = await rawRequest(server.url, `/v1/uploads/${own}?x=/${victim}`, {
        method: 'DELETE',
        headers: headers(),
      });
      assert.equal(removed.status, 204);
      // Alice's upload is untouched; Mallory's own is the one that went.
      const aliceHead = await headUpload(server.url, alice, victim);
      assert.equal(aliceHead.status, 200);
      assert.equal(aliceHead.headers.get('upload-offset'), '10');
      assert.equal((await headUpload(server.url, mallory, own)).status, 404);
    });

    it('lets someone who left the conversation remove their upload, not add to it', async () => {
      const id = locationId(
        await createUpload(
          server.url,
          alice,
          { conversation: 'c2', clientId: 'before-leaving', filetype: 'video/webm' },
          1000,
        ),
      );
      // Alice's next token no longer names c2.
      const left = await server.token('alice', ['c1'], 'Alice');
      const head = await headUpload(server.url, left, id);
      assert.equal(head.status, 403);
      const patch = await patchUpload(server.url, left, id, 0, new Uint8Array(1000));
      assert.equal(patch.status, 403);
      assert.equal((await headUpload(server.url, alice, id)).headers.get('upload-offset'), '0');
      const removed = await fetch(`${server.url}/v1/uploads/${id}`, {
        method: 'DELETE',
        headers: auth(left, { 'Tus-Resumable': '1.0.0' }),
      });
      assert.equal(removed.status, 204);
    });
  });

  describe('already sound (kept as regressions)', () => {
    it('refuses attaching a video that is not the caller’s own in this conversation', async () => {
      const bobsVideo = locationId(
        await createUpload(
          server.url,
          bob,
          { conversation: 'c1', clientId: 'bobs-clip', filetype: 'video/webm' },
          1000,
        ),
      );
      const alicesC2Video = locationId(
        await createUpload(
          server.url,
          alice,
          { conversation: 'c2', clientId: 'c2-clip', filetype: 'video/webm' },
          1000,
        ),
      );
      const send = (token: string, c: string, video: string, clientId: string) =>
        fetch(`${server.url}/v1/conversations/${c}/messages`, {
          method: 'POST',
          headers: auth(token, { 'Content-Type': 'application/json' }),
          body: JSON.stringify({ clientId, video }),
        });
      assert.equal((await send(mallory, 'c1', bobsVideo, 'steal-1')).status, 400);
      assert.equal((await send(alice, 'c1', alicesC2Video, 'move-1')).status, 400);
      // Another conversation's video is not found through this one, even by a member of both.
      const crossed = await fetch(`${server.url}/v1/conversations/c1/videos/${alicesC2Video}`, {
        headers: auth(alice),
      });
      assert.equal(crossed.status, 404);
      // Nor by the bearer route of media.
      const media = await fetch(`${server.url}/media/${alicesC2Video}/index.m3u8`, {
        headers: auth(bob),
      });
      assert.equal(media.status, 403);
    });

    it('replays only the caller’s conversations after Last-Event-ID', async () => {
      const post = (token: string, c: string, clientId: string) =>
        fetch(`${server.url}/v1/conversations/${c}/messages`, {
          method: 'POST',
          headers: auth(token, { 'Content-Type': 'application/json' }),
          body: JSON.stringify({ clientId, text: `in ${c}` }),
        });
      // Event 1 is skipped by Last-Event-ID: 1; the secret comes after it.
      assert.equal((await post(alice, 'c2', 'replay-first')).status, 201);
      assert.equal((await post(alice, 'c2', 'replay-secret')).status, 201);
      assert.equal((await post(alice, 'c1', 'replay-public')).status, 201);
      const controller = new AbortController();
      const response = await fetch(`${server.url}/v1/events`, {
        headers: auth(bob, { 'Last-Event-ID': '1' }),
        signal: controller.signal,
      });
      assert.equal(response.status, 200);
      const reader = response.body!.getReader();
      let text = '';
      while (!text.includes('replay-public')) {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
      }
      controller.abort();
      assert.equal(text.includes('replay-secret'), false);
      assert.equal(text.includes('"conversation":"c2"'), false);
    });

    it('refuses the null origin and look-alike origins', async () => {
      for (const origin of ['null', 'https://chat.example.evil', 'https://chat.example:8443']) {
        const response = await fetch(`${server.url}/v1/session`, {
          headers: auth(alice, { Origin: origin }),
        });
        assert.equal(response.status, 403, origin);
        assert.equal(response.headers.get('access-control-allow-origin'), null);
      }
    });

    it('refuses tokens whose conversations are not a list of ids', async () => {
      const { SignJWT } = await import('jose');
      for (const conversations of ['c1', { 0: 'c1' }, ['c1', '../c2'], null]) {
        const token = await new SignJWT({ name: 'A', conversations })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('alice')
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(SECRET));
        const response = await fetch(`${server.url}/v1/session`, { headers: auth(token) });
        assert.equal(response.status, 401, JSON.stringify(conversations));
      }
    });
  });
});
