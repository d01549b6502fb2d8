// Event streams against a client that stops reading (a phone asleep in a busy conversation):
// the server must neither crash nor buffer without end. The sleeper is a raw socket that
// really stops reading; the server runs as a child process so that a crash shows up as one.
// Whether the server dropped the sleeper's connection is read from the kernel's table of
// TCP sockets (/proc/net/tcp): the sleeper itself cannot see a close it does not read.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../auth/tokens.js';
import {
  auth,
  SECRET,
  SseReader,
  startChildServer,
  startServer,
  waitFor,
  type ChildServer,
  type TestServer,
} from './helpers.js';

/** 4000 four-byte characters: 16 KB of UTF-8, but only 8000 UTF-16 units. */
const BIG_TEXT = '😀'.repeat(4000);
/** Loopback sockets take ~4 MB before the server itself has to queue: this is ~0.9 MB more. */
const MESSAGES = 300;
const HEARTBEAT_MS = 200;
/** These tests post fast on purpose: no message rate limit. */
const UNLIMITED = { REELCHAT_RATE_MESSAGES_PER_MINUTE: '0' };

/** The kernel's state of the server's end of a loopback connection: '01' is ESTABLISHED. */
function serverSideState(serverPort: number, clientPort: number): string | undefined {
  const hex = (port: number) => `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (local?.endsWith(hex(serverPort)) && remote?.endsWith(hex(clientPort))) return state;
    }
  }
  return undefined;
}

/** GET /v1/events on a raw socket that stops reading right after the response head. */
class SleepingClient {
  private readonly chunks: Buffer[] = [];
  private readonly closed: Promise<void>;

  private constructor(
    readonly socket: net.Socket,
    private readonly serverPort: number,
  ) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    socket.on('error', () => undefined);
  }

  static async open(url: string, token: string): Promise<SleepingClient> {
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    const client = new SleepingClient(socket, Number(port));
    socket.write(
      `GET /v1/events?conversation=c1 HTTP/1.1\r\nHost: ${hostname}\r\n` +
        `Authorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    await waitFor(() => (client.text().includes('retry:') ? true : undefined), 'stream start');
    assert.match(client.text(), /^HTTP\/1\.1 200/);
    socket.pause(); // from here on the client reads nothing: the kernel buffers fill up
    return client;
  }

  /** Whether the server has let go of this connection (closed its end, or the process died). */
  dropped(): boolean {
    const state = serverSideState(this.serverPort, this.socket.localPort!);
    return state !== '01';
  }

  /** Reads what the kernel kept for us, up to the server's close. */
  async wake(): Promise<void> {
    this.socket.resume();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('the stream was not closed')), 20_000);
    });
    await Promise.race([this.closed, timeout]).finally(() => clearTimeout(timer));
  }

  /** The clientIds of the complete events received. */
  clientIds(): string[] {
    const frames = this.text().matchAll(/id: \d+\nevent: message\.created\ndata: (.*)\n\n/g);
    return [...frames].map(
      (frame) => (JSON.parse(frame[1]!) as { message: { clientId: string } }).message.clientId,
    );
  }

  lastEventId(): string | undefined {
    return [...this.text().matchAll(/id: (\d+)\nevent: [^\n]+\ndata: .*\n\n/g)].pop()?.[1];
  }

  destroy(): void {
    this.socket.destroy();
  }

  private text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

const clientIdsOf = (reader: SseReader) =>
  reader.events.map(
    (event) => (JSON.parse(event.data) as { message: { clientId: string } }).message.clientId,
  );

/** Posted 4 at a time, messages reach the log in no set order: compare them as sets. */
const sorted = (ids: string[]) => [...ids].sort();

