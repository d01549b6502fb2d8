// <reel-recorder> fits the space it gets (issue 22): in a window-sized container at desktop
// and phone sizes and in a 360 px-high one, left to right and right to left, the picture
// scales down and the status, timer and buttons stay inside, in every state a take passes.
import { expect, fixture, html } from '@open-wc/testing';
import { setViewport } from '@web/test-runner-commands';
import './index.js';
import type { ReelRecorder } from './reel-recorder.js';
import {
  engine,
  part,
  press,
  reach,
  recordInEveryEngine,
  setup,
  sleep,
} from './reel-recorder.fixtures.js';

interface Space {
  name: string;
  viewport: { width: number; height: number };
  /** The container's height (the window's when absent). */
  height?: number;
}

const SPACES: Space[] = [
  { name: 'desktop 1280×800', viewport: { width: 1280, height: 800 } },
  { name: 'phone 390×844', viewport: { width: 390, height: 844 } },
  { name: 'small phone 320×568', viewport: { width: 320, height: 568 } },
  { name: 'a 360 px-high container', viewport: { width: 1280, height: 800 }, height: 360 },
];

/**
 * The window at the space's size (WebKit's driver cannot set it: there the container alone
 * has the size), and the recorder in a container of that size, in the language given (`ar`:
 * right to left).
 */
async function recorderIn(space: Space, lang: 'en' | 'ar'): Promise<ReelRecorder> {
  if (engine !== 'webkit') await setViewport(space.viewport);
  const ctx = setup();
  const box = await fixture<HTMLDivElement>(
    html`<div lang=${lang} class="space" data-height=${space.height ?? 'window'}></div>`,
  );
  // Through the CSSOM: the test page's policy is the host pages' (no style attributes).
  Object.assign(box.style, {
    position: 'fixed',
    insetBlockStart: '0',
    insetInlineStart: '0',
    inlineSize: `${space.viewport.width}px`,
    blockSize: `${space.height ?? space.viewport.height}px`,
    overflow: 'hidden',
  });
  const el = document.createElement('reel-recorder');
  el.conversation = 'c1';
  el.maxDuration = 30;
  el.autostart = true;
  el.transport = ctx.watched.transport;
  el.outbox = ctx.outbox;
  // In the 360 px one the page gives the recorder that height (as <reel-chat>'s panel does);
  // in the others it has none of its own and fits by its maximum.
  if (space.height) el.style.blockSize = '100%';
  box.append(el);
  await reach(el, 'previewing');
  return el;
}

/** Every shown part's box is inside the container's; the picture has room to be seen. */
function expectInside(el: ReelRecorder, state: string, parts: string[]) {
  const box = el.parentElement!.getBoundingClientRect();
  const inside = (name: string) => {
    const node = part(el, name);
    expect(node, `${name} is shown (${state})`).to.not.equal(null);
    const r = node!.getBoundingClientRect();
    const where = `${name} at ${r.left},${r.top} ${r.width}×${r.height} in ${box.width}×${box.height} (${state})`;
    expect(r.width * r.height, `${where}: has a size`).to.be.greaterThan(0);
    expect(r.top, where).to.be.at.least(box.top - 0.5);
    expect(r.left, where).to.be.at.least(box.left - 0.5);
    expect(r.bottom, where).to.be.at.most(box.bottom + 0.5);
    expect(r.right, where).to.be.at.most(box.right + 0.5);
    return r;
  };
  const stage = inside('stage');
  // The picture scales down, not away: the whole width, or at least a third of the height.
  if (stage.width < box.width - 1)
    expect(stage.height, `the picture's height (${state})`).to.be.at.least(box.height / 3);
  for (const name of parts) inside(name);
  return stage;
}

describe('<reel-recorder> fits its space', function () {
  this.timeout(60_000);
  recordInEveryEngine();

  after(async () => {
    if (engine !== 'webkit') await setViewport({ width: 800, height: 600 });
  });

  for (const space of SPACES)
    for (const lang of ['en', 'ar'] as const)
      it(`${space.name}, ${lang === 'ar' ? 'right to left' : 'left to right'}`, async () => {
        const el = await recorderIn(space, lang);
        const base = part(el, 'base')!;
        expect(getComputedStyle(base).direction).to.equal(lang === 'ar' ? 'rtl' : 'ltr');

        const preview = expectInside(el, 'previewing', ['status', 'controls', 'record-button']);
        // The picture keeps its shape: without a `shape`, portrait on an upright window.
        const upright = matchMedia('(orientation: portrait)').matches;
        expect(preview.width / preview.height).to.be.closeTo(upright ? 9 / 16 : 16 / 9, 0.02);

        press(el, 'record-button');
        await reach(el, 'recording');
        expectInside(el, 'recording', ['timer', 'controls', 'stop-button']);
        // The timer's start edge is the stage's (left, or right in Arabic).
        const timer = part(el, 'timer')!.getBoundingClientRect();
        const stage = part(el, 'stage')!.getBoundingClientRect();
        if (lang === 'ar') expect(stage.right - timer.right).to.be.closeTo(12, 2);
        else expect(timer.left - stage.left).to.be.closeTo(12, 2);

        await sleep(1200);
        press(el, 'stop-button');
        await reach(el, 'reviewing');
        expectInside(el, 'reviewing', [
          'review-controls',
          'scrubber',
          'status',
          'send-button',
          'retake-button',
        ]);
        await expect(el).to.be.accessible();
        el.close();
      });
});
