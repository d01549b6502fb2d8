import { expect } from '@open-wc/testing';
import { waitUntil } from '../../test-helpers/wait.js';
import { nanoid } from 'nanoid';
import sinon from 'sinon';
import { transportContract } from '../contract.js';
import { ReelError } from '../errors.js';
import { HttpTransport } from './http-transport.js';
import type { ReelEvent, ResumableSource } from '../types.js';

/**
 * The reference server the test runner started for us (web-test-runner.config.mjs); with
 * `env`, one of its own with those REELCHAT_* settings.
 */
async function server(env?: Record<string, string>): Promise<string> {
  const query = env ? `?${new URLSearchParams({ env: JSON.stringify(env) })}` : '';
  const response = await fetch(`/__reelchat/server.json${query}`);
  return ((await response.json()) as { url: string }).url;
}

interface FaultRule {
  method: string;
  path: string;
  status: number;
  mode?: 'refuse' | 'cut' | 'lose';
  after?: number;
  retryAfter?: number;
  times?: number;
}

interface FaultLog {
  method: string;
  path: string;
  offset?: string;
  status?: number;
  passed?: number | null;
}

/**
 * A proxy before the server that answers like a front proxy on a bad day
 * (scripts/fault-proxy.mjs): a fresh one per `id`, with these rules. Returns its URL and
 * a way to read what it did.
 */
async function faulty(id: string, ...rules: FaultRule[]) {
  const call = async (query: Record<string, string>) => {
    const response = await fetch(`/__reelchat/faults?${new URLSearchParams({ id, ...query })}`);
    return (await response.json()) as { url: string; log: FaultLog[] };
  };
  const { url } = await call({ clear: '1' });
  for (const rule of rules) {
    const query: Record<string, string> = {};
    for (const [key, value] of Object.entries(rule)) query[key] = String(value);
    await call(query);
  }
  return { url, log: async () => (await call({})).log };
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function sampleBytes(): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await (await fetch('/test-fixtures/video/sample.webm')).arrayBuffer());
}

/** Waits until the server has converted the video, and returns it. */
async function converted(transport: HttpTransport, conversation: string, id: string) {
  let video = await transport.getVideo(conversation, id);
  await waitUntil(
    async () => {
      video = await transport.getVideo(conversation, id);
      return video.state !== 'processing' && video.state !== 'live';
    },
    'the video is converted',
    { timeout: 30_000, interval: 200 },
  );
  expect(video.state, video.reason).to.equal('ready');
  return video;
}

async function devToken(endpoint: string, user: string, conversations: string[]): Promise<string> {
  const query = new URLSearchParams({
    user,
    name: user[0].toUpperCase() + user.slice(1),
    conversations: conversations.join(','),
  });
  const response = await fetch(`${endpoint}/v1/dev/token?${query}`);
  return ((await response.json()) as { token: string }).token;
}

transportContract({
  name: 'http (reference server)',
  readyTimeout: 30_000,
  async setup() {
    const endpoint = await server();
    return {
      async transportFor(user, conversations) {
        return new HttpTransport({
          endpoint,
          token: await devToken(endpoint, user, conversations),
        });
      },
    };
  },
  async sampleVideo() {
    const response = await fetch('/test-fixtures/video/sample.webm');
    return new Blob([await response.arrayBuffer()], { type: 'video/webm' });
  },
});

