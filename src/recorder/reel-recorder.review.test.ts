// <reel-recorder>'s review in each engine: its own controls know the take's length and seek
// (Chromium's MediaRecorder WebM has no duration: native controls read 0:00 there), and
// Escape asks before the take is thrown away.
import { expect } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { waitUntil } from '../test-helpers/wait.js';
import './index.js';
import type { ReelRecorder } from './reel-recorder.js';
import {
  listen,
  part,
  press,
  reach,
  recordInEveryEngine,
  recorder,
  setup,
  sleep,
} from './reel-recorder.fixtures.js';

async function reviewTake(seconds: number) {
  const ctx = setup();
  const el = await recorder(ctx);
  const events = listen(el);
  press(el, 'record-button');
  await reach(el, 'recording');
  await sleep(seconds * 1000);
  press(el, 'stop-button');
  await reach(el, 'reviewing');
  return { ctx, el, events };
}

const scrubber = (el: ReelRecorder) => part(el, 'scrubber') as HTMLInputElement;
const video = (el: ReelRecorder) => part(el, 'review') as HTMLVideoElement;

describe('<reel-recorder> review', function () {
  this.timeout(30_000);
  recordInEveryEngine();

  it('shows the take’s length and seeks with its own controls', async () => {
    const { el, events } = await reviewTake(3);
    const duration = events['reel-record-stop'][0].duration;
    expect(video(el).controls, 'no native controls').to.equal(false);
    expect(Number(scrubber(el).max)).to.be.within(duration - 0.6, duration + 0.6);
    expect(part(el, 'review-time')!.textContent!.trim()).to.match(/^0:00 \/ 0:0[234]$/);
    await expect(el).to.be.accessible();

    // Seek to the middle of the length the video knows by then (Chromium's after a probe;
    // WebKit's stand-in here is a fixed 1 s file, whatever was recorded).
    await waitUntil(() => video(el).readyState >= 1, 'the review has no metadata');
    await waitUntil(() => Number.isFinite(video(el).duration), 'the length stayed unknown');
    const length = Number(scrubber(el).max);
    expect(length).to.be.closeTo(video(el).duration, 0.01);
    scrubber(el).value = String(length / 2);
    scrubber(el).dispatchEvent(new Event('input', { bubbles: true }));
    // Within half a second of it: WebKit lands on a keyframe before it.
    await waitUntil(
      () => video(el).currentTime > 0.3 && Math.abs(video(el).currentTime - length / 2) < 0.5,
      `the video did not seek (at ${video(el).currentTime})`,
    );
    await el.updateComplete;
    const [at, of] = part(el, 'review-time')!.textContent!.trim().split(' / ');
    expect(of).to.not.equal('0:00');
    expect(scrubber(el).getAttribute('aria-valuetext')).to.equal(`${at} of ${of}`);
    expect(Number(scrubber(el).value)).to.be.greaterThan(0.3);

    // Play from there and pause with the button, by keyboard (a user's gesture: the take has sound).
    (part(el, 'review-play-button') as HTMLButtonElement).focus();
    await sendKeys({ press: 'Enter' });
    await waitUntil(
      () => part(el, 'review-play-button')!.getAttribute('aria-label') === 'Pause',
      'it did not play',
    );
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => video(el).paused, 'it did not pause');
  });

  it('asks before Escape throws the take away: Keep keeps it, Discard discards it', async () => {
    const { ctx, el, events } = await reviewTake(1.2);
    (part(el, 'review-play-button') as HTMLButtonElement).focus();
    await sendKeys({ press: 'Escape' });
    await waitUntil(() => part(el, 'discard-confirm'), 'no question');
    expect(el.state).to.equal('reviewing');
    expect(part(el, 'discard-confirm')!.textContent).to.contain('Discard this recording?');
    expect(el.shadowRoot!.activeElement).to.equal(part(el, 'keep-button'));
    await expect(el).to.be.accessible();

    await sendKeys({ press: 'Enter' });
    await waitUntil(() => !part(el, 'discard-confirm'), 'Keep did not close the question');
    expect(el.state).to.equal('reviewing');
    expect((await ctx.outbox.pending()).length).to.equal(1);

    await sendKeys({ press: 'Escape' });
    await waitUntil(() => part(el, 'discard-button'), 'no question the second time');
    press(el, 'discard-button');
    await reach(el, 'idle');
    expect(events['reel-record-cancel']).to.have.length(1);
    await waitUntil(async () => (await ctx.outbox.pending()).length === 0, 'the take stayed');
  });
});
