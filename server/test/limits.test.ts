// Per-user limits against the real server (issue 10): the message rate, the HTTP timeouts
// (a slow but steady upload survives, a stalled socket does not), and the smaller checks:
// Upload-Concat, paged videos, invisible message text. No ffmpeg runs here.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  auth,
  createUpload,
  headUpload,
  json,
  tusMetadata,
  uploadBytes,
  waitFor,
  type TestServer,
} from './helpers.js';
import { assertQuota, idOf, meta, startLimited, type ErrorBody } from './limits-helpers.js';

describe('message rate', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;

  before(async () => {
    server = await startLimited({
      REELCHAT_RATE_MESSAGES_BURST: '5',
      REELCHAT_RATE_MESSAGES_PER_MINUTE: '60',
    });
    alice = await server.token('alice', ['c1']);
    bob = await server.token('bob', ['c1']);
  });
  after(() => server.close());

  const send = (token: string, clientId: string, text = clientId) =>
    fetch(`${server.url}/v1/conversations/c1/messages`, {
      method: 'POST',
      headers: auth(token, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ clientId, text }),
    });

  it('lets a burst through, then answers 429 with Retry-After; a retry of a sent message is free', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await send(alice, `m-${i}`)).status, 201);
    const refused = await send(alice, 'm-5');
    await assertQuota(refused, 429, true);
    // The bucket is empty, yet the retry of a message already sent is answered.
    const retry = await send(alice, 'm-0');
    assert.equal(retry.status, 200);
    assert.equal((await json<{ text: string }>(retry)).text, 'm-0');
    // Bob has his own bucket.
    assert.equal((await send(bob, 'b-0')).status, 201);
    // The flood of the issue (5000 in 1.6 s): at most the refill gets through.
    const flood = await Promise.all(Array.from({ length: 100 }, (_, i) => send(alice, `f-${i}`)));
    assert.ok(flood.filter((r) => r.status === 201).length <= 2);
    assert.ok(flood.every((r) => r.status === 201 || r.status === 429));
    // Waiting as told lets the refused message through, once.
    const sent = await waitFor(
      async () => {
        const again = await send(alice, 'm-5');
        return again.status === 201 ? again : undefined;
      },
      'a token',
      5_000,
    );
    assert.equal((await json<{ clientId: string }>(sent)).clientId, 'm-5');
    assert.equal((await send(alice, 'm-5')).status, 200);
  });
});

/** A PATCH sent `chunk` bytes every `everyMs`, `count` times, on one request. */
function slowPatch(
  url: string,
  token: string,
  id: string,
  chunk: number,
  everyMs: number,
  count: number,
): Promise<{ status: number; offset: string | undefined }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
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
          'Content-Length': String(chunk * count),
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
    let sent = 0;
    const timer = setInterval(() => {
      req.write(new Uint8Array(chunk));
      if (++sent === count) {
        clearInterval(timer);
        req.end();
      }
    }, everyMs);
  });
}

/** Opens a socket, lets `start` write to it, and resolves with what came back once the server closed it. */
function untilClosed(
  url: string,
  start: (socket: import('node:net').Socket) => void,
): Promise<{ ms: number; reply: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const began = Date.now();
    const socket = connect(Number(port), hostname, () => start(socket));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => (reply += data));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ ms: Date.now() - began, reply }));
  });
}