describe('HttpTransport', () => {
  it('continues the server’s upload of a clientId when its own record of it is gone', async () => {
    const endpoint = await server();
    const conversation = `c-${nanoid(6)}`;
    const token = await devToken(endpoint, 'alice', [conversation]);
    const bytes = new Uint8Array(
      await (await fetch('/test-fixtures/video/sample.webm')).arrayBuffer(),
    );
    const clientId = nanoid();

    // A page starts a live upload; the server creates it, then the page goes away.
    let remembered: string | undefined;
    const first = new HttpTransport({ endpoint, token });
    const stalled: ResumableSource = {
      async *read() {
        yield bytes.slice(0, 1000);
        await new Promise((resolve) => setTimeout(resolve, 60_000));
      },
      remember: async (handle) => void (remembered = handle.url),
    };
    const abandoned = first.upload(conversation, stalled, { clientId, type: 'video/webm' });
    await waitUntil(() => remembered !== undefined, 'the server created the upload');
    await first.close();
    await abandoned.catch(() => undefined);
    localStorage.clear(); // tus-js-client's own note of the upload, lost as well

    // The next page knows only the clientId: the server's 409 names the upload to continue.
    const second = new HttpTransport({ endpoint, token });
    async function* whole() {
      yield bytes;
    }
    const video = await second.upload(conversation, whole(), { clientId, type: 'video/webm' });
    expect(video.id).to.equal(remembered!.split('/').pop());
    let ready = video;
    await waitUntil(
      async () => (ready = await second.getVideo(conversation, video.id)).state !== 'processing',
      'the video is converted',
      { timeout: 30_000, interval: 200 },
    );
    expect(ready.state).to.equal('ready');
    // Whole and once: the first 1000 bytes were not sent twice.
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const hex = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    expect(ready.bytes).to.equal(bytes.length);
    expect(ready.sha256).to.equal(hex);
    await second.close();
  });

  it('refuses an endpoint that is not an http(s) URL', () => {
    expect(() => new HttpTransport({ endpoint: 'javascript:alert(1)', token: 'x' })).to.throw(
      ReelError,
    );
    expect(() => new HttpTransport({ token: 'x' })).to.throw(ReelError);
  });

  it('asks getToken again after a 401 and goes on with the fresh token', async () => {
    const endpoint = await server();
    const good = await devToken(endpoint, 'alice', ['c1']);
    const tokens = ['not-a-token', good];
    const transport = new HttpTransport({ endpoint, getToken: () => tokens.shift() ?? good });
    expect((await transport.connect()).user).to.equal('alice');
    expect(tokens).to.deep.equal([]);
    await transport.close();
  });

  it('reports a bad token as unauthorized', async () => {
    const transport = new HttpTransport({ endpoint: await server(), token: 'forged' });
    try {
      await transport.connect();
      expect.fail('should throw');
    } catch (error) {
      expect(ReelError.is(error, 'unauthorized')).to.equal(true);
    }
  });

  it('sends the token with media requests to the endpoint only, not to look-alikes', async () => {
    const endpoint = await server();
    const transport = new HttpTransport({
      endpoint,
      token: await devToken(endpoint, 'alice', ['c1']),
    });
    await transport.connect();
    const own = `${endpoint}/media/abc/index.m3u8`;
    expect(new Headers(transport.mediaRequest(own).headers).get('authorization')).to.match(
      /^Bearer /,
    );
    const { host } = new URL(endpoint);
    for (const url of [
      `${endpoint}@evil.example/media/abc/index.m3u8`,
      `${endpoint}.evil.example/media/abc/index.m3u8`,
      `http://evil.example/?${endpoint}`,
      `https://${host}/media/abc/index.m3u8`,
      '/media/abc/index.m3u8',
    ]) {
      expect(transport.mediaRequest(url), url).to.deep.equal({});
    }
    await transport.close();
  });

  it('resolves media URLs against the endpoint and authorizes them', async () => {
    const endpoint = await server();
    const conversation = `c-${nanoid(6)}`;
    const alice = new HttpTransport({
      endpoint,
      token: await devToken(endpoint, 'alice', [conversation]),
    });
    await alice.connect();
    const events: ReelEvent[] = [];
    const unsubscribe = alice.subscribe(conversation, (event) => events.push(event));
    const sample = await (await fetch('/test-fixtures/video/sample.mp4')).blob();
    const video = await alice.upload(conversation, sample, {
      clientId: nanoid(),
      type: 'video/mp4',
    });
    await waitUntil(
      () =>
        events.some(
          (e) => e.type === 'video.updated' && e.video.id === video.id && e.video.state === 'ready',
        ),
      'ready event',
      { timeout: 30_000 },
    );
    const ready = await alice.getVideo(conversation, video.id);
    expect(ready.playlist!.startsWith(endpoint)).to.equal(true);
    const playlist = await fetch(ready.playlist!, alice.mediaRequest(ready.playlist!));
    expect(playlist.status).to.equal(200);
    expect(await playlist.text()).to.contain('#EXTM3U');
    unsubscribe();
    await alice.close();
  });
});

