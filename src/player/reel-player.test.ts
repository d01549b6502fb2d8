import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import { sendKeys } from '@web/test-runner-commands';
import type { Clip } from '../internal/events.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import type { ReelError } from '../transport/errors.js';
import { HlsEngine } from './hls-engine.js';
import './index.js';
import type { ReelPlayer } from './reel-player.js';
import { Timers } from './timers.js';

const hlsClip = (n: number, extra: Partial<Clip> = {}): Clip => ({
  id: `clip${n}`,
  src: `/test-fixtures/hls/clip${n}/index.m3u8`,
  owner: 'bob',
  ownerName: 'Bob',
  ...extra,
});
const fourClips = () => [1, 2, 3, 4].map((n) => hlsClip(n));

interface Recorded {
  changes: number[];
  watched: number[];
  ended: number;
  errors: ReelError[];
}

function record(el: ReelPlayer): Recorded {
  const seen: Recorded = { changes: [], watched: [], ended: 0, errors: [] };
  el.addEventListener('reel-clip-change', (e) => seen.changes.push(e.detail.index));
  el.addEventListener('reel-clip-watched', (e) => seen.watched.push(e.detail.index));
  el.addEventListener('reel-ended', () => seen.ended++);
  el.addEventListener('reel-error', (e) => seen.errors.push(e.detail.error));
  return seen;
}

/** A player with `clips`, fast and muted so the suite stays quick, recording its events from the start. */
async function player(clips: Clip[], options: { autoplay?: boolean; start?: string } = {}) {
  const holder = await fixture<HTMLDivElement>(html`<div style="width: 320px"></div>`);
  const el = document.createElement('reel-player');
  const seen = record(el);
  el.setAttribute('playback-rate', '2');
  el.muted = true;
  if (options.autoplay ?? true) el.autoplay = true;
  if (options.start) el.setAttribute('start', options.start);
  el.clips = clips;
  holder.append(el);
  await el.updateComplete;
  return { el, seen };
}

const video = (el: ReelPlayer) =>
  el.shadowRoot!.querySelector<HTMLVideoElement>('video[data-active]')!;
const button = (el: ReelPlayer, part: string) =>
  el.shadowRoot!.querySelector<HTMLButtonElement>(`[part~="${part}"]`)!;
const playing = (el: ReelPlayer) => {
  const v = video(el);
  return !!v && !v.paused && v.currentTime > 0.1;
};

