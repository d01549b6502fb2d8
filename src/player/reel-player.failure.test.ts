// <reel-player> when playback fails, and what a strict page policy asks of it: the stitched
// playlist reaches hls.js from memory (no `blob:` fetch), the progress is set through the
// CSSOM, a reel that cannot play says so with Retry, and a policy that blocks the player is
// named in the console and in the element. (A real Content-Security-Policy: e2e/csp.test.ts.)
import { expect, fixture, html } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import type { Clip } from '../internal/events.js';
import type { ReelError } from '../transport/errors.js';
import './index.js';
import type { ReelPlayer } from './reel-player.js';

const hlsClip = (n: number): Clip => ({
  id: `clip${n}`,
  src: `/test-fixtures/hls/clip${n}/index.m3u8`,
});

async function player(clips: Clip[], lang = 'en') {
  const holder = await fixture<HTMLDivElement>(html`<div lang=${lang}></div>`);
  const el = document.createElement('reel-player');
  const errors: ReelError[] = [];
  let ended = 0;
  el.addEventListener('reel-error', (e) => errors.push(e.detail.error));
  el.addEventListener('reel-ended', () => ended++);
  el.setAttribute('playback-rate', '2');
  el.muted = true;
  el.autoplay = true;
  el.clips = clips;
  holder.append(el);
  await el.updateComplete;
  return { el, errors, ended: () => ended };
}

const part = (el: ReelPlayer, name: string) =>
  el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);

describe('<reel-player> under a strict page policy, and when playback fails', function () {
  this.timeout(30_000);
  const realFetch = window.fetch;
  const realOpen = XMLHttpRequest.prototype.open;
  const realError = console.error;
  afterEach(() => {
    window.fetch = realFetch;
    XMLHttpRequest.prototype.open = realOpen;
    console.error = realError;
  });

  it('hands hls.js the stitched playlist from memory: no blob: URL is fetched, and the progress is set through the CSSOM', async () => {
    const requested: string[] = [];
    window.fetch = (input, init) => {
      requested.push(String(input instanceof Request ? input.url : input));
      return realFetch(input, init);
    };
    XMLHttpRequest.prototype.open = function (this: XMLHttpRequest, ...args: unknown[]) {
      requested.push(String(args[1]));
      return (realOpen as (...a: unknown[]) => void).apply(this, args);
    } as typeof realOpen;
    const { el, errors, ended } = await player([hlsClip(1), hlsClip(2)]);
    // Half way, the first segment's fill is set and partly filled.
    await waitUntil(
      () => el.position.index === 0 && el.position.offset > 0.3,
      'clip 1 did not play',
    );
    const fill = part(el, 'segment-fill')!;
    expect(fill.style.width).to.match(/^\d+%$/);
    await waitUntil(() => ended() > 0, 'the reel did not end', { timeout: 20_000 });
    expect(el.mode).to.equal('stitch');
    expect(errors).to.deep.equal([]);
    expect(requested.filter((url) => url.startsWith('blob:'))).to.deep.equal([]);
    // The segments came through hls.js's own loader, over the network.
    expect(requested.some((url) => /clip2\/.*\.(m4s|ts|mp4)/.test(url))).to.equal(true);
    const fills = [...el.shadowRoot!.querySelectorAll<HTMLElement>('[part~="segment-fill"]')];
    expect(fills.map((f) => f.style.width)).to.deep.equal(['100%', '100%']);
    expect(part(el, 'failure')).to.equal(null);
  });

  it('shows a reel that cannot load as a failure in plain words with Retry, which plays it once it can', async () => {
    let offline = true;
    window.fetch = (input, init) =>
      offline ? Promise.reject(new TypeError('Failed to fetch')) : realFetch(input, init);
    const { el, errors, ended } = await player([hlsClip(1), hlsClip(2)]);
    await waitUntil(() => part(el, 'failure'), 'no failure shown');
    expect(part(el, 'failure')!.getAttribute('role')).to.equal('alert');
    expect(part(el, 'failure-message')!.textContent).to.equal(
      'The video could not be loaded. Check the connection and try again.',
    );
    expect(errors.map((e) => e.code)).to.deep.equal(['network', 'network']);
    // No play button over it, and no "End of the reel." under it.
    expect(part(el, 'overlay-button')).to.equal(null);
    expect(part(el, 'note')).to.equal(null);
    await expect(el).to.be.accessible();
    offline = false;
    part(el, 'retry-button')!.click();
    await waitUntil(() => !part(el, 'failure'), 'the failure stayed after Retry');
    await waitUntil(
      () => ended() > 0 && el.position.index === 1,
      'the reel did not play to its end',
      {
        timeout: 20_000,
      },
    );
    expect(part(el, 'failure')).to.equal(null);
  });

  it('says what failed in the element’s language', async () => {
    const { el } = await player(
      [{ id: 'gone', src: '/test-fixtures/hls/missing/index.m3u8' }],
      'de',
    );
    await waitUntil(() => part(el, 'failure'), 'no failure shown');
    await waitUntil(
      () => part(el, 'failure-message')!.textContent === 'Dieses Video ist nicht mehr verfügbar.',
      `not in German: ${part(el, 'failure-message')!.textContent}`,
    );
    expect(part(el, 'retry-button')!.textContent!.trim()).to.equal('Erneut versuchen');
  });

  it('names a policy line that blocks its media, in the console and in the element', async () => {
    const logged: string[] = [];
    console.error = (...args: unknown[]) => logged.push(args.join(' '));
    const { el } = await player([hlsClip(1), hlsClip(2)]);
    await waitUntil(() => el.mode === 'stitch', 'no engine');
    const video = el.shadowRoot!.querySelector('video')!;
    // As the browser fires it when media-src lacks blob: (MSE plays through a blob: URL).
    video.dispatchEvent(
      new SecurityPolicyViolationEvent('securitypolicyviolation', {
        bubbles: true,
        composed: true,
        blockedURI: 'blob',
        effectiveDirective: 'media-src',
        violatedDirective: 'media-src',
        originalPolicy: "media-src 'self'",
        disposition: 'enforce',
        documentURI: location.href,
        statusCode: 200,
      }),
    );
    await waitUntil(() => part(el, 'failure'), 'no failure shown');
    expect(part(el, 'failure-message')!.textContent).to.equal(
      'This site’s security settings blocked the video.',
    );
    expect(part(el, 'failure-detail')!.textContent!.trim()).to.equal(
      'Content-Security-Policy: media-src blob:',
    );
    expect(logged.filter((line) => line.includes('Add "blob:" to media-src'))).to.have.length(1);
    // Another page's violation, not the player's: nothing more.
    document.dispatchEvent(
      new SecurityPolicyViolationEvent('securitypolicyviolation', {
        blockedURI: 'https://elsewhere.example/x.js',
        effectiveDirective: 'script-src-elem',
        violatedDirective: 'script-src-elem',
        originalPolicy: "script-src 'self'",
        disposition: 'enforce',
        documentURI: location.href,
        statusCode: 200,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logged).to.have.length(1);
  });
});