describe('HttpTransport: a take shared while recorded (real server)', function () {
  this.timeout(60_000);

  it('names the video before the first byte, so its message goes at once; the video is live, then ready', async () => {
    const endpoint = await server();
    const conversation = `c-${nanoid(6)}`;
    const token = await devToken(endpoint, `u${nanoid(8)}`, [conversation]);
    const transport = new HttpTransport({ endpoint, token });
    // As Safari records: fragmented MP4, H.264 with a keyframe every second (1 s segments).
    const bytes = new Uint8Array(
      await (await fetch('/test-fixtures/video/webkit-recording.mp4')).arrayBuffer(),
    );
    let created!: (id: string) => void;
    const id = new Promise<string>((resolve) => (created = resolve));
    const seen = new Set<string>();
    async function* recording() {
      // Not a byte before the video has its id (else this test waits for ever).
      const videoId = await id;
      const pieces = 12;
      for (let i = 0; i < pieces; i++) {
        yield bytes.slice(
          Math.floor((i * bytes.length) / pieces),
          Math.floor(((i + 1) * bytes.length) / pieces),
        );
        await new Promise((resolve) => setTimeout(resolve, 400));
        seen.add((await transport.getVideo(conversation, videoId)).state);
      }
    }
    const clientId = nanoid();
    const uploading = transport.upload(conversation, recording(), {
      clientId,
      type: 'video/mp4',
      live: true,
      onCreated: created,
    });
    const message = await transport.sendMessage(conversation, { clientId, video: await id });
    expect(message.video).to.equal(await id);
    const video = await uploading;
    expect(video.id).to.equal(await id);
    // Scaled mode does not share takes live yet (docs/protocol.md, "Live"): there the video
    // stays processing until it is ready.
    const { scaled } = (await (await fetch('/__reelchat/server.json')).json()) as {
      scaled: boolean;
    };
    if (scaled) {
      expect([...seen]).to.deep.equal(['processing']);
      // Seen here: in scaled mode a take whose message went before its upload completed was
      // not ready within 30 s (issue 25, left open; docs/protocol.md says not to use `live`
      // with a scaled server yet). What is asserted there is what the protocol promises now.
      await transport.close();
      return;
    }
    expect([...seen]).to.include('live');
    expect((await converted(transport, conversation, video.id)).playlist).to.be.a('string');
    await transport.close();
  });
});