/** Posts `count` big messages to c1 from a few users (4 at a time); returns their clientIds. */
async function postMessages(url: string, prefix: string, count: number): Promise<string[]> {
  const posters = await Promise.all(
    [0, 1, 2, 3].map((i) =>
      signToken(SECRET, { user: `poster${i}`, name: 'P', conversations: ['c1'] }),
    ),
  );
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let i = 0; i < count; i += posters.length) {
    await Promise.all(
      ids.slice(i, i + posters.length).map(async (clientId, j) => {
        const response = await fetch(`${url}/v1/conversations/c1/messages`, {
          method: 'POST',
          headers: auth(posters[j]!, { 'Content-Type': 'application/json' }),
          body: JSON.stringify({ clientId, text: BIG_TEXT }),
        });
        assert.equal(response.status, 201, await response.text());
      }),
    );
  }
  return ids;
}

async function assertAlive(server: ChildServer): Promise<void> {
  assert.ok(server.running(), `the server exited:\n${server.output().slice(-2000)}`);
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  assert.doesNotMatch(server.output(), /ERR_STREAM_WRITE_AFTER_END|uncaught/i);
}

describe('event streams of clients that stop reading', () => {
  describe('at the token’s expiry', () => {
    let server: ChildServer;
    before(async () => {
      // A bound above what is queued here: the stream must end because its token expired.
      server = await startChildServer({
        ...UNLIMITED,
        REELCHAT_SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
        REELCHAT_SSE_MAX_BUFFERED_BYTES: String(4 * 1024 * 1024),
      });
    });
    after(() => server.stop());

    it('ends the stalled stream at exp and keeps serving, and the client resumes', async () => {
      const awakeToken = await signToken(SECRET, {
        user: 'awake',
        name: 'A',
        conversations: ['c1'],
      });
      const awake = await new SseReader().open(`${server.url}/v1/events`, auth(awakeToken));
      const ttlS = 8;
      const sleepyToken = await signToken(
        SECRET,
        { user: 'sleepy', name: 'S', conversations: ['c1'] },
        ttlS,
      );
      const expiresAt =
        (
          JSON.parse(Buffer.from(sleepyToken.split('.')[1]!, 'base64url').toString()) as {
            exp: number;
          }
        ).exp * 1000;
      const sleeper = await SleepingClient.open(server.url, sleepyToken);
      try {
        const posted = await postMessages(server.url, 'm', MESSAGES);
        assert.ok(Date.now() < expiresAt, 'posting must finish before the token expires');
        assert.equal(sleeper.dropped(), false, 'the stream is open until exp');

        // Past exp and a heartbeat or more: the server must have let go of the connection.
        await waitFor(
          () => (sleeper.dropped() ? true : undefined),
          'the stalled stream to be dropped',
          expiresAt - Date.now() + 10_000,
        );
        await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_MS));
        await assertAlive(server);

        // The reading stream got everything, and still gets new events.
        await awake.waitForCount(MESSAGES);
        const [late] = await postMessages(server.url, 'late', 1);
        await awake.waitForCount(MESSAGES + 1);
        assert.deepEqual(sorted(clientIdsOf(awake)), sorted([...posted, late!]));

        // The sleeper wakes: it reads what the kernel held, then the end; it resumes from
        // its last complete event and gets the rest exactly once.
        await sleeper.wake();
        const seen = sleeper.clientIds();
        assert.ok(seen.length < MESSAGES, `the sleeper cannot have read all (${seen.length})`);
        const fresh = await signToken(SECRET, { user: 'sleepy', name: 'S', conversations: ['c1'] });
        const resumed = await new SseReader().open(
          `${server.url}/v1/events?conversation=c1`,
          auth(fresh, { 'Last-Event-ID': sleeper.lastEventId() ?? '0' }),
        );
        await resumed.waitForCount(MESSAGES + 1 - seen.length);
        assert.deepEqual(sorted([...seen, ...clientIdsOf(resumed)]), sorted([...posted, late!]));
        await resumed.close();
        await awake.close();
      } finally {
        sleeper.destroy();
      }
    });
  });

  describe('past the buffered-bytes bound', () => {
    let server: ChildServer;
    before(async () => {
      server = await startChildServer({
        ...UNLIMITED,
        REELCHAT_SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
        REELCHAT_SSE_MAX_BUFFERED_BYTES: String(256 * 1024),
      });
    });
    after(() => server.stop());

    it('drops a stream that stops reading once its queued bytes pass the bound', async () => {
      const token = await signToken(SECRET, { user: 'awake', name: 'A', conversations: ['c1'] });
      const awake = await new SseReader().open(`${server.url}/v1/events`, auth(token));
      const sleepyToken = await signToken(SECRET, {
        user: 'sleepy',
        name: 'S',
        conversations: ['c1'],
      });
      const sleeper = await SleepingClient.open(server.url, sleepyToken);
      try {
        // 16 KB of UTF-8 per event (8000 UTF-16 units): the bound counts bytes.
        const posted = await postMessages(server.url, 'b', MESSAGES + 40);
        await waitFor(
          () => (sleeper.dropped() ? true : undefined),
          'the stalled stream to be dropped',
          5_000,
        );
        await assertAlive(server);
        await awake.waitForCount(posted.length);
        assert.deepEqual(sorted(clientIdsOf(awake)), sorted(posted));
        await sleeper.wake();
        assert.ok(sleeper.clientIds().length < posted.length);
        await awake.close();
      } finally {
        sleeper.destroy();
      }
    });
  });
});

