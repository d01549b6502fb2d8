import { expect, fixture, html } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import { emulateMedia } from '@web/test-runner-commands';
import { nanoid } from 'nanoid';
import { Outbox } from '../outbox/outbox.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import './index.js';
import type { ReelRecorder, RecorderState } from './reel-recorder.js';

// <reel-recorder> in other languages and right to left (issue 15), and the review's status
// text placed where it covers nothing of the video's own controls.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const part = (el: ReelRecorder, name: string) =>
  el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`)!;

afterEach(() => emulateMedia({ colorScheme: 'light' }));

async function reach(el: ReelRecorder, state: RecorderState): Promise<void> {
  await waitUntil(() => el.state === state, `expected ${state}, still ${el.state}`, {
    timeout: 8000,
  });
  await el.updateComplete;
}

/** A recorder on Chromium's fake camera, previewing. */
async function recorder(attrs: { lang?: string; width?: number } = {}): Promise<ReelRecorder> {
  const room = `rec-i18n-${nanoid(6)}`;
  const transport = new MemoryTransport({ user: 'alice', room, processingDelay: 5 });
  const el = await fixture<ReelRecorder>(
    html`<reel-recorder
      lang=${attrs.lang ?? 'en'}
      conversation="c1"
      max-duration="30"
      autostart
      style="width: ${attrs.width ?? 480}px"
      .transport=${transport}
      .outbox=${new Outbox({ name: `rec-i18n-${nanoid(6)}` })}
    ></reel-recorder>`,
  );
  await reach(el, 'previewing');
  return el;
}

async function review(el: ReelRecorder): Promise<HTMLVideoElement> {
  part(el, 'record-button').click();
  await reach(el, 'recording');
  await sleep(1200);
  part(el, 'stop-button').click();
  await reach(el, 'reviewing');
  const video = part(el, 'review') as HTMLVideoElement;
  await waitUntil(() => video.readyState >= 1, 'the review did not load');
  return video;
}

/** The review's status text lies wholly outside the video, whose native controls fill its bottom. */
function expectStatusClearOfVideo(el: ReelRecorder, video: HTMLVideoElement): void {
  const status = part(el, 'status').getBoundingClientRect();
  const box = video.getBoundingClientRect();
  expect(status.height, 'the status is shown').to.be.greaterThan(0);
  const overlap =
    Math.max(0, Math.min(status.right, box.right) - Math.max(status.left, box.left)) *
    Math.max(0, Math.min(status.bottom, box.bottom) - Math.max(status.top, box.top));
  expect(overlap, 'status over the video').to.equal(0);
  expect(status.top).to.be.at.least(box.bottom);
  // Above the buttons, so the order reads video, what to do, then the buttons.
  expect(status.bottom).to.be.at.most(part(el, 'send-button').getBoundingClientRect().top);
}

describe('<reel-recorder> languages and layout', () => {
  it('puts the review status below the video, clear of its controls (also at 320 px)', async () => {
    for (const width of [480, 320]) {
      const el = await recorder({ width });
      const video = await review(el);
      expect(part(el, 'status').textContent!.trim()).to.equal(
        'Watch your video, then send it or record it again.',
      );
      expectStatusClearOfVideo(el, video);
    }
  });

  it('speaks German, with the limit in words and the countdown in the locale', async () => {
    const el = await recorder({ lang: 'de' });
    await waitUntil(() => part(el, 'status').textContent!.trim() === 'Bereit. Bis zu 30 Sekunden.');
    expect(part(el, 'record-button').textContent!.trim()).to.equal('Aufnehmen');
    part(el, 'record-button').click();
    await reach(el, 'recording');
    expect(part(el, 'countdown').textContent!.trim()).to.match(/^noch 0:[23]\d$/);
  });

  it('mirrors right to left in Arabic: the timer moves to the right, the status stays clear', async () => {
    const el = await recorder({ lang: 'ar' });
    await waitUntil(() => part(el, 'record-button').textContent!.trim() === 'تسجيل');
    expect(part(el, 'base').getAttribute('dir')).to.equal('rtl');
    part(el, 'record-button').click();
    await reach(el, 'recording');
    const stage = part(el, 'stage').getBoundingClientRect();
    const timer = part(el, 'timer').getBoundingClientRect();
    expect(stage.right - timer.right).to.be.closeTo(12, 2);
    expect(timer.left - stage.left).to.be.greaterThan(100);
    await sleep(1000);
    part(el, 'stop-button').click();
    await reach(el, 'reviewing');
    const video = part(el, 'review') as HTMLVideoElement;
    await waitUntil(() => video.readyState >= 1);
    expectStatusClearOfVideo(el, video);
  });

  it('is accessible previewing, recording and in review in dark mode, at 320 px and right to left', async () => {
    await emulateMedia({ colorScheme: 'dark' });
    const dark = await recorder();
    // Record, then Stop: white on the record colour, which must hold in the dark theme too.
    await expect(dark).to.be.accessible();
    part(dark, 'record-button').click();
    await reach(dark, 'recording');
    await expect(dark).to.be.accessible();
    part(dark, 'stop-button').click();
    await reach(dark, 'reviewing');
    await dark.updateComplete;
    await expect(dark).to.be.accessible();
    await emulateMedia({ colorScheme: 'light' });
    const narrow = await recorder({ width: 320, lang: 'ar' });
    await review(narrow);
    await expect(narrow).to.be.accessible();
  });
});
