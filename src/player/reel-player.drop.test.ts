// <reel-player>: clips leaving the `clips` list while the reel plays (an unsent message):
// the reel keeps its place, goes on with the next clip when the playing one left, and ends
// when nothing is left after it. Real HLS clips made by ffmpeg (test-fixtures/).
import { expect, fixture, html } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import type { Clip } from '../internal/events.js';
import './index.js';
import type { ReelPlayer } from './reel-player.js';
import { playerStrings } from './strings.js';

const hlsClip = (n: number): Clip => ({
  id: `clip${n}`,
  src: `/test-fixtures/hls/clip${n}/index.m3u8`,
  owner: 'bob',
  ownerName: 'Bob',
});

async function player(clips: Clip[]) {
  const holder = await fixture<HTMLDivElement>(html`<div style="width: 320px"></div>`);
  const el = document.createElement('reel-player');
  const seen = { changes: [] as string[], ended: 0, errors: [] as string[] };
  el.addEventListener('reel-clip-change', (e) => seen.changes.push(e.detail.clip.id));
  el.addEventListener('reel-ended', () => seen.ended++);
  el.addEventListener('reel-error', (e) => seen.errors.push(e.detail.error.message));
  el.muted = true;
  el.autoplay = true;
  el.clips = clips;
  holder.append(el);
  await el.updateComplete;
  return { el, seen };
}

const video = (el: ReelPlayer) =>
  el.shadowRoot!.querySelector<HTMLVideoElement>('video[data-active]')!;
const current = (el: ReelPlayer) => el.playlist[el.position.index]?.id;
const playingAt = (el: ReelPlayer, id: string, after = 0.2) =>
  current(el) === id && !!video(el) && !video(el).paused && el.position.offset > after;

describe('<reel-player> with clips leaving the list', function () {
  this.timeout(30_000);

  it('goes on with the next clip when the one playing leaves', async () => {
    const clips = [1, 2, 3].map(hlsClip);
    const { el, seen } = await player(clips);
    await waitUntil(() => playingAt(el, 'clip1', 0.3), 'clip 1 did not play', { timeout: 10_000 });
    el.clips = [clips[1], clips[2]];
    await waitUntil(() => playingAt(el, 'clip2'), 'clip 2 did not start', { timeout: 10_000 });
    expect(el.playlist.map((clip) => clip.id)).to.deep.equal(['clip2', 'clip3']);
    expect(el.position.index).to.equal(0);
    expect(seen.ended).to.equal(0);
    expect(seen.errors).to.deep.equal([]);
    const bars = el.shadowRoot!.querySelectorAll('[part~="segment"]');
    expect(bars.length).to.equal(2);
  });

  it('keeps playing the current clip, where it was, when another one leaves', async () => {
    const clips = [1, 2, 3].map(hlsClip);
    const { el } = await player(clips);
    await waitUntil(() => playingAt(el, 'clip1'), 'clip 1 did not play', { timeout: 10_000 });
    el.goTo(1);
    await waitUntil(() => playingAt(el, 'clip2', 0.5), 'clip 2 did not play', { timeout: 10_000 });
    const offset = el.position.offset;
    el.clips = [clips[1], clips[2]];
    await el.updateComplete;
    // Playing again, from where it was (not from the clip's start).
    await waitUntil(() => playingAt(el, 'clip2', 0.01), 'clip 2 did not go on', {
      timeout: 10_000,
    });
    expect(el.position.offset).to.be.at.least(offset - 0.1);
    expect(el.position.index).to.equal(0);
  });

  it('ends the reel when the last clip leaves while it plays; play starts it over', async () => {
    const clips = [1, 2].map(hlsClip);
    const { el, seen } = await player(clips);
    await waitUntil(() => playingAt(el, 'clip1'), 'clip 1 did not play', { timeout: 10_000 });
    el.goTo(1);
    await waitUntil(() => playingAt(el, 'clip2', 0.3), 'clip 2 did not play', { timeout: 10_000 });
    el.clips = [clips[0]];
    expect(seen.ended).to.equal(0);
    await waitUntil(() => seen.ended === 1, 'the reel did not end', { timeout: 10_000 });
    await el.updateComplete;
    expect(video(el).paused).to.equal(true);
    expect(el.shadowRoot!.querySelector('[part~="note"]')!.textContent).to.equal(
      playerStrings.ended,
    );
    await el.play();
    await waitUntil(() => playingAt(el, 'clip1'), 'play did not start it over', {
      timeout: 10_000,
    });
    expect(seen.errors).to.deep.equal([]);
  });
});