describe('HTTP timeouts', () => {
  let server: TestServer;
  let alice: string;

  before(async () => {
    server = await startLimited({
      REELCHAT_HEADERS_TIMEOUT_S: '1',
      REELCHAT_REQUEST_TIMEOUT_S: '1',
      // Twice the request timeout: the slow upload's 250 ms gaps leave a wide margin on a busy machine.
      REELCHAT_IDLE_TIMEOUT_S: '2',
    });
    alice = await server.token('alice', ['c1']);
  });
  after(() => server.close());

  const headers = (token: string, extra: Record<string, string>) =>
    Object.entries(auth(token, { Host: 'localhost', ...extra }))
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');

  it('never cuts a slow but steady upload (64 KB/s for 5 s: past the request and idle timeouts)', async () => {
    const created = await createUpload(server.url, alice, meta('slow'), 320 * 1024);
    const id = idOf(created);
    const started = Date.now();
    const result = await slowPatch(server.url, alice, id, 16 * 1024, 250, 20);
    assert.ok(Date.now() - started >= 4_500);
    assert.deepEqual(result, { status: 204, offset: String(320 * 1024) });
    // Node's own whole-request timeout (300 s by default: what cut the 64 KB/s
    // upload) counts upload bodies too, so it is off; the idle timeout bounds a stall.
    assert.equal(server.app.server.requestTimeout, 0);
    assert.equal(server.app.server.timeout, 2000);
  });

  it('closes a stalled upload after the idle timeout, keeping its bytes for a resume', async () => {
    const created = await createUpload(server.url, alice, meta('stalled'), 100_000);
    const id = idOf(created);
    const closed = await untilClosed(server.url, (socket) => {
      socket.write(
        `PATCH /v1/uploads/${id} HTTP/1.1\r\n` +
          headers(alice, {
            'Tus-Resumable': '1.0.0',
            'Upload-Offset': '0',
            'Content-Type': 'application/offset+octet-stream',
            'Content-Length': '100000',
          }) +
          '\r\n',
      );
      socket.write(new Uint8Array(10_000));
    });
    // Closed for being quiet (2 s), not for anything else.
    assert.ok(closed.ms >= 1_800 && closed.ms < 5_000, `closed after ${closed.ms} ms`);
    const offset = await waitFor(
      async () => {
        const head = await headUpload(server.url, alice, id);
        return head.headers.get('upload-offset') === '10000' ? '10000' : undefined;
      },
      'the stalled bytes',
      5_000,
    );
    assert.equal(offset, '10000');
  });

  it('closes a connection that drips its headers (slowloris) with 408', async () => {
    const closed = await untilClosed(server.url, (socket) => {
      socket.write('GET /v1/session HTTP/1.1\r\nHost: localhost\r\n');
      const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 200);
      socket.on('close', () => clearInterval(drip));
    });
    assert.ok(closed.ms < 5_000, `closed after ${closed.ms} ms`);
    assert.match(closed.reply, /^HTTP\/1\.1 408/);
  });

  it('answers 408 to a JSON body that trickles in past the request timeout, logging no fault', async (t: TestContext) => {
    const logged = t.mock.method(console, 'error', () => undefined);
    const body = JSON.stringify({ clientId: 'trickle', text: 'x'.repeat(40) });
    const closed = await untilClosed(server.url, (socket) => {
      socket.write(
        'POST /v1/conversations/c1/messages HTTP/1.1\r\n' +
          headers(alice, {
            'Content-Type': 'application/json',
            'Content-Length': String(body.length),
          }) +
          '\r\n',
      );
      let sent = 0;
      const drip = setInterval(() => {
        if (!socket.destroyed) socket.write(body[sent++] ?? ' ');
      }, 200);
      socket.on('close', () => clearInterval(drip));
    });
    assert.ok(closed.ms < 5_000, `closed after ${closed.ms} ms`);
    assert.match(closed.reply, /^HTTP\/1\.1 408/);
    assert.match(closed.reply, /did not arrive within 1 s/);
    assert.equal(logged.mock.callCount(), 0);
  });
});