describe('<reel-player>', function () {
  this.timeout(30_000);

  it('plays four HLS clips to the end in order, stitched: one clip change per clip, ended once', async () => {
    const { el, seen } = await player(fourClips());
    await waitUntil(() => seen.ended > 0, 'the reel did not end', { timeout: 20_000 });
    expect(el.mode).to.equal('stitch');
    expect(seen.changes).to.deep.equal([0, 1, 2, 3]);
    expect(seen.watched).to.deep.equal([0, 1, 2, 3]);
    expect(seen.errors).to.deep.equal([]);
    expect(el.playlist.every((clip) => clip.watched)).to.equal(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.ended).to.equal(1);
    const fills = [...el.shadowRoot!.querySelectorAll('[role="progressbar"]')].map((bar) =>
      bar.getAttribute('aria-valuenow'),
    );
    expect(fills).to.deep.equal(['100', '100', '100', '100']);
  });

  it('buffers no further than the first clip until its frames play, then ahead as usual', async () => {
    // WebKit's pipeline can stall for good when later clips' init segments arrive before its
    // first frame: hls.js keeps to a short buffer until frames play.
    const { el } = await player(fourClips(), { autoplay: false });
    const bufferedEnd = () => {
      const ranges = video(el)?.buffered;
      return ranges?.length ? ranges.end(ranges.length - 1) : 0;
    };
    await waitUntil(() => video(el)?.readyState >= 2, 'no first frame', { timeout: 10_000 });
    // Given time to buffer more, it does not: nothing of clip 2 (from 3 s on) is there.
    await new Promise((r) => setTimeout(r, 700));
    expect(bufferedEnd()).to.be.within(0.9, 3.05);
    await el.play();
    await waitUntil(() => bufferedEnd() > 6.5, 'does not buffer ahead once playing', {
      timeout: 10_000,
    });
  });

  it('gets going again when the clock stops with media buffered, anywhere in a clip, and says so', async () => {
    const { el, seen } = await player(fourClips());
    const stop = () => (video(el).playbackRate = 0);
    // Stuck early in clip 1 (as WebKit's pipeline sometimes is before its first frame): a nudge.
    await waitUntil(() => playing(el) && video(el).currentTime > 0.2, 'did not start', {
      timeout: 10_000,
    });
    stop();
    await waitUntil(() => seen.errors.length === 1, 'the stall was not reported', {
      timeout: 5_000,
    });
    expect(seen.errors[0].code).to.equal('media');
    expect(seen.errors[0].message).to.match(/stalled .* clip 1; nudged it on/);
    video(el).playbackRate = 2;
    await waitUntil(() => video(el).currentTime > 1, 'did not go on after the nudge');
    expect(seen.changes).to.deep.equal([0]);
    // Still stuck after the nudge, mid-clip: on to the next clip.
    await waitUntil(() => seen.changes.includes(1), 'did not reach clip 2', { timeout: 10_000 });
    await waitUntil(() => video(el).currentTime > 3.2, 'clip 2 does not play');
    stop();
    await waitUntil(() => seen.changes.includes(2), 'did not move on past the stall', {
      timeout: 8_000,
    });
    expect(seen.errors.map((error) => error.message.replace(/ [\d.]+ s into/, ''))).to.deep.equal([
      'Playback stalled clip 1; nudged it on.',
      'Playback stalled clip 2; nudged it on.',
      'Playback stalled clip 2; went on to the next clip.',
    ]);
    expect(seen.watched).to.not.include(1);
  });

  it('without MediaSource plays through ManagedMediaSource where there is one (iPhone Safari), else natively', async () => {
    const original = Object.getOwnPropertyDescriptor(window, 'MediaSource')!;
    const managed = 'ManagedMediaSource' in window;
    const native = document.createElement('video').canPlayType('application/vnd.apple.mpegurl');
    Object.defineProperty(window, 'MediaSource', { value: undefined, configurable: true });
    try {
      const { el, seen } = await player([hlsClip(1), hlsClip(2)]);
      if (!managed && !native) {
        // Neither (Firefox without MediaSource): nothing can play HLS, and it says so.
        await waitUntil(() => seen.errors.length > 0, 'no reel-error', { timeout: 10_000 });
        expect(seen.errors[0].code).to.equal('unsupported');
        return;
      }
      await waitUntil(() => seen.ended > 0, 'the reel did not end', { timeout: 20_000 });
      expect(seen.changes).to.deep.equal([0, 1]);
      expect(seen.errors).to.deep.equal([]);
      if (managed) {
        // WebKit: the stitched reel on hls.js, which attaches a ManagedMediaSource by <source>.
        expect(el.mode).to.equal('stitch');
        expect(video(el).querySelector('source')?.src).to.match(/^blob:/);
      } else {
        // Chromium (156 here) plays HLS itself: the two-video fallback, natively.
        expect(el.mode).to.equal('swap');
        expect(HlsEngine.live).to.equal(0);
      }
    } finally {
      Object.defineProperty(window, 'MediaSource', original);
    }
  });

  it('skips a clip whose playlist is missing, with a note and a reel-error, and plays the rest', async () => {
    const clips = [
      hlsClip(1),
      { id: 'gone', src: '/test-fixtures/hls/missing/index.m3u8' },
      hlsClip(3),
    ];
    const { el, seen } = await player(clips);
    await waitUntil(() => seen.ended > 0, 'the reel did not end', { timeout: 20_000 });
    expect(seen.changes).to.deep.equal([0, 2]);
    expect(seen.errors.map((error) => error.code)).to.deep.equal(['not-found']);
    expect(seen.ended).to.equal(1);
    const segment = el.shadowRoot!.querySelectorAll('[part~="segment"]')[1];
    expect(segment.getAttribute('part')).to.contain('segment-failed');
  });

  it('skips a clip whose segment fails mid-play, reporting it once', async () => {
    const base = new URL('/test-fixtures/hls/clip2/', location.href).href;
    const broken = [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      '#EXT-X-TARGETDURATION:1',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      `#EXT-X-MAP:URI="${base}init.mp4"`,
      '#EXTINF:1.0,',
      `${base}seg0.m4s`,
      '#EXTINF:1.0,',
      `${base}missing.m4s`,
      '#EXTINF:1.0,',
      `${base}seg2.m4s`,
      '#EXT-X-ENDLIST',
    ].join('\n');
    const url = URL.createObjectURL(new Blob([broken], { type: 'application/vnd.apple.mpegurl' }));
    try {
      const { el, seen } = await player([hlsClip(1), { id: 'broken', src: url }, hlsClip(3)]);
      await waitUntil(() => seen.ended > 0, 'the reel did not end', { timeout: 20_000 });
      expect(seen.changes[0]).to.equal(0);
      expect(seen.changes.at(-1)).to.equal(2);
      expect(seen.errors).to.have.length(1);
      expect(el.shadowRoot!.querySelectorAll('[part~="segment-failed"]')).to.have.length(1);
    } finally {
      URL.revokeObjectURL(url);
    }
  });

  it('shows the skipped clip note while the rest plays', async () => {
    const clips = [
      hlsClip(1),
      { id: 'gone', src: '/test-fixtures/hls/missing/index.m3u8' },
      hlsClip(3),
    ];
    const { el } = await player(clips);
    await waitUntil(() => el.shadowRoot!.querySelector('[part="note"]'), 'no note', {
      timeout: 10_000,
    });
    expect(el.shadowRoot!.querySelector('[part="note"]')!.textContent).to.contain('Clip 2');
  });

  it('goes to the next clip with ArrowRight and with the next button', async () => {
    const { el, seen } = await player(fourClips());
    await waitUntil(() => playing(el), 'did not start', { timeout: 10_000 });
    el.focus();
    expect(el.shadowRoot!.activeElement?.getAttribute('part')).to.equal('base');
    await sendKeys({ press: 'ArrowRight' });
    await waitUntil(() => seen.changes.includes(1), 'no change to clip 2');
    expect(el.position.index).to.equal(1);
    button(el, 'next-button').click();
    await waitUntil(() => seen.changes.includes(2), 'no change to clip 3');
    await waitUntil(() => video(el).currentTime > 6.2, 'clip 3 does not play');
    expect(seen.changes).to.deep.equal([0, 1, 2]);
    // Skipping is not watching.
    expect(seen.watched).to.deep.equal([]);
  });

  it('goes back to the previous clip with ArrowLeft', async () => {
    const { el, seen } = await player(fourClips(), { start: '2' });
    await waitUntil(() => playing(el), 'did not start', { timeout: 10_000 });
    expect(seen.changes).to.deep.equal([2]);
    el.shadowRoot!.querySelector<HTMLElement>('[part="base"]')!.focus();
    await sendKeys({ press: 'ArrowLeft' });
    await waitUntil(() => seen.changes.includes(1), 'no change to clip 2');
    await waitUntil(() => video(el).currentTime > 3.1 && !video(el).paused, 'clip 2 does not play');
    expect(el.position.index).to.equal(1);
  });

  it('pauses and resumes where it was', async () => {
    const { el } = await player(fourClips());
    await waitUntil(() => playing(el), 'did not start', { timeout: 10_000 });
    button(el, 'play-button').click();
    await waitUntil(() => video(el).paused, 'did not pause');
    await el.updateComplete;
    expect(button(el, 'play-button').getAttribute('aria-label')).to.equal('Play');
    const at = video(el).currentTime;
    await new Promise((r) => setTimeout(r, 400));
    // Where it was: WebKit's clock settles a millisecond or so after the pause.
    expect(video(el).currentTime).to.be.closeTo(at, 0.05);
    el.shadowRoot!.querySelector<HTMLElement>('[part="base"]')!.focus();
    // ' ' rather than 'Space': puppeteer's Firefox (BiDi) keyboard knows only the former.
    await sendKeys({ press: ' ' });
    await waitUntil(() => video(el).currentTime > at + 0.3, 'did not resume');
    expect(video(el).currentTime).to.be.lessThan(at + 3);
  });

  it('pauses while pressed and held, and goes on when released', async () => {
    const { el } = await player(fourClips());
    await waitUntil(() => playing(el), 'did not start', { timeout: 10_000 });
    const stage = el.shadowRoot!.querySelector<HTMLElement>('[part="stage"]')!;
    const { left, top, width } = stage.getBoundingClientRect();
    const at = {
      clientX: left + width * 0.8,
      clientY: top + 20,
      button: 0,
      isPrimary: true,
      bubbles: true,
    };
    stage.dispatchEvent(new PointerEvent('pointerdown', at));
    await waitUntil(() => video(el).paused, 'did not pause while held');
    stage.dispatchEvent(new PointerEvent('pointerup', at));
    await waitUntil(() => !video(el).paused, 'did not resume on release');
    expect(el.position.index).to.equal(0);
  });

  it('goes next on a tap on the right, back on a tap on the left', async () => {
    const { el, seen } = await player(fourClips(), { start: '1' });
    await waitUntil(() => playing(el), 'did not start', { timeout: 10_000 });
    const stage = el.shadowRoot!.querySelector<HTMLElement>('[part="stage"]')!;
    const { left, top, width } = stage.getBoundingClientRect();
    const tap = (x: number) => {
      const init = {
        clientX: left + width * x,
        clientY: top + 20,
        button: 0,
        isPrimary: true,
        bubbles: true,
      };
      stage.dispatchEvent(new PointerEvent('pointerdown', init));
      stage.dispatchEvent(new PointerEvent('pointerup', init));
    };
    tap(0.9);
    await waitUntil(() => seen.changes.includes(2), 'tap right did not go next');
    tap(0.1);
    await waitUntil(() => seen.changes.length === 3, 'tap left did not go back');
    expect(seen.changes).to.deep.equal([1, 2, 1]);
  });

  it('plays muted with an unmute button when the browser refuses sound', async () => {
    const original = HTMLMediaElement.prototype.play;
    let refused = 0;
    HTMLMediaElement.prototype.play = function (this: HTMLMediaElement) {
      if (!this.muted) {
        refused++;
        return Promise.reject(new DOMException('needs a gesture', 'NotAllowedError'));
      }
      return original.call(this);
    };
    try {
      const el = document.createElement('reel-player');
      el.autoplay = true;
      el.clips = [hlsClip(1)];
      (await fixture<HTMLDivElement>(html`<div></div>`)).append(el);
      await waitUntil(() => playing(el), 'did not play muted', { timeout: 10_000 });
      expect(refused).to.equal(1);
      expect(el.muted).to.equal(true);
      await el.updateComplete;
      const unmute = button(el, 'unmute-button');
      expect(unmute.textContent).to.contain('Tap to unmute');
      HTMLMediaElement.prototype.play = original;
      unmute.click();
      await el.updateComplete;
      expect(el.muted).to.equal(false);
      expect(video(el).muted).to.equal(false);
    } finally {
      HTMLMediaElement.prototype.play = original;
    }
  });

  it('starts at the first clip not yet watched', async () => {
    const clips = [
      hlsClip(1, { watched: true }),
      hlsClip(2, { watched: true }),
      hlsClip(3),
      hlsClip(4),
    ];
    const { el, seen } = await player(clips);
    await waitUntil(() => playing(el), 'did not start', { timeout: 10_000 });
    expect(seen.changes).to.deep.equal([2]);
    expect(video(el).currentTime).to.be.within(6, 9);
  });

  it('leaves no hls.js instance, timer or loaded media element behind when removed mid-play', async () => {
    const { el, seen } = await player(fourClips());
    await waitUntil(() => seen.changes.includes(1), 'did not reach clip 2', { timeout: 10_000 });
    const videos = [...el.shadowRoot!.querySelectorAll('video')];
    expect(HlsEngine.live).to.equal(1);
    el.remove();
    expect(HlsEngine.live).to.equal(0);
    expect(Timers.live).to.equal(0);
    for (const v of videos) {
      expect(v.paused).to.equal(true);
      expect(v.getAttribute('src')).to.equal(null);
      expect(v.readyState).to.equal(HTMLMediaElement.HAVE_NOTHING);
      expect([HTMLMediaElement.NETWORK_EMPTY, HTMLMediaElement.NETWORK_NO_SOURCE]).to.include(
        v.networkState,
      );
    }
    // And it comes back where it was when put back.
    const changes = seen.changes.length;
    document.body.append(el);
    await waitUntil(() => seen.changes.length > changes, 'did not resume when put back', {
      timeout: 10_000,
    });
    expect(seen.changes.at(-1)).to.equal(1);
    el.remove();
    expect(HlsEngine.live).to.equal(0);
    expect(Timers.live).to.equal(0);
  });

  it('plays plain files back to back through the two-video fallback', async () => {
    const file = (id: string): Clip => ({
      id,
      src: '/test-fixtures/video/sample.mp4',
      type: 'file',
    });
    const { el, seen } = await player([file('a'), file('b')]);
    await waitUntil(() => seen.ended > 0, 'the reel did not end', { timeout: 15_000 });
    expect(el.mode).to.equal('swap');
    expect(seen.changes).to.deep.equal([0, 1]);
    expect(seen.watched).to.deep.equal([0, 1]);
    expect(seen.ended).to.equal(1);
    expect(HlsEngine.live).to.equal(0);
  });

  it('reads its clips from <reel-clip> children', async () => {
    const el = await fixture<ReelPlayer>(html`
      <reel-player muted>
        <reel-clip src="/test-fixtures/hls/clip1/index.m3u8" watched></reel-clip>
        <reel-clip src="/test-fixtures/hls/clip2/index.m3u8" owner-name="Bob"></reel-clip>
      </reel-player>
    `);
    await waitUntil(() => el.playlist.length === 2, 'children not read');
    expect(el.playlist.map((clip) => clip.watched)).to.deep.equal([true, false]);
    await waitUntil(() => el.position.index === 1, 'did not start at the unwatched clip', {
      timeout: 10_000,
    });
    const extra = document.createElement('reel-clip');
    extra.setAttribute('src', '/test-fixtures/hls/clip3/index.m3u8');
    el.append(extra);
    await waitUntil(() => el.playlist.length === 3, 'new child not read');
  });

  it('lists the owner’s clips through a transport and appends new ones live', async () => {
    MemoryTransport.resetRoom('player-test');
    const bob = new MemoryTransport({ user: 'bob', room: 'player-test', processingDelay: 5 });
    const alice = new MemoryTransport({ user: 'alice', room: 'player-test' });
    const sample = await (await fetch('/test-fixtures/video/sample.mp4')).blob();
    const share = async (clientId: string) => {
      const video = await bob.upload('c1', sample, { clientId, type: 'video/mp4' });
      await new Promise((r) => setTimeout(r, 30));
      await bob.sendMessage('c1', { clientId, video: video.id });
    };
    await share('one');
    await share('two');
    const el = await fixture<ReelPlayer>(
      html`<reel-player
        conversation="c1"
        owner="bob"
        muted
        playback-rate="2"
        .transport=${alice}
      ></reel-player>`,
    );
    await waitUntil(() => el.playlist.length === 2, 'clips not listed', { timeout: 5_000 });
    expect(el.playlist.every((clip) => clip.type === 'file' && clip.owner === 'bob')).to.equal(
      true,
    );
    await waitUntil(() => el.mode === 'swap', 'no engine');
    await share('three');
    await waitUntil(() => el.playlist.length === 3, 'new clip not appended', { timeout: 5_000 });
    await alice.close();
    await bob.close();
  });

  it('takes a transport by name alone, loading the built-in ones when first asked', async () => {
    MemoryTransport.resetRoom('player-by-name');
    const bob = new MemoryTransport({ user: 'bob', room: 'player-by-name', processingDelay: 5 });
    const sample = await (await fetch('/test-fixtures/video/sample.mp4')).blob();
    const video = await bob.upload('c1', sample, { clientId: 'only', type: 'video/mp4' });
    await waitUntil(async () => (await bob.getVideo('c1', video.id)).state === 'ready');
    await bob.sendMessage('c1', { clientId: 'only', video: video.id });
    // Nothing in this file registers "memory": the player's own entry must find it.
    const el = await fixture<ReelPlayer>(
      html`<reel-player
        transport="memory"
        room="player-by-name"
        user="alice"
        conversation="c1"
        owner="bob"
        muted
      ></reel-player>`,
    );
    await waitUntil(() => el.playlist.length === 1, 'clip not listed', { timeout: 5_000 });
    expect(el.playlist[0].id).to.equal(video.id);
    await bob.close();
  });

  it('reports bad attribute values as reel-error, without breaking', async () => {
    const el = document.createElement('reel-player');
    const seen = record(el);
    el.setAttribute('playback-rate', 'fast');
    el.setAttribute('start', 'first');
    el.clips = [hlsClip(1), { nope: true } as unknown as Clip];
    el.transport = 'no-such-transport';
    const holder = await fixture<HTMLDivElement>(html`<div></div>`);
    holder.append(el);
    await el.updateComplete;
    await waitUntil(
      () => seen.errors.length >= 4,
      `errors: ${seen.errors.map((e) => e.message).join(' | ')}`,
    );
    expect(seen.errors.every((error) => error.code === 'bad-request')).to.equal(true);
    const text = seen.errors.map((error) => error.message).join('\n');
    expect(text).to.contain('playback-rate');
    expect(text).to.contain('start');
    expect(text).to.contain('clips[1]');
    expect(text).to.contain('no-such-transport');
    await waitUntil(() => el.mode === 'stitch', 'the valid clip did not load', { timeout: 10_000 });
  });

  it('announces the clip and names every control (accessibility)', async () => {
    const { el, seen } = await player([hlsClip(1), hlsClip(2)], { autoplay: false });
    await waitUntil(() => seen.changes.length > 0, 'no clip', { timeout: 10_000 });
    await el.updateComplete;
    const live = el.shadowRoot!.querySelector('[aria-live="polite"]')!;
    expect(live.textContent!.trim()).to.equal('Clip 1 of 2, from Bob, 3 seconds');
    await expect(el).to.be.accessible();
    const play = el.shadowRoot!.querySelector<HTMLButtonElement>('[part~="overlay-button"]')!;
    play.click();
    await oneEvent(el, 'reel-clip-change');
    await el.updateComplete;
    expect(live.textContent!.trim()).to.equal('Clip 2 of 2, from Bob, 3 seconds');
  });
});
