// <reel-player> while the media answers 503 for a while (the bucket away, docs/scaling.md):
// a clip uploaded to the real reference server, converted by ffmpeg, played through a proxy
// before it (scripts/fault-proxy.mjs) that answers its playlist twice and its segments six
// times `503` with `Retry-After: 1` — more than hls.js's own retries and the engine's limits
// ride out (a clip is given up after its 5th failed segment). The player waits each
// Retry-After and plays to the end by itself: no error, no Retry to press.
import { expect, fixture, html } from '@open-wc/testing';
import { nanoid } from 'nanoid';
import type { Clip } from '../internal/events.js';
import { HttpTransport } from '../transport/http/http-transport.js';
import type { ReelError } from '../transport/errors.js';
import { waitUntil } from '../test-helpers/wait.js';
import './index.js';
import type { ReelPlayer } from './reel-player.js';

async function serverUrl(): Promise<string> {
  return ((await (await fetch('/__reelchat/server.json')).json()) as { url: string }).url;
}

async function devToken(endpoint: string, user: string, conversation: string): Promise<string> {
  const query = new URLSearchParams({ user, name: user, conversations: conversation });
  const response = await fetch(`${endpoint}/v1/dev/token?${query}`);
  return ((await response.json()) as { token: string }).token;
}

/** A proxy before the server answering GET requests under `path` 503 `times` times. */
async function busyProxy(id: string, rules: { path: string; times: number }[]) {
  const call = async (query: Record<string, string>) =>
    (await (await fetch(`/__reelchat/faults?${new URLSearchParams({ id, ...query })}`)).json()) as {
      url: string;
      log: { path: string; status?: number }[];
    };
  const { url } = await call({ clear: '1' });
  for (const { path, times } of rules) {
    await call({ method: 'GET', path, status: '503', retryAfter: '1', times: String(times) });
  }
  return { url, log: async () => (await call({})).log };
}

describe('<reel-player> when its media answers 503 for a while', function () {
  this.timeout(90_000);

  it('waits out each Retry-After and plays to the end by itself, with no error', async () => {
    const endpoint = await serverUrl();
    const conversation = `c-${nanoid(6)}`;
    const token = await devToken(endpoint, `u${nanoid(8)}`, conversation);
    const direct = new HttpTransport({ endpoint, token });
    const sample = await (await fetch('/test-fixtures/video/sample.mp4')).blob();
    const { id } = await direct.upload(conversation, sample, {
      clientId: nanoid(),
      type: 'video/mp4',
    });
    await waitUntil(
      async () => (await direct.getVideo(conversation, id)).state === 'ready',
      'the clip to be converted',
      { timeout: 30_000, interval: 200 },
    );
    await direct.close();

    const proxy = await busyProxy(`player-503-${id}`, [
      { path: `/media/${id}/index.m3u8`, times: 2 },
      { path: `/media/${id}/seg`, times: 6 },
    ]);
    const viaProxy = new HttpTransport({ endpoint: proxy.url, token });
    const video = await viaProxy.getVideo(conversation, id);
    await viaProxy.close();

    const el = document.createElement('reel-player') as ReelPlayer;
    const errors: ReelError[] = [];
    let ended = false;
    el.addEventListener('reel-error', (e) => errors.push(e.detail.error));
    el.addEventListener('reel-ended', () => (ended = true));
    el.muted = true;
    el.autoplay = true;
    el.clips = [{ id, src: video.playlist! } satisfies Clip];
    const started = performance.now();
    (await fixture<HTMLDivElement>(html`<div></div>`)).append(el);
    await waitUntil(() => ended, 'the clip did not play to its end', { timeout: 60_000 });

    const log = await proxy.log();
    const refused = log.filter((entry) => entry.status === 503);
    expect(refused.map((entry) => entry.path.split('/').pop())).to.deep.equal([
      'index.m3u8',
      'index.m3u8',
      ...Array.from({ length: 6 }, () => 'seg0.m4s'),
    ]);
    // Eight answers asking for a second each, waited out one after another.
    expect(performance.now() - started).to.be.at.least(8_000);
    // Nothing failed for the network (the watchdog's nudge at a clip's start, which the same
    // clip gets without any 503, is another matter).
    expect(errors.filter((error) => error.code === 'network')).to.deep.equal([]);
    expect(el.shadowRoot!.querySelector('[part~="failure"]')).to.equal(null);
  });
});
