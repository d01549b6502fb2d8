// <reel-chat> with a take shared live (docs/protocol.md, "Live"): the buddy's message says who
// is recording, with a Live badge, and watches it in place; it turns into a normal video
// message when the take ends. Bob's take is a memory-room video made `live` by hand, its
// playlist a fixture clip revealed segment by segment (scripts/live-playlist.mjs).
import { expect } from '@open-wc/testing';
import { nanoid } from 'nanoid';
import { waitUntil } from '../test-helpers/wait.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import type { Video } from '../transport/types.js';
import './index.js';
import type { ReelChat } from './reel-chat.js';
import { CONVERSATION, resetRooms, $, pair, sample } from './reel-chat.fixtures.js';

afterEach(resetRooms);

interface RoomView {
  videos: Map<string, Video>;
  publishVideo(video: Video): void;
}

/** Bob's take, posted before it is converted (as at Record) and then made live. */
async function bobGoesLive(room: string) {
  // Never converted by the room: the test says when the take is live and when it ends.
  const transport = new MemoryTransport({ room, user: 'bob', processingDelay: 600_000 });
  const clientId = nanoid();
  const uploaded = await transport.upload(CONVERSATION, await sample(), {
    clientId,
    type: 'video/mp4',
  });
  const message = await transport.sendMessage(CONVERSATION, { clientId, video: uploaded.id });
  const shared = (transport as unknown as { room: RoomView }).room;
  const video = shared.videos.get(uploaded.id)!;
  const playlist = `/__reelchat/live/chat-${uploaded.id}/clip1/index.m3u8?every=1000`;
  const update = (change: Partial<Video>) => {
    Object.assign(video, change);
    shared.publishVideo(video);
  };
  update({ state: 'live', playlist, mediaType: 'hls', bytes: undefined });
  return {
    message,
    video,
    end: () => update({ state: 'ready', duration: 4, readyAt: new Date().toISOString() }),
  };
}

const box = (el: ReelChat, id: string) => $(el, `[data-video="${id}"]`)!;
const announced = (el: ReelChat) => $(el, '[aria-live="polite"].sr-only')?.textContent ?? '';

describe('<reel-chat> with a take shared live', function () {
  this.timeout(30_000);

  it('shows the buddy recording with a Live badge, watches it in place, then keeps playing when it ends', async () => {
    const { alice, bob, room } = await pair();
    const take = await bobGoesLive(room);
    const id = take.video.id;
    await waitUntil(() => $(alice, `[data-video="${id}"] [part~="live-badge"]`), 'no Live badge', {
      timeout: 1000,
    });
    const state = box(alice, id).querySelector('[part~="video-state"]')!;
    expect(state.textContent).to.equal('bob is recording…');
    expect(box(alice, id).querySelector('[part~="live-badge"]')!.textContent).to.equal('Live');
    await waitUntil(() => announced(alice) === 'bob is recording a video message');
    // Bob's own bubble says it is live, with nothing to play.
    await waitUntil(() => box(bob, id)?.querySelector('[part~="live-badge"]'), 'no own badge');
    expect(box(bob, id).querySelector('[part~="video-state"]')!.textContent).to.equal(
      'Live: your buddy can watch as you record',
    );
    expect(box(bob, id).querySelector('[part~="play-button"]')).to.equal(null);

    const watch = box(alice, id).querySelector<HTMLButtonElement>('[part~="play-button"]')!;
    expect(watch.getAttribute('aria-label')).to.equal('Watch bob live');
    watch.click();
    await waitUntil(() => box(alice, id).querySelector('reel-player'), 'no player');
    const player = box(alice, id).querySelector('reel-player') as HTMLElement & {
      clips: { src: string }[];
      muted: boolean;
    };
    player.muted = true;
    expect(player.clips.map((clip) => clip.src)).to.deep.equal([take.video.playlist]);
    // The player plays it as a live clip (its own Live badge).
    await waitUntil(
      () => player.shadowRoot!.querySelector('[part~="live-badge"]'),
      'the player does not show the clip live',
      { timeout: 10_000 },
    );
    const said = announced(alice);

    // The take ends: the same player goes on (its clip list unchanged) to the end.
    const clips = player.clips;
    const ended = new Promise((resolve) => player.addEventListener('reel-ended', resolve));
    take.end();
    await waitUntil(() => !$(bob, `[data-video="${id}"] [part~="live-badge"]`), 'still live');
    expect(box(alice, id).querySelector('reel-player')).to.equal(player);
    expect(player.clips).to.equal(clips);
    await ended;
    expect(announced(alice)).to.equal(said);
    // Bob's bubble is a normal video message now.
    await waitUntil(() => box(bob, id).querySelector('[part~="play-button"]'), 'no play button');
    expect(
      box(bob, id).querySelector('[part~="play-button"]')!.getAttribute('aria-label'),
    ).to.equal('Play video message, 4 seconds');
  });

  it('passes live to its recorder when the host turns it on', async () => {
    const { alice } = await pair();
    $(alice, '[part~="record-button"]')!.click();
    await waitUntil(() => $(alice, 'reel-recorder'), 'no recorder');
    const recorder = $(alice, 'reel-recorder') as HTMLElement & { live?: boolean };
    expect(recorder.hasAttribute('live')).to.equal(false);
    alice.live = true;
    await alice.updateComplete;
    expect(recorder.hasAttribute('live')).to.equal(true);
    await customElements.whenDefined('reel-recorder');
    expect(recorder.live).to.equal(true);
  });
});