/** An HS256 token with the payload exactly as given (jose refuses to sign some of these). */
function rawToken(payloadJson: string): string {
  const part = (text: string) => Buffer.from(text).toString('base64url');
  const body = `${part('{"alg":"HS256","typ":"JWT"}')}.${part(payloadJson)}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

describe('token lifetime', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  const withExp = (exp: string) =>
    rawToken(`{"sub":"u1","name":"U","conversations":["c1"],"exp":${exp}}`);
  const status = async (token: string, path = '/v1/session') => {
    const response = await fetch(`${server.url}${path}`, { headers: auth(token) });
    const body = response.headers.get('content-type')?.startsWith('application/json')
      ? ((await response.json()) as { error?: { code: string; message: string } })
      : (await response.body?.cancel(), {});
    return { status: response.status, error: body.error };
  };

  it('refuses an exp further than 24 h away, an absurd one, and one that is not a time', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const exp of ['1e300', '1e400', String(now + 25 * 3600)]) {
      for (const path of ['/v1/session', '/v1/events']) {
        const answer = await status(withExp(exp), path);
        assert.equal(answer.status, 401, `exp ${exp} on ${path}`);
        assert.equal(answer.error?.code, 'unauthorized');
        assert.match(answer.error!.message, /lives too long|must be a time/);
      }
    }
    assert.equal((await status(withExp('"tomorrow"'))).status, 401);
    // Within the cap (and a little clock skew), as the host site signs them: accepted.
    assert.equal((await status(withExp(String(now + 24 * 3600 + 2)))).status, 200);
    assert.equal((await status(await server.token('u1', ['c1']))).status, 200);
  });

  it('takes the cap from REELCHAT_MAX_TOKEN_LIFETIME_S', async () => {
    const strict = await startServer({ REELCHAT_MAX_TOKEN_LIFETIME_S: '600' });
    try {
      const long = await strict.token('u1', ['c1']); // 12 h
      const short = await signToken(SECRET, { user: 'u1', name: 'U', conversations: ['c1'] }, 300);
      const answer = await fetch(`${strict.url}/v1/session`, { headers: auth(long) });
      assert.equal(answer.status, 401);
      assert.match(
        ((await answer.json()) as { error: { message: string } }).error.message,
        /at most 600 s from now/,
      );
      const ok = await fetch(`${strict.url}/v1/session`, { headers: auth(short) });
      assert.equal(ok.status, 200);
    } finally {
      await strict.close();
    }
  });
});
