// The JSON API against the real server: auth, messages, paging, idempotency, limits,
// membership, CORS and path handling. No conversions happen here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { auth, json, ORIGIN, rawRequest, startServer, type TestServer } from './helpers.js';

describe('reference server API', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let eve: string;

  before(async () => {
    server = await startServer({ REELCHAT_MAX_TEXT: '20' });
    alice = await server.token('alice', ['c1', 'c2'], 'Alice');
    bob = await server.token('bob', ['c1'], 'Bob');
    eve = await server.token('eve', ['c9'], 'Eve');
  });
  after(() => server.close());

  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    fetch(server.url + path, { headers: token ? auth(token, headers) : headers });
  const post = (path: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(server.url + path, {
      method: 'POST',
      headers: auth(token, { 'Content-Type': 'application/json', ...headers }),
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers /healthz', async () => {
    const response = await get('/healthz');
    assert.equal(response.status, 200);
    assert.deepEqual(await json(response), { ok: true });
  });

  describe('tokens', () => {
    it('names the session', async () => {
      const response = await get('/v1/session', alice);
      assert.equal(response.status, 200);
      assert.deepEqual(await json(response), {
        user: 'alice',
        name: 'Alice',
        conversations: ['c1', 'c2'],
      });
    });

    it('refuses a missing, malformed, forged or expired token with 401', async () => {
      const secret = new TextEncoder().encode('another-secret-another-secret-0123456789');
      const forged = await new SignJWT({ name: 'A', conversations: ['c1'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setExpirationTime('1h')
        .sign(secret);
      const expired = await new SignJWT({ name: 'A', conversations: ['c1'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(new TextEncoder().encode('test-secret-that-is-long-enough-0123456789'));
      const noConversations = await new SignJWT({ name: 'A' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('test-secret-that-is-long-enough-0123456789'));
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
        JSON.stringify({ sub: 'alice', name: 'A', conversations: ['c1'], exp: 9999999999 }),
      ).toString('base64url')}.`;
      for (const headers of [
        {},
        { Authorization: 'Bearer not-a-jwt' },
        { Authorization: 'Basic abc' },
        auth(forged),
        auth(expired),
        auth(noConversations),
        auth(unsigned),
      ]) {
        const response = await get('/v1/session', undefined, headers);
        assert.equal(response.status, 401, JSON.stringify(headers));
        const body = await json<{ error: { code: string } }>(response);
        assert.equal(body.error.code, 'unauthorized');
      }
      const body = await json<{ error: { message: string } }>(await get('/v1/session', expired));
      assert.match(body.error.message, /expired/);
    });

    it('accepts EdDSA tokens when configured with a public key', async () => {
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
      const other = await startServer({
        REELCHAT_JWT_SECRET: '',
        REELCHAT_JWT_PUBLIC_KEY: await exportSPKI(publicKey),
      });
      try {
        const token = await new SignJWT({ name: 'Alice', conversations: ['c1'] })
          .setProtectedHeader({ alg: 'EdDSA' })
          .setSubject('alice')
          .setExpirationTime('1h')
          .sign(privateKey);
        assert.equal(
          (await fetch(`${other.url}/v1/session`, { headers: auth(token) })).status,
          200,
        );
        // An HS256 token is not accepted by a server that only knows the public key.
        assert.equal(
          (await fetch(`${other.url}/v1/session`, { headers: auth(alice) })).status,
          401,
        );
      } finally {
        await other.close();
      }
    });

    it('hands out dev tokens only when enabled', async () => {
      assert.equal((await get('/v1/dev/token?user=a&conversations=c1')).status, 404);
      const dev = await startServer({ REELCHAT_JWT_SECRET: '', REELCHAT_DEV_TOKENS: '1' });
      try {
        const response = await fetch(
          `${dev.url}/v1/dev/token?user=zoe&name=Zoe&conversations=c1,c2`,
        );
        assert.equal(response.status, 200);
        const { token } = await json<{ token: string }>(response);
        const session = await fetch(`${dev.url}/v1/session`, { headers: auth(token) });
        assert.deepEqual(await json(session), {
          user: 'zoe',
          name: 'Zoe',
          conversations: ['c1', 'c2'],
        });
        assert.equal((await fetch(`${dev.url}/v1/dev/token?user=../x`)).status, 400);
      } finally {
        await dev.close();
      }
    });
  });

  describe('messages', () => {
    it('creates a text message once per clientId', async () => {
      const first = await post('/v1/conversations/c2/messages', alice, {
        clientId: 'm-1',
        text: '  hello  ',
      });
      assert.equal(first.status, 201);
      const message = await json(first);
      assert.equal(message.text, 'hello');
      assert.equal(message.author, 'alice');
      assert.equal(message.authorName, 'Alice');
      assert.equal(message.conversation, 'c2');
      assert.equal(message.clientId, 'm-1');
      assert.match(message.id as string, /^[A-Za-z0-9_-]{21}$/);
      assert.ok(!Number.isNaN(Date.parse(message.createdAt as string)));

      const again = await post('/v1/conversations/c2/messages', alice, {
        clientId: 'm-1',
        text: 'different',
      });
      assert.equal(again.status, 200);
      assert.deepEqual(await json(again), message);
      // Another author may use the same clientId.
      const bobs = await post('/v1/conversations/c1/messages', bob, {
        clientId: 'm-1',
        text: 'hi',
      });
      assert.equal(bobs.status, 201);

      const page = await json<{ messages: unknown[] }>(
        await get('/v1/conversations/c2/messages', alice),
      );
      assert.equal(page.messages.length, 1);
    });

    it('refuses bad bodies with 400/413 and stores nothing', async () => {
      const cases: [unknown, number][] = [
        ['{"clientId": "x", "text": ', 400],
        ['', 400],
        ['[1,2]', 400],
        [{ text: 'no client id' }, 400],
        [{ clientId: '../x', text: 'bad id' }, 400],
        [{ clientId: 'b-1' }, 400],
        [{ clientId: 'b-2', text: '   ' }, 400],
        [{ clientId: 'b-3', text: 5 }, 400],
        [{ clientId: 'b-4', text: 'x', video: 'y' }, 400],
        [{ clientId: 'b-5', text: 'x'.repeat(21) }, 413],
        [{ clientId: 'b-6', text: 'x'.repeat(70 * 1024) }, 413],
        [{ clientId: 'b-7', video: 'no-such-video' }, 400],
      ];
      for (const [body, status] of cases) {
        const response = await post('/v1/conversations/c1/messages', bob, body);
        assert.equal(response.status, status, JSON.stringify(body).slice(0, 60));
        const { error } = await json<{ error: { code: string; message: string } }>(response);
        assert.equal(error.code, status === 413 ? 'too-large' : 'bad-request');
        assert.ok(error.message.length > 0);
      }
      const page = await json<{ messages: { clientId: string }[] }>(
        await get('/v1/conversations/c1/messages', bob),
      );
      assert.deepEqual(
        page.messages.map((m) => m.clientId),
        ['m-1'],
      );
    });

    it('pages oldest first, backwards from the newest and forwards from a cursor', async () => {
      const ids: string[] = [];
      for (let i = 1; i <= 7; i++) {
        const response = await post('/v1/conversations/c2/messages', alice, {
          clientId: `p-${i}`,
          text: `#${i}`,
        });
        ids.push((await json<{ id: string }>(response)).id);
      }
      // c2 already holds "hello" from the first test: 8 messages in all.
      const texts = async (query: string) => {
        const page = await json<{ messages: { text: string }[]; next: string | null }>(
          await get(`/v1/conversations/c2/messages?${query}`, alice),
        );
        return { texts: page.messages.map((m) => m.text), next: page.next };
      };
      assert.deepEqual(await texts('limit=3'), { texts: ['#5', '#6', '#7'], next: ids[4] });
      assert.deepEqual(await texts(`limit=3&before=${ids[4]}`), {
        texts: ['#2', '#3', '#4'],
        next: ids[1],
      });
      assert.deepEqual(await texts(`limit=3&before=${ids[1]}`), {
        texts: ['hello', '#1'],
        next: null,
      });
      assert.deepEqual(await texts(`limit=3&after=${ids[0]}`), {
        texts: ['#2', '#3', '#4'],
        next: ids[3],
      });
      assert.deepEqual(await texts(`limit=3&after=${ids[3]}`), {
        texts: ['#5', '#6', '#7'],
        next: null,
      });
      assert.deepEqual(await texts(`after=${ids[0]}&before=${ids[3]}`), {
        texts: ['#2', '#3'],
        next: null,
      });
      assert.equal((await texts('')).texts.length, 8);
      assert.equal((await get('/v1/conversations/c2/messages?after=nope', alice)).status, 400);
      assert.equal((await get('/v1/conversations/c2/messages?limit=0', alice)).status, 400);
      // A cursor from another conversation is not a cursor here.
      assert.equal((await get(`/v1/conversations/c1/messages?after=${ids[0]}`, bob)).status, 400);
      const capped = await json<{ messages: unknown[] }>(
        await get('/v1/conversations/c2/messages?limit=500', alice),
      );
      assert.equal(capped.messages.length, 8);
    });

    it('keeps non-members out of messages, videos and events', async () => {
      for (const path of [
        '/v1/conversations/c1/messages',
        '/v1/conversations/c1/videos?owner=bob',
        '/v1/conversations/c1/videos/abc',
        '/v1/events?conversation=c1',
      ]) {
        const response = await get(path, eve);
        assert.equal(response.status, 403, path);
        assert.equal((await json<{ error: { code: string } }>(response)).error.code, 'forbidden');
      }
      assert.equal(
        (await post('/v1/conversations/c1/messages', eve, { clientId: 'e', text: 'x' })).status,
        403,
      );
      assert.equal((await get('/v1/events?access_token=garbage')).status, 401);
    });

    it('lists no videos before any are shared', async () => {
      const response = await get('/v1/conversations/c1/videos?owner=bob', alice);
      assert.deepEqual(await json(response), { videos: [], next: null });
      assert.equal((await get('/v1/conversations/c1/videos/nope', alice)).status, 404);
    });
  });

  describe('paths', () => {
    it('answers 404 for unknown routes and 405 for wrong methods, in JSON', async () => {
      const unknown = await get('/v2/nothing', alice);
      assert.equal(unknown.status, 404);
      assert.equal((await json<{ error: { code: string } }>(unknown)).error.code, 'not-found');
      const wrong = await fetch(`${server.url}/v1/conversations/c1/messages`, {
        method: 'DELETE',
        headers: auth(alice),
      });
      assert.equal(wrong.status, 405);
      assert.match(wrong.headers.get('allow') ?? '', /GET/);
    });

    it('refuses ids with path characters', async () => {
      for (const c of ['..%2Fc1', '%2F', 'c1%00', '..', '%2E%2E', 'a%5Cb', '%E0%A4%A']) {
        const response = await rawRequest(server.url, `/v1/conversations/${c}/messages`, {
          headers: auth(alice),
        });
        assert.equal(response.status, 400, c);
      }
      for (const path of [
        '/media/..%2F..%2Freelchat.db/index.m3u8',
        '/media/abc/..%2F..%2Freelchat.db',
        '/media/abc/..',
        '/media/../reelchat.db',
        '/media/%2E%2E/reelchat.db',
        '/media/../../etc/passwd',
        '/media/abc/index.m3u8%00',
        '/media/abc/other.txt',
        '/media/abc/seg1.m4s/x',
      ]) {
        const response = await rawRequest(server.url, path, { headers: auth(alice) });
        assert.equal(response.status, 404, path);
      }
      for (const id of ['..%2F..%2Freelchat.db', '%2E%2E', 'a%2Fb', 'x'.repeat(65)]) {
        for (const method of ['HEAD', 'PATCH', 'DELETE']) {
          const response = await rawRequest(server.url, `/v1/uploads/${id}`, {
            method,
            headers: auth(alice, {
              'Tus-Resumable': '1.0.0',
              'Upload-Offset': '0',
              'Content-Type': 'application/offset+octet-stream',
            }),
          });
          assert.equal(response.status, 404, `${method} ${id}`);
        }
      }
    });

    it('refuses media without a member token or a valid signed token', async () => {
      assert.equal((await get('/media/abcdef/index.m3u8')).status, 401);
      assert.equal((await get('/media/abcdef/index.m3u8?t=123.abc')).status, 401);
      assert.equal((await get('/media/abcdef/index.m3u8', alice)).status, 404);
    });
  });

  describe('CORS', () => {
    it('answers allowed origins, preflight included', async () => {
      const preflight = await fetch(`${server.url}/v1/uploads`, {
        method: 'OPTIONS',
        headers: {
          Origin: ORIGIN,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers':
            'authorization, tus-resumable, upload-length, upload-metadata',
        },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), ORIGIN);
      const allowHeaders = preflight.headers.get('access-control-allow-headers')!.toLowerCase();
      for (const header of [
        'authorization',
        'content-type',
        'last-event-id',
        'tus-resumable',
        'upload-offset',
      ]) {
        assert.ok(allowHeaders.includes(header), header);
      }
      assert.match(preflight.headers.get('access-control-allow-methods')!, /PATCH/);

      const response = await get('/v1/session', alice, { Origin: ORIGIN });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('access-control-allow-origin'), ORIGIN);
      assert.match(response.headers.get('access-control-expose-headers')!, /Upload-Offset/);
    });

    it('refuses other origins and serves same-origin requests', async () => {
      const preflight = await fetch(`${server.url}/v1/session`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
      });
      assert.equal(preflight.status, 403);
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
      const refused = await get('/v1/session', alice, { Origin: 'https://evil.example' });
      assert.equal(refused.status, 403);
      assert.equal(refused.headers.get('access-control-allow-origin'), null);
      const own = await get('/v1/session', alice, { Origin: server.url });
      assert.equal(own.status, 200);
    });
  });
});