describe('HttpTransport: refusals, limits and cut requests (real server)', function () {
  this.timeout(60_000);
  afterEach(() => sinon.restore());

  /** A fresh user and conversation (limits are per user, servers are shared across tests). */
  async function member(endpoint: string, via = endpoint) {
    const conversation = `c-${nanoid(6)}`;
    const user = `u${nanoid(8)}`;
    const token = await devToken(endpoint, user, [conversation]);
    return { conversation, user, token, transport: new HttpTransport({ endpoint: via, token }) };
  }

  it('resumes an upload cut mid-PATCH by a 408 from the server’s offset: every byte once', async () => {
    // Two cuts: Chromium itself sends a PATCH again once after a 408 on a reused connection
    // (at the old offset: the server answers 409), so the second 408 is the one the
    // transport sees, on a fresh connection.
    const proxy = await faulty('cut-408', {
      method: 'PATCH',
      path: '/v1/uploads/',
      status: 408,
      mode: 'cut',
      after: 40_000,
      times: 2,
    });
    const { conversation, transport } = await member(await server(), proxy.url);
    const bytes = await sampleBytes();
    const video = await transport.upload(conversation, new Blob([bytes]), {
      clientId: nanoid(),
      type: 'video/webm',
    });
    const patches = (await proxy.log()).filter((entry) => entry.method === 'PATCH');
    expect(patches[0]).to.include({ status: 408, passed: 40_000, offset: '0' });
    expect(patches.filter((entry) => entry.status === 408)).to.have.length(2);
    // The last PATCH went on from what the server kept of the cut ones: not from 0.
    const resumedAt = Number(patches.at(-1)!.offset);
    expect(resumedAt).to.be.greaterThan(0);
    expect(resumedAt % 40_000).to.equal(0);
    const ready = await converted(transport, conversation, video.id);
    expect(ready.bytes).to.equal(bytes.length);
    expect(ready.sha256).to.equal(await sha256(bytes));
    await transport.close();
  });

  it('waits out the Retry-After of a 503 to an upload’s creation', async () => {
    const proxy = await faulty('busy-503', {
      method: 'POST',
      path: '/v1/uploads',
      status: 503,
      retryAfter: 2,
    });
    const { conversation, transport } = await member(await server(), proxy.url);
    const started = performance.now();
    const video = await transport.upload(conversation, new Blob([await sampleBytes()]), {
      clientId: nanoid(),
      type: 'video/webm',
    });
    expect(performance.now() - started).to.be.at.least(1900);
    const creations = (await proxy.log()).filter((entry) => entry.method === 'POST');
    expect(creations.map((entry) => entry.status)).to.deep.equal([503, undefined]);
    expect(video.id).to.be.a('string');
    await transport.close();
  });

  it('refuses at once, with the server’s message and when to try again, an upload over the hourly limit', async () => {
    const endpoint = await server({
      REELCHAT_QUOTA_UPLOADS_BURST: '1',
      REELCHAT_QUOTA_UPLOADS_PER_HOUR: '1',
    });
    const { conversation, transport } = await member(endpoint);
    const sample = new Blob([await sampleBytes()]);
    await transport.upload(conversation, sample, { clientId: nanoid(), type: 'video/webm' });
    const started = performance.now();
    let refusal: unknown;
    await transport
      .upload(conversation, sample, { clientId: nanoid(), type: 'video/webm' })
      .catch((error: unknown) => (refusal = error));
    expect(performance.now() - started).to.be.below(5000);
    expect(ReelError.is(refusal, 'quota-exceeded'), String(refusal)).to.equal(true);
    const error = refusal as ReelError;
    expect(error.status).to.equal(429);
    expect(error.retryAfter).to.be.greaterThan(30_000);
    expect(error.message).to.match(/uploads/i);
    await transport.close();
  });

  it('sends messages the server rate-limits once it may: each once, none lost', async () => {
    const endpoint = await server({
      REELCHAT_RATE_MESSAGES_BURST: '2',
      REELCHAT_RATE_MESSAGES_PER_MINUTE: '60',
    });
    const { conversation, transport } = await member(endpoint);
    const drafts = ['one', 'two', 'three', 'four'].map((text) => ({ clientId: nanoid(), text }));
    const started = performance.now();
    const sent = await Promise.all(
      drafts.map((draft) => transport.sendMessage(conversation, draft)),
    );
    // Two at once, then one a second: the last two waited for the server's Retry-After.
    expect(performance.now() - started).to.be.at.least(900);
    expect(sent.map((message) => message.text)).to.deep.equal(['one', 'two', 'three', 'four']);
    const stored = (await transport.listMessages(conversation)).items;
    expect(stored.map((message) => message.clientId).sort()).to.deep.equal(
      drafts.map((draft) => draft.clientId).sort(),
    );
    await transport.close();
  });

  it('gives up on a message at once when the server asks for a long wait', async () => {
    const endpoint = await server({
      REELCHAT_RATE_MESSAGES_BURST: '1',
      REELCHAT_RATE_MESSAGES_PER_MINUTE: '1',
    });
    const { conversation, transport } = await member(endpoint);
    await transport.sendMessage(conversation, { clientId: nanoid(), text: 'first' });
    let refusal: unknown;
    await transport
      .sendMessage(conversation, { clientId: nanoid(), text: 'second' })
      .catch((error: unknown) => (refusal = error));
    expect(ReelError.is(refusal, 'quota-exceeded'), String(refusal)).to.equal(true);
    expect((refusal as ReelError).retryAfter).to.be.greaterThan(30_000);
    expect((await transport.listMessages(conversation)).items.map((m) => m.text)).to.deep.equal([
      'first',
    ]);
    await transport.close();
  });

  it('sends again a message whose answer a gateway lost, and it stays one message', async () => {
    const proxy = await faulty('lost-504', {
      method: 'POST',
      path: '/v1/conversations/',
      status: 504,
      mode: 'lose',
    });
    const { conversation, transport } = await member(await server(), proxy.url);
    const clientId = nanoid();
    const message = await transport.sendMessage(conversation, { clientId, text: 'just once' });
    const posts = (await proxy.log()).filter((entry) => entry.method === 'POST');
    expect(posts.map((entry) => entry.status)).to.deep.equal([504, undefined]);
    const stored = (await transport.listMessages(conversation)).items;
    expect(stored).to.have.length(1);
    expect(stored[0]).to.include({ id: message.id, clientId, text: 'just once' });
    await transport.close();
  });

  it('lists every page of a member’s clips, oldest first', async () => {
    const endpoint = await server();
    const { conversation, transport: alice, user } = await member(endpoint);
    const sample = new Blob([await sampleBytes()]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const video = await alice.upload(conversation, sample, {
        clientId: nanoid(),
        type: 'video/webm',
      });
      await alice.sendMessage(conversation, { clientId: nanoid(), video: video.id });
      ids.push(video.id);
    }
    for (const id of ids) await converted(alice, conversation, id);
    // Pages of one clip each, so three clips take three pages.
    const realFetch = window.fetch.bind(window);
    sinon.stub(window, 'fetch').callsFake((input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname.endsWith('/videos')) url.searchParams.set('limit', '1');
      return realFetch(url.href, init);
    });
    const listed = await alice.listVideos(conversation, user);
    expect(listed.map((video) => video.id)).to.deep.equal(ids);
    expect(listed.every((video) => video.playlist?.startsWith(endpoint))).to.equal(true);
    await alice.close();
  });
});

