// <reel-chat>'s panels fit the dialog (issue 22): at 1280×800 the recorder's 16:9 picture
// filled the panel and pushed Record below the fold (y = 935). Now, in a dialog as large as the
// window at desktop and phone sizes and in a 360 px-high one, left to right and right to left,
// the recorder's picture and buttons, its timer, the reel and each panel's close button are
// inside the dialog without scrolling.
import { expect, fixture, html } from '@open-wc/testing';
import { setViewport } from '@web/test-runner-commands';
import { waitUntil } from '../test-helpers/wait.js';
import './index.js';
import type { ReelChat } from './reel-chat.js';
import { $, newRoom, ready, resetRooms, sendVideo } from './reel-chat.fixtures.js';

const webkit = /AppleWebKit/.test(navigator.userAgent) && !/Chrome\//.test(navigator.userAgent);

const SPACES = [
  { name: 'desktop 1280×800', width: 1280, height: 800, window: true },
  { name: 'phone 390×844', width: 390, height: 844, window: true },
  { name: 'small phone 320×568', width: 320, height: 568, window: true },
  { name: 'a 360 px-high dialog', width: 1280, height: 360, window: false },
];

/** A part inside `root`'s shadow root, or inside a nested element's (`host >>> part`). */
function inner(host: Element | null, selector: string): HTMLElement | null {
  return host?.shadowRoot?.querySelector<HTMLElement>(selector) ?? null;
}

function expectInside(chat: ReelChat, what: string, node: Element | null) {
  expect(node, `${what} is shown`).to.not.equal(null);
  const box = chat.getBoundingClientRect();
  const r = node!.getBoundingClientRect();
  const where = `${what} at ${r.left},${r.top} ${r.width}×${r.height} in ${box.width}×${box.height}`;
  expect(r.width * r.height, `${where}: has a size`).to.be.greaterThan(0);
  expect(r.top, where).to.be.at.least(box.top - 0.5);
  expect(r.left, where).to.be.at.least(box.left - 0.5);
  expect(r.bottom, where).to.be.at.most(box.bottom + 0.5);
  expect(r.right, where).to.be.at.most(box.right + 0.5);
}

describe('<reel-chat> panels fit the dialog', function () {
  this.timeout(60_000);
  afterEach(resetRooms);
  after(async () => {
    if (!webkit) await setViewport({ width: 800, height: 600 });
  });

  for (const space of SPACES)
    for (const lang of ['en', 'ar'])
      it(`${space.name}, ${lang === 'ar' ? 'right to left' : 'left to right'}`, async () => {
        // WebKit's driver cannot size the window: there the dialog alone has the size.
        if (space.window && !webkit)
          await setViewport({ width: space.width, height: space.height });
        const room = newRoom();
        await sendVideo(room, 'bob');
        const box = await fixture<HTMLDivElement>(html`<div lang=${lang}></div>`);
        Object.assign(box.style, {
          position: 'fixed',
          insetBlockStart: '0',
          insetInlineStart: '0',
          inlineSize: `${space.width}px`,
          blockSize: `${space.height}px`,
        });
        const chat = document.createElement('reel-chat');
        Object.assign(chat, { transport: 'memory' });
        chat.setAttribute('room', room);
        for (const [name, value] of Object.entries({
          conversation: 'c1',
          user: 'alice',
          buddy: 'bob',
        }))
          chat.setAttribute(name, value);
        chat.style.setProperty('--reel-chat-height', '100%');
        chat.style.blockSize = '100%';
        box.append(chat);
        await chat.updateComplete;
        await ready(chat);
        expect(getComputedStyle($(chat, '[part~="base"]')!).direction).to.equal(
          lang === 'ar' ? 'rtl' : 'ltr',
        );

        ($(chat, '[part~="record-button"]') as HTMLButtonElement).click();
        await waitUntil(() => $(chat, 'reel-recorder')?.getAttribute('state') === 'previewing');
        const recorder = $(chat, 'reel-recorder')!;
        expectInside(chat, 'the panel’s close button', $(chat, '[part~="close-button"]'));
        expectInside(chat, 'the picture', inner(recorder, '[part~="stage"]'));
        expectInside(chat, 'Record', inner(recorder, '[part~="record-button"]'));
        inner(recorder, '[part~="record-button"]')!.click();
        await waitUntil(() => recorder.getAttribute('state') === 'recording');
        expectInside(chat, 'the timer', inner(recorder, '[part~="timer"]'));
        expectInside(chat, 'Stop', inner(recorder, '[part~="stop-button"]'));
        expectInside(chat, 'the panel’s close button', $(chat, '[part~="close-button"]'));
        await expect(chat).to.be.accessible();
        ($(chat, '[part~="close-button"]') as HTMLButtonElement).click();
        await waitUntil(() => !$(chat, 'reel-recorder'), 'the recorder stayed');

        await waitUntil(() => $(chat, '[part~="play-all"]'), 'no Play all');
        ($(chat, '[part~="play-all"]') as HTMLButtonElement).click();
        await waitUntil(() => inner($(chat, '[part~="reel"]'), '[part~="base"]'));
        const reel = $(chat, '[part~="reel"]')!;
        expectInside(chat, 'the reel', inner(reel, '[part~="base"]'));
        expectInside(chat, 'the reel’s close button', $(chat, '[part~="close-button"]'));
        // The reel takes the panel's height below its title bar.
        const sheet = $(chat, '[part~="reel-sheet"]')!.getBoundingClientRect();
        const header = $(chat, '[part~="sheet-header"]')!.getBoundingClientRect();
        const picture = inner(reel, '[part~="base"]')!.getBoundingClientRect();
        expect(picture.height).to.be.closeTo(sheet.height - header.height, 1);
        await waitUntil(() => inner(reel, '[part~="controls"]'), 'no controls on the reel');
        expectInside(chat, 'the reel’s controls', inner(reel, '[part~="controls"]'));
        await expect(chat).to.be.accessible();
      });
});
