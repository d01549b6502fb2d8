// <reel-player>'s first paint (issue 13: a poster and a play button render before the rest):
// the play button is there at the first render, named and reachable by keyboard; the
// progress and the row of buttons come with the playback, over the picture, moving nothing.
import { expect, fixture, html } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import type { Clip } from '../internal/events.js';
import './index.js';

const clips: Clip[] = [1, 2].map((n) => ({
  id: `clip${n}`,
  src: `/test-fixtures/hls/clip${n}/index.m3u8`,
}));

describe('<reel-player> first paint', () => {
  it('shows the play button at once; the controls follow without moving anything', async () => {
    const holder = await fixture<HTMLDivElement>(html`<div style="width: 320px"></div>`);
    const el = document.createElement('reel-player');
    el.muted = true;
    el.clips = clips;
    holder.append(el);
    await el.updateComplete;
    const root = el.shadowRoot!;
    const play = root.querySelector<HTMLButtonElement>('[part~="overlay-button"]')!;
    expect(play.getAttribute('aria-label')).to.equal('Play');
    expect(play.tabIndex).to.equal(0);
    const base = root.querySelector('[part="base"]')!;
    const before = { base: base.getBoundingClientRect(), play: play.getBoundingClientRect() };
    expect(before.play.width).to.be.above(40);

    await waitUntil(() => root.querySelector('[part="controls"]'), 'no controls row', {
      timeout: 10_000,
    });
    await el.updateComplete;
    expect(root.querySelectorAll('[part~="segment"]')).to.have.length(2);
    const controls = root.querySelector('[part="controls"]')!.getBoundingClientRect();
    const after = base.getBoundingClientRect();
    // Nothing moved: the row lies over the picture's bottom edge.
    expect(after.height).to.equal(before.base.height);
    expect(play.getBoundingClientRect().top).to.equal(before.play.top);
    expect(Math.round(controls.bottom)).to.equal(Math.round(after.bottom));
    await expect(el).to.be.accessible();
  });
});
