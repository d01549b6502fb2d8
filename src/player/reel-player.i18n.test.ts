import { expect, fixture, html } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import { emulateMedia } from '@web/test-runner-commands';
import type { Clip } from '../internal/events.js';
import './index.js';
import type { ReelPlayer } from './reel-player.js';

// <reel-player> in other languages and right to left (issue 15). Its progress and
// transport buttons stay left to right (they follow time, as media players do everywhere);
// its texts and the rest of its layout follow the language.

const clip = (n: number): Clip => ({
  id: `clip${n}`,
  src: `/test-fixtures/hls/clip${n}/index.m3u8`,
  owner: 'bob',
  ownerName: 'Bob',
});
const part = (el: ReelPlayer, name: string) =>
  el.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`)!;

afterEach(() => emulateMedia({ colorScheme: 'light' }));

async function player(lang: string, width = 320): Promise<ReelPlayer> {
  const holder = await fixture<HTMLDivElement>(
    html`<div lang=${lang} style="width: ${width}px"></div>`,
  );
  const el = document.createElement('reel-player');
  el.muted = true;
  el.clips = [clip(1), clip(2)];
  holder.append(el);
  await el.updateComplete;
  await waitUntil(
    () => el.shadowRoot!.querySelector('[aria-live="polite"]')?.textContent?.trim(),
    'no clip announced',
    { timeout: 10_000 },
  );
  return el;
}

describe('<reel-player> languages', () => {
  it('announces the clip in the language, its length in words', async () => {
    const el = await player('de');
    const live = () => part(el, 'live-region').textContent!.trim();
    await waitUntil(() => live() === 'Clip 1 von 2, gesendet von Bob, 3 Sekunden', 'no German');
    expect(live()).to.equal('Clip 1 von 2, gesendet von Bob, 3 Sekunden');
    expect(part(el, 'next-button').getAttribute('aria-label')).to.equal('Nächster Clip');
  });

  it('is right to left in Arabic, with the media controls left to right', async () => {
    const el = await player('ar');
    await waitUntil(() => part(el, 'next-button').getAttribute('aria-label') === 'المقطع التالي');
    expect(part(el, 'base').getAttribute('dir')).to.equal('rtl');
    expect(getComputedStyle(part(el, 'base')).direction).to.equal('rtl');
    expect(getComputedStyle(part(el, 'controls')).direction).to.equal('ltr');
    expect(getComputedStyle(part(el, 'progress')).direction).to.equal('ltr');
    const back = part(el, 'back-button').getBoundingClientRect();
    const next = part(el, 'next-button').getBoundingClientRect();
    expect(back.left).to.be.below(next.left);
  });

  it('is accessible in dark mode, at 320 px and right to left', async () => {
    await emulateMedia({ colorScheme: 'dark' });
    await expect(await player('en')).to.be.accessible();
    await emulateMedia({ colorScheme: 'light' });
    const rtl = await player('ar', 320);
    await waitUntil(() => part(rtl, 'next-button').getAttribute('aria-label') === 'المقطع التالي');
    await expect(rtl).to.be.accessible();
  });
});