describe('HttpTransport: what each PATCH carries (real server)', function () {
  this.timeout(60_000);

  async function uploadThroughLog(id: string, source: AsyncIterable<Uint8Array> | ResumableSource) {
    const proxy = await faulty(id);
    const endpoint = await server();
    const conversation = `c-${nanoid(6)}`;
    const token = await devToken(endpoint, `u${nanoid(8)}`, [conversation]);
    const transport = new HttpTransport({ endpoint: proxy.url, token });
    await transport.upload(conversation, source, { clientId: nanoid(), type: 'video/webm' });
    await transport.close();
    const patches = (await proxy.log()).filter((entry) => entry.method === 'PATCH');
    return patches.map((entry) => Number(entry.offset));
  }

  it('sends each chunk of a recording as it comes, not once 128 KB have gathered', async () => {
    const bytes = await sampleBytes();
    const ends = [0.25, 0.5, 0.75, 1].map((share) => Math.round(bytes.length * share));
    async function* recording() {
      let start = 0;
      for (const end of ends) {
        yield bytes.slice(start, end);
        start = end;
        // The recorder's next chunk comes a while later (its timeslice).
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    }
    const offsets = await uploadThroughLog('live-chunks', recording());
    // One PATCH per chunk, each from where the previous chunk ended; then, once the
    // recording is over, one that only states the length.
    expect(offsets).to.deep.equal([0, ...ends]);
  });

  it('sends a stored take in PATCHes of 128 KB', async () => {
    const sample = await sampleBytes();
    const bytes = new Uint8Array(300_000);
    for (let at = 0; at < bytes.length; at += sample.length)
      bytes.set(sample.subarray(0, bytes.length - at), at);
    const stored: ResumableSource = {
      async *read(offset: number) {
        for (let at = offset; at < bytes.length; at += 16_384) yield bytes.slice(at, at + 16_384);
      },
    };
    const offsets = await uploadThroughLog('stored-chunks', stored);
    expect(offsets).to.deep.equal([0, 131_072, 262_144]);
  });
});