describe('smaller checks', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;

  before(async () => {
    server = await startLimited({});
    alice = await server.token('alice', ['c1']);
    bob = await server.token('bob', ['c1']);
  });
  after(() => server.close());

  const send = (text: string, clientId: string) =>
    fetch(`${server.url}/v1/conversations/c1/messages`, {
      method: 'POST',
      headers: auth(alice, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ clientId, text }),
    });

  it('answers Upload-Concat with 501 "unsupported", saying why, and logs no fault', async (t: TestContext) => {
    const logged = t.mock.method(console, 'error', () => undefined);
    for (const concat of ['partial', 'final;/v1/uploads/a /v1/uploads/b']) {
      const response = await fetch(`${server.url}/v1/uploads`, {
        method: 'POST',
        headers: auth(alice, {
          'Tus-Resumable': '1.0.0',
          'Upload-Concat': concat,
          'Upload-Length': '100',
          'Upload-Metadata': tusMetadata(meta(`concat-${concat.length}`)),
        }),
      });
      const body = await json<ErrorBody>(response);
      assert.equal(response.status, 501);
      assert.equal(body.error.code, 'unsupported');
      assert.match(body.error.message, /concatenation/i);
    }
    assert.equal(logged.mock.callCount(), 0);
  });

  it('refuses text with nothing visible, strips controls but newline and tab, keeps emoji sequences', async () => {
    for (const [i, text] of [
      '\u200b',
      '\u200b\u200d\u2060\ufeff',
      ' \t\n\u00a0\u3000',
      '\u3164\u115f',
      '\ufe0f\u0301',
      '\u0000\u0007\u001b',
      '\u2800',
    ].entries()) {
      const response = await send(text, `invisible-${i}`);
      assert.equal(response.status, 400, JSON.stringify(text));
      assert.match((await json<ErrorBody>(response)).error.message, /visible/);
    }
    const lone = await send('a\ud800b', 'lone');
    assert.equal(lone.status, 400);

    const kept = async (text: string, clientId: string) => {
      const response = await send(text, clientId);
      assert.equal(response.status, 201, JSON.stringify(text));
      return (await json<{ text: string }>(response)).text;
    };
    // Woman technologist (ZWJ), rainbow flag (VS16 + ZWJ), family, keycap: unchanged.
    for (const [i, emoji] of [
      '👩\u200d💻',
      '🏳\ufe0f\u200d🌈',
      '👨\u200d👩\u200d👧',
      '1\ufe0f\u20e3',
    ].entries()) {
      assert.equal(await kept(emoji, `emoji-${i}`), emoji);
    }
    assert.equal(await kept('a\u0000b\u0007c\r\nd\re\tf\u009b', 'controls'), 'abc\nd\ne\tf');
    assert.equal(await kept('\u200bhi\u200b', 'wrapped'), '\u200bhi\u200b');
  });

  it('pages a conversation’s shared videos like messages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await uploadBytes(server.url, bob, new Uint8Array(100), meta(`clip-${i}`));
      const sent = await fetch(`${server.url}/v1/conversations/c1/messages`, {
        method: 'POST',
        headers: auth(bob, { 'Content-Type': 'application/json' }),
        body: JSON.stringify({ clientId: `clip-${i}`, video: id }),
      });
      assert.equal(sent.status, 201);
      ids.push(id);
    }
    const list = async (query: string) => {
      const response = await fetch(`${server.url}/v1/conversations/c1/videos${query}`, {
        headers: auth(alice),
      });
      return {
        status: response.status,
        body: await json<{ videos: { id: string }[]; next: string | null }>(response),
      };
    };
    await waitFor(
      async () => ((await list('')).body.videos.length === 5 ? true : undefined),
      'five ready clips',
    );

    const all = await list('?owner=bob');
    assert.deepEqual(
      all.body.videos.map((v) => v.id),
      ids,
    );
    assert.equal(all.body.next, null);

    const newest = await list('?limit=2');
    assert.deepEqual(
      newest.body.videos.map((v) => v.id),
      ids.slice(3),
    );
    assert.equal(newest.body.next, ids[3]);
    const older = await list(`?limit=2&before=${newest.body.next}`);
    assert.deepEqual(
      older.body.videos.map((v) => v.id),
      ids.slice(1, 3),
    );
    const oldest = await list(`?limit=2&before=${older.body.next}`);
    assert.deepEqual(
      oldest.body.videos.map((v) => v.id),
      ids.slice(0, 1),
    );
    assert.equal(oldest.body.next, null);

    const forward = await list(`?owner=bob&limit=3&after=${ids[0]}`);
    assert.deepEqual(
      forward.body.videos.map((v) => v.id),
      ids.slice(1, 4),
    );
    assert.equal(forward.body.next, ids[3]);

    assert.equal((await list('?before=not-a-video')).status, 400);
    assert.equal((await list('?limit=0')).status, 400);
  });
});
