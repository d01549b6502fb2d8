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
import {
  CONVERSATION,
  mount,
  newRoom,
  pair,
  resetRooms,
  $,
  sample,
  WrappedTransport,
} from './reel-chat.fixtures.js';

afterEach(resetRooms);

interface RoomView {
  videos: Map<string, Video>;
  publishVideo(video: Video): void;
}

/** Bob's take, made live and then posted (as at Record: the server makes it live at once). */
async function bobGoesLive(room: string) {
  // Never converted by the room: the test says when the take is live and when it ends.
  const transport = new MemoryTransport({ room, user: 'bob', processingDelay: 600_000 });
  const clientId = nanoid();
  const uploaded = await transport.upload(CONVERSATION, await sample(), {
    clientId,
    type: 'video/mp4',
  });
  const shared = (transport as unknown as { room: RoomView }).room;
  const video = shared.videos.get(uploaded.id)!;
  const playlist = `/__reelchat/live/chat-${uploaded.id}/clip1/index.m3u8?every=1000`;
  const update = (change: Partial<Video>) => {
    Object.assign(video, change);
    shared.publishVideo(video);
  };
  update({ state: 'live', playlist, mediaType: 'hls', bytes: undefined });
  const message = await transport.sendMessage(CONVERSATION, { clientId, video: uploaded.id });
  return {
    message,
    video,
    end: () => update({ state: 'ready', duration: 4, readyAt: new Date().toISOString() }),
  };
}

const box = (el: ReelChat, id: string) => $(el, `[data-video="${id}"]`)!;
const announced = (el: ReelChat) => $(el, '[aria-live="polite"].sr-only')?.textContent ?? '';

/** A transport whose video reads take a network's time (the chat fetches a video after its message). */
class SlowVideoReads extends WrappedTransport {
  override async getVideo(...args: Parameters<WrappedTransport['getVideo']>) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return super.getVideo(...args);
  }
}

/** Every text the polite live region of `el` takes from now on, in order. */
function announcements(el: ReelChat): string[] {
  const said: string[] = [];
  const region = $(el, '[aria-live="polite"].sr-only')!;
  new MutationObserver(() => {
    const text = region.textContent ?? '';
    if (text && text !== said.at(-1)) said.push(text);
  }).observe(region, { characterData: true, childList: true, subtree: true });
  return said;
}

describe('<reel-chat> with a take shared live', function () {
  this.timeout(30_000);

  it('shows the buddy recording with a Live badge, watches it in place, then keeps playing when it ends', async () => {
    const room = newRoom();
    const aliceTransport = new SlowVideoReads(new MemoryTransport({ room, user: 'alice' }));
    const alice = await mount({ user: 'alice', room, transport: aliceTransport });
    const bob = await mount({ user: 'bob', room });
    const said = announcements(alice);
    const take = await bobGoesLive(room);
    const id = take.video.id;
    await waitUntil(() => $(alice, `[data-video="${id}"] [part~="live-badge"]`), 'no Live badge', {
      timeout: 1000,
    });
    const state = box(alice, id).querySelector('[part~="video-state"]')!;
    expect(state.textContent).to.equal('bob is recording…');
    expect(box(alice, id).querySelector('[part~="live-badge"]')!.textContent).to.equal('Live');
    await waitUntil(() => announced(alice) === 'bob is recording a video message');
    // Said once: not "sent a video message" first, then "recording".
    expect(said).to.deep.equal(['bob is recording a video message']);
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

    // The take ends: the same player goes on (its clip list unchanged) to the end.
    const clips = player.clips;
    const ended = new Promise((resolve) => player.addEventListener('reel-ended', resolve));
    take.end();
    await waitUntil(() => !$(bob, `[data-video="${id}"] [part~="live-badge"]`), 'still live');
    expect(box(alice, id).querySelector('reel-player')).to.equal(player);
    expect(player.clips).to.equal(clips);
    await ended;
    expect(said).to.deep.equal(['bob is recording a video message']);
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
