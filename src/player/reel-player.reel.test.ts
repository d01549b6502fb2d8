// <reel-player> as a Stories reel: who recorded each clip and how long ago over it, the speed the
// person chose kept for the next reel, and a round play button.
import { expect, fixture, html } from '@open-wc/testing';
import type { Clip } from '../internal/events.js';
import { waitUntil } from '../test-helpers/wait.js';
import './index.js';
import type { ReelPlayer } from './reel-player.js';

const RATE_KEY = 'reelchat:playback-rate';

const clip = (n: number, extra: Partial<Clip> = {}): Clip => ({
  id: `clip${n}`,
  src: `/test-fixtures/hls/clip${n}/index.m3u8`,
  owner: 'bob',
  ownerName: 'Bob',
  ...extra,
});

async function player(clips: Clip[], rate?: string): Promise<ReelPlayer> {
  const holder = await fixture<HTMLDivElement>(html`<div style="width: 320px"></div>`);
  const el = document.createElement('reel-player');
  if (rate) el.setAttribute('playback-rate', rate);
  el.muted = true;
  el.clips = clips;
  holder.append(el);
  await el.updateComplete;
  return el;
}

const part = (el: ReelPlayer, name: string) =>
  el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);

describe('<reel-player> as a reel', () => {
  beforeEach(() => localStorage.removeItem(RATE_KEY));
  afterEach(() => localStorage.removeItem(RATE_KEY));

  it('says over each clip who recorded it and how long ago', async () => {
    const twoMinutesAgo = new Date(Date.now() - 125_000).toISOString();
    const yesterday = new Date(Date.now() - 26 * 3600_000).toISOString();
    const el = await player([
      clip(1, { createdAt: twoMinutesAgo }),
      clip(2, { createdAt: yesterday, ownerName: 'Alice' }),
    ]);
    await waitUntil(() => part(el, 'caption'), 'no caption');
    expect(part(el, 'caption')!.textContent!.replace(/\s+/g, ' ').trim()).to.equal(
      'Bob · 2 minutes ago',
    );
    expect(part(el, 'caption')!.querySelector('time')!.getAttribute('datetime')).to.equal(
      twoMinutesAgo,
    );
    await expect(el).to.be.accessible();
    el.next();
    await waitUntil(
      () => part(el, 'caption')?.textContent?.replace(/\s+/g, ' ').trim() === 'Alice · yesterday',
      `not the second clip's: ${part(el, 'caption')?.textContent}`,
    );
  });

  it('has no caption for a clip that does not say when it was recorded', async () => {
    const el = await player([clip(1)]);
    await waitUntil(() => part(el, 'rate-button'), 'the controls did not load');
    expect(part(el, 'caption')).to.equal(null);
  });

  it('keeps the speed the person chose for the next reel, unless its host sets one', async () => {
    const first = await player([clip(1)]);
    await waitUntil(() => part(first, 'rate-button'), 'the controls did not load');
    part(first, 'rate-button')!.click();
    await first.updateComplete;
    expect(first.playbackRate).to.equal(1.5);
    expect(localStorage.getItem(RATE_KEY)).to.equal('1.5');

    const next = await player([clip(2)]);
    await waitUntil(() => next.playbackRate === 1.5, 'the next reel did not take the speed');
    await next.updateComplete;
    expect(part(next, 'rate-button')!.textContent!.trim()).to.equal('1.5×');

    const hosted = await player([clip(2)], '1');
    await waitUntil(() => part(hosted, 'rate-button'), 'the controls did not load');
    expect(hosted.playbackRate).to.equal(1);
  });

  it('has a round play button', async () => {
    const el = await player([clip(1)]);
    const play = part(el, 'overlay-button')!;
    const box = play.getBoundingClientRect();
    expect(Math.abs(box.width - box.height)).to.be.below(1);
    expect(getComputedStyle(play).borderRadius).to.equal(`${box.height / 2}px`);
  });
});
