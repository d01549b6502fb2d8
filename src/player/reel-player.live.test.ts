import { expect, fixture, html } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import type { Clip } from '../internal/events.js';
import type { ReelError } from '../transport/errors.js';
import './index.js';
import type { ReelPlayer } from './reel-player.js';

// A take still recorded (docs/protocol.md, "Live"): a fixture clip's 1 s segments revealed
// one every 1.5 s into a growing EVENT playlist with blocking reload (scripts/live-playlist.mjs),
// so playback catches up with the recording and waits for it, then the take ends.
let sessions = 0;
const liveClip = (n: number, id = `live-${Date.now()}-${++sessions}`): Clip => ({
  id,
  src: `/__reelchat/live/${id}/clip${n}/index.m3u8?every=3000`,
  owner: 'bob',
  ownerName: 'Bob',
});
const readyClip = (n: number): Clip => ({
  id: `clip${n}`,
  src: `/test-fixtures/hls/clip${n}/index.m3u8`,
  owner: 'bob',
  ownerName: 'Bob',
});

interface Seen {
  changes: number[];
  watched: number[];
  ended: number;
  errors: ReelError[];
}

async function player(clips: Clip[]): Promise<{ el: ReelPlayer; seen: Seen }> {
  const holder = await fixture<HTMLDivElement>(html`<div style="width: 320px"></div>`);
  const el = document.createElement('reel-player');
  const seen: Seen = { changes: [], watched: [], ended: 0, errors: [] };
  el.addEventListener('reel-clip-change', (e) => seen.changes.push(e.detail.index));
  el.addEventListener('reel-clip-watched', (e) => seen.watched.push(e.detail.index));
  el.addEventListener('reel-ended', () => seen.ended++);
  el.addEventListener('reel-error', (e) => seen.errors.push(e.detail.error));
  el.muted = true;
  el.autoplay = true;
  el.clips = clips;
  holder.append(el);
  await el.updateComplete;
  return { el, seen };
}

const part = (el: ReelPlayer, name: string) =>
  el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);
const announced = (el: ReelPlayer) => part(el, 'live-region')!.textContent!.trim();
const video = (el: ReelPlayer) =>
  el.shadowRoot!.querySelector<HTMLVideoElement>('video[data-active]')!;

describe('<reel-player> with a clip still recorded', function () {
  this.timeout(40_000);

  it('goes on from a ready clip into the live one, from its start at normal speed, says when it caught up, and ends with the take', async () => {
    const { el, seen } = await player([readyClip(2), liveClip(1)]);
    // Samples of where playback is, to show it never jumps ahead nor speeds up.
    const samples: { index: number; time: number; rate: number; at: number }[] = [];
    const sampler = setInterval(() => {
      const v = video(el);
      if (v && !v.paused)
        samples.push({
          index: el.position.index,
          time: v.currentTime,
          rate: v.playbackRate,
          at: performance.now(),
        });
    }, 100);
    const announcements: string[] = [];
    const watcher = setInterval(() => {
      const text = announced(el);
      if (text !== announcements.at(-1)) announcements.push(text);
    }, 50);
    try {
      await waitUntil(() => seen.changes.includes(1), 'did not go on into the live clip', {
        timeout: 15_000,
      });
      await waitUntil(() => part(el, 'live-badge'), 'no Live badge');
      expect(part(el, 'live-badge')!.textContent).to.equal('Live');
      await waitUntil(() => part(el, 'live-note'), 'never caught up with the recording');
      expect(part(el, 'live-note')!.textContent).to.equal('Bob is still recording');
      await expect(el).to.be.accessible();
      await waitUntil(() => seen.ended > 0, 'the reel did not end with the take', {
        timeout: 20_000,
      });
    } finally {
      clearInterval(sampler);
      clearInterval(watcher);
    }
    expect(el.mode).to.equal('stitch');
    expect(seen.changes).to.deep.equal([0, 1]);
    expect(seen.watched).to.deep.equal([0, 1]);
    expect(seen.errors).to.deep.equal([]);
    // The whole take, 3 s, played: nothing of it jumped over.
    expect(el.position.index).to.equal(1);
    expect(part(el, 'live-badge')).to.equal(null);
    const inLive = samples.filter((s) => s.index === 1);
    // Entered at its start (the ready clip lasts 3 s), then never faster than the clock: a
    // jump to the live edge would be a second or more. (Firefox's clock moves in steps, and
    // hls.js may skip a hole of a few frames at the join: a fraction of a second.)
    expect(inLive[0].time).to.be.below(3.6);
    for (let i = 1; i < inLive.length; i++) {
      const moved = inLive[i].time - inLive[i - 1].time;
      const elapsed = (inLive[i].at - inLive[i - 1].at) / 1000;
      expect(moved, `moved ${moved} s in ${elapsed} s`).to.be.at.most(elapsed + 0.5);
    }
    const first = inLive[0];
    const last = inLive.at(-1)!;
    expect(last.time - first.time).to.be.at.most((last.at - first.at) / 1000 + 0.3);
    expect(samples.every((s) => s.rate === 1)).to.equal(true);
    // "Still recording" was announced once, not at every segment.
    expect(announcements.filter((a) => a === 'Bob is still recording')).to.have.length(1);
  });

  it('when the take is withdrawn mid-way, skips it and says so', async () => {
    const clip = liveClip(3);
    const { el, seen } = await player([clip]);
    await waitUntil(() => part(el, 'live-badge'), 'no Live badge');
    await waitUntil(() => video(el).currentTime > 0.3, 'did not start playing');
    await fetch(`/__reelchat/live/${clip.id}/cancel`);
    await waitUntil(() => seen.ended > 0, 'did not end', { timeout: 15_000 });
    expect(seen.errors.map((error) => error.code)).to.include('not-found');
    expect(seen.watched).to.deep.equal([]);
    expect(part(el, 'live-badge')).to.equal(null);
    expect(part(el, 'failure')?.textContent ?? part(el, 'note')?.textContent).to.match(
      /no longer available|could not be played/,
    );
  });
});
