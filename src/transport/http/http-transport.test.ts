import { expect, waitUntil } from '@open-wc/testing';
import { nanoid } from 'nanoid';
import { transportContract } from '../contract.js';
import { ReelError } from '../errors.js';
import { HttpTransport } from './http-transport.js';
import type { ReelEvent, ResumableSource } from '../types.js';

/** The reference server the test runner started for us (web-test-runner.config.mjs). */
async function server(): Promise<string> {
  const response = await fetch('/__reelchat/server.json');
  return ((await response.json()) as { url: string }).url;
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
