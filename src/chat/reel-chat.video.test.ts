// <reel-chat> with the memory transport: video messages, the reel, the recorder, what is
// missing, accessibility and a narrow column.
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { waitUntil } from '../test-helpers/wait.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import { ReelError } from '../transport/errors.js';
import './index.js';
import type { ReelChat } from './reel-chat.js';
import {
  CONVERSATION,
  newRoom,
  resetRooms,
  $,
  $$,
  texts,
  list,
  ready,
  mount,
  pair,
  type,
  sendText,
  sendVideo,
} from './reel-chat.fixtures.js';

afterEach(resetRooms);

describe('<reel-chat> with videos', () => {
  it('shows a video message processing, then ready in a <reel-player>', async () => {
    const { alice, room } = await pair();
    const { video } = await sendVideo(room, 'bob', 600);
    await waitUntil(
      () => $(alice, '[part~="video-state"]')?.textContent?.includes('Processing'),
      'no processing state',
    );
    await waitUntil(() => $(alice, '[part~="play-button"]'), 'no play button once ready', {
      timeout: 5000,
    });
    expect($(alice, '[part~="play-button"]')!.getAttribute('aria-label')).to.equal(
      'Play video message, 2 seconds',
    );
    // The player (and its media) only comes when asked for.
    expect($(alice, 'reel-player')).to.equal(null);
    $(alice, '[part~="play-button"]')!.click();
    await waitUntil(() => $(alice, '[part~="video"] reel-player'), 'no player');
    const player = $(alice, '[part~="video"] reel-player') as HTMLElement & { clips: unknown };
    const stored = await new MemoryTransport({ room, user: 'alice' }).getVideo(
      CONVERSATION,
      video.id,
    );
    expect(player.clips).to.deep.equal([
      {
        id: video.id,
        src: stored.playlist,
        type: 'file',
        poster: undefined,
        owner: 'bob',
        ownerName: 'bob',
        duration: 2,
      },
    ]);
    expect($(alice, '[part~="duration"]')!.textContent).to.equal('0:02');
  });

  it('offers “Play all” only once the buddy has shared a clip', async () => {
    const { alice, bob, room } = await pair();
    await sendText(bob, 'no clips yet');
    await waitUntil(() => texts(alice).includes('no clips yet'));
    expect($(alice, '[part~="play-all"]')).to.equal(null);
    await sendVideo(room, 'bob');
    await waitUntil(() => $(alice, '[part~="play-all"]'), 'no Play all once Bob shared a clip');
  });

  it('plays all of the buddy’s clips from the first unwatched, with a badge of new clips', async () => {
    const { alice, room } = await pair();
    const first = await sendVideo(room, 'bob');
    await waitUntil(
      () => $(alice, '[part~="badge"]')?.textContent === '1 new',
      'no badge for the first clip',
    );
    const second = await sendVideo(room, 'bob');
    await waitUntil(
      () => $(alice, '[part~="badge"]')?.textContent === '2 new',
      'the badge did not count live',
    );

    const button = $(alice, '[part~="play-all"]') as HTMLButtonElement;
    expect(button.textContent).to.contain("Play all of bob's clips");
    button.click();
    await waitUntil(() => $(alice, '[part~="reel"]'));
    const reel = $(alice, '[part~="reel"]') as HTMLElement & {
      clips: { id: string; watched?: boolean }[];
    };
    expect(reel.clips.map((clip) => clip.id)).to.deep.equal([first.video.id, second.video.id]);
    expect(reel.clips.map((clip) => clip.watched)).to.deep.equal([false, false]);
    expect(alice.shadowRoot!.activeElement).to.equal($(alice, '[part~="close-button"]'));
    expect($(alice, '.main')!.inert).to.equal(true);

    reel.dispatchEvent(
      new CustomEvent('reel-clip-watched', {
        detail: { index: 0, clip: reel.clips[0] },
        bubbles: true,
        composed: true,
      }),
    );
    await waitUntil(() => $(alice, '[part~="badge"]')?.textContent === '1 new');

    ($(alice, '[part~="close-button"]') as HTMLButtonElement).focus();
    await sendKeys({ press: 'Escape' });
    await waitUntil(() => !$(alice, '[part~="reel"]'), 'Escape did not close the reel');
    await alice.updateComplete;
    expect(alice.shadowRoot!.activeElement).to.equal(button);

    button.click();
    await waitUntil(() => $(alice, '[part~="reel"]'));
    const again = $(alice, '[part~="reel"]') as HTMLElement & {
      clips: { watched?: boolean; createdAt?: string }[];
      position: { index: number };
    };
    expect(again.clips.map((clip) => clip.watched)).to.deep.equal([true, false]);
    // Each clip says when it was recorded: the reel shows who and how long ago over it.
    expect(again.clips.every((clip) => !Number.isNaN(Date.parse(clip.createdAt!)))).to.equal(true);
    // The player starts at the first clip not watched yet.
    await waitUntil(() => again.position.index === 1, 'the reel did not start at the new clip');
    ($(alice, '[part~="close-button"]') as HTMLButtonElement).click();
  });

  it('opens <reel-recorder> with its transport and conversation from the record button', async () => {
    const { alice } = await pair();
    const button = $(alice, '[part~="record-button"]') as HTMLButtonElement;
    expect(button.getAttribute('aria-label')).to.equal('Record a video message');
    button.click();
    await waitUntil(() => $(alice, 'reel-recorder'));
    const recorder = $(alice, 'reel-recorder') as HTMLElement & {
      transport: unknown;
      conversation: string;
    };
    expect(recorder.transport).to.equal(alice.activeTransport);
    expect(recorder.conversation).to.equal(CONVERSATION);
    expect($(alice, '[part~="sheet"]')!.getAttribute('role')).to.equal('dialog');
    // The sheet's styles came with its code (a stylesheet added to the shadow root).
    expect(getComputedStyle($(alice, '[part~="sheet"]')!).position).to.equal('absolute');

    // Progress from the recorder shows in the list. Closing the panel mid-upload hides it
    // but keeps the recorder (and its upload) going.
    const fire = (name: string, detail: unknown) =>
      recorder.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
    fire('reel-upload-progress', { sent: 50, total: 200 });
    await waitUntil(() => $(alice, '[data-id="upload"]')?.textContent?.includes('Sending… 25%'));
    ($(alice, '[part~="close-button"]') as HTMLButtonElement).click();
    await alice.updateComplete;
    expect($(alice, '[part~="sheet"]')!.hidden).to.equal(true);
    expect(getComputedStyle($(alice, '[part~="sheet"]')!).display).to.equal('none');
    expect($(alice, 'reel-recorder')).to.equal(recorder);
    expect($(alice, '.main')!.inert).to.equal(false);

    // The recorder sends the message, then reports completion and the message.
    const heard: string[] = [];
    alice.addEventListener('reel-message', (event) => heard.push(event.detail.message.id));
    const { video, message } = await sendVideo(alice.room!, 'alice', 400);
    fire('reel-upload-complete', video);
    fire('reel-message', { message });
    await waitUntil(() => !$(alice, 'reel-recorder'), 'the recorder did not go');
    await waitUntil(() => !$(alice, '[data-id="upload"]'), 'the upload placeholder stayed');
    expect($(alice, `[data-id="${message.id}"]`)).to.not.equal(null);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Once, from the recorder: the chat does not announce it again when its event arrives.
    expect(heard).to.deep.equal([message.id]);
    expect(alice.shadowRoot!.activeElement).to.equal(button);
  });

  it('gives its shape to the recorder, and none when it has none', async () => {
    const { alice } = await pair();
    alice.setAttribute('shape', 'square');
    ($(alice, '[part~="record-button"]') as HTMLButtonElement).click();
    await waitUntil(() => $(alice, 'reel-recorder'));
    const recorder = $(alice, 'reel-recorder')!;
    expect(recorder.getAttribute('shape')).to.equal('square');
    alice.shape = 'landscape';
    await alice.updateComplete;
    expect(recorder.getAttribute('shape')).to.equal('landscape');
    alice.removeAttribute('shape');
    await alice.updateComplete;
    expect(recorder.hasAttribute('shape')).to.equal(false);
  });

  it('closes the recorder when the person cancels it', async () => {
    const { alice } = await pair();
    ($(alice, '[part~="record-button"]') as HTMLButtonElement).click();
    await waitUntil(() => $(alice, 'reel-recorder'));
    $(alice, 'reel-recorder')!.dispatchEvent(
      new CustomEvent('reel-record-cancel', { detail: {}, bubbles: true, composed: true }),
    );
    await waitUntil(() => !$(alice, 'reel-recorder'));
    await alice.updateComplete;
    expect(alice.shadowRoot!.activeElement).to.equal($(alice, '[part~="record-button"]'));
  });

  it('says what is missing instead of showing a blank box', async () => {
    const errors: ReelError[] = [];
    const el = await fixture<ReelChat>(
      html`<reel-chat
        transport="memory"
        room=${newRoom()}
        @reel-error=${(event: CustomEvent<{ error: ReelError }>) => errors.push(event.detail.error)}
      ></reel-chat>`,
    );
    await el.updateComplete;
    expect($(el, '[part~="error"]')!.textContent).to.contain('conversation attribute');
    expect(errors[0]?.code).to.equal('bad-request');

    el.setAttribute('conversation', 'not valid!');
    await el.updateComplete;
    expect($(el, '[part~="error"]')!.textContent).to.contain('"not valid!" is not valid');

    el.setAttribute('conversation', CONVERSATION);
    await ready(el);
    expect($(el, '[part~="error"]')).to.equal(null);

    el.setAttribute('transport', 'nope');
    await waitUntil(() => $(el, '[part~="error"]'));
    expect($(el, '[part~="error"]')!.textContent).to.contain('No transport named "nope"');
    expect(errors.at(-1)?.code).to.equal('bad-request');
  });

  it('is accessible, with messages, a video and the reel open', async () => {
    const { alice, bob, room } = await pair();
    await sendText(bob, 'hello https://example.com');
    await sendVideo(room, 'bob');
    await waitUntil(() => texts(alice).length === 1 && $(alice, '[part~="badge"]'));
    await expect(alice).to.be.accessible();
    ($(alice, '[part~="play-all"]') as HTMLButtonElement).click();
    await waitUntil(() => $(alice, '[part~="reel"]'));
    await expect(alice).to.be.accessible();
  });

  it('fits a 320 px column without horizontal overflow', async () => {
    const room = newRoom();
    const alice = await mount({ user: 'alice', room, width: 320 });
    const bob = await mount({ user: 'bob', room, width: 320 });
    await sendText(
      bob,
      `a long one: https://example.com/${'very-long-path-segment/'.repeat(8)} and ${'x'.repeat(80)}`,
    );
    await sendVideo(room, 'bob');
    await waitUntil(() => $(alice, '[part~="play-button"]') && texts(alice).length === 1);
    $(alice, '[part~="play-button"]')!.click();
    await waitUntil(() => $(alice, '[part~="video"] reel-player'));
    await type(alice, 'w'.repeat(3990));
    expect($(alice, '[part~="counter"]')!.textContent).to.contain('10 characters left');
    const host = alice.getBoundingClientRect();
    expect(host.width).to.equal(320);
    const base = $(alice, '[part~="base"]')!;
    expect(base.scrollWidth).to.be.at.most(base.clientWidth);
    expect(list(alice).scrollWidth).to.be.at.most(list(alice).clientWidth);
    for (const node of $$(alice, '[part]')) {
      const rect = node.getBoundingClientRect();
      if (rect.width === 0) continue;
      expect(rect.right, node.getAttribute('part')!).to.be.at.most(host.right + 0.5);
      expect(rect.left, node.getAttribute('part')!).to.be.at.least(host.left - 0.5);
    }
  });
});
