// <reel-chat>: unsending one's own messages (keyboard, confirm, the backend's refusal),
// "Message deleted" from the other side's event, a clip leaving the buddy's playing reel,
// and "Seen" on one's own clip once the buddy watched it. Memory transport, real media.
import { expect, fixture, html } from '@open-wc/testing';
import { waitUntil } from '../test-helpers/wait.js';
import { sendKeys } from '@web/test-runner-commands';
import { nanoid } from 'nanoid';
import { ReelError } from '../transport/errors.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import type { ReelTransport } from '../transport/types.js';
import './index.js';
import type { ReelChat } from './reel-chat.js';
import { CONVERSATION, newRoom, resetRooms, $, $$ } from './reel-chat.fixtures.js';

afterEach(resetRooms);

const row = (el: ReelChat, id: string) =>
  $$(el, '[data-id]').find((node) => node.dataset.id === id) ?? null;
const inRow = (el: ReelChat, id: string, part: string) =>
  row(el, id)?.querySelector<HTMLElement>(`[part~="${part}"]`) ?? null;
const focused = (el: ReelChat) => el.shadowRoot!.activeElement;

async function mount(
  user: string,
  room: string,
  transport: ReelTransport | string = 'memory',
): Promise<ReelChat> {
  const el = await fixture<ReelChat>(html`
    <reel-chat
      .transport=${transport}
      room=${room}
      conversation=${CONVERSATION}
      user=${user}
      user-name=${user[0].toUpperCase() + user.slice(1)}
      buddy=${user === 'alice' ? 'bob' : 'alice'}
      style="height: 480px; width: 380px"
    ></reel-chat>
  `);
  await waitUntil(
    () =>
      el.getAttribute('connection') === 'online' &&
      $(el, '[part~="list"]')?.getAttribute('aria-busy') === 'false',
    'the chat did not become ready',
  );
  return el;
}

let sampleBlob: Blob | undefined;
async function sendClip(room: string, user: string) {
  sampleBlob ??= await (await fetch('/test-fixtures/video/sample.mp4')).blob();
  const transport = new MemoryTransport({ room, user, processingDelay: 20 });
  const clientId = nanoid();
  const video = await transport.upload(CONVERSATION, sampleBlob, {
    clientId,
    type: 'video/mp4',
    duration: 2,
  });
  const message = await transport.sendMessage(CONVERSATION, { clientId, video: video.id });
  return { video, message };
}

async function sendText(room: string, user: string, text: string) {
  const transport = new MemoryTransport({ room, user });
  return transport.sendMessage(CONVERSATION, { clientId: nanoid(), text });
}

/** The memory transport without the optional methods a backend may lack. */
function withoutUnsend(inner: MemoryTransport): ReelTransport {
  return {
    connect: () => inner.connect(),
    listMessages: (...args) => inner.listMessages(...args),
    sendMessage: (...args) => inner.sendMessage(...args),
    upload: (...args) => inner.upload(...args),
    getVideo: (...args) => inner.getVideo(...args),
    listVideos: (...args) => inner.listVideos(...args),
    subscribe: (...args) => inner.subscribe(...args),
    close: () => inner.close(),
  };
}

describe('<reel-chat> unsend and seen', function () {
  this.timeout(20_000);

  it('unsends a text from the keyboard through a confirm; both sides show "Message deleted"', async () => {
    const room = newRoom();
    const alice = await mount('alice', room);
    const bob = await mount('bob', room);
    const sent = await sendText(room, 'alice', 'take this back');
    await waitUntil(() => inRow(bob, sent.id, 'text'), 'Bob did not get the text');
    await waitUntil(() => inRow(alice, sent.id, 'unsend-button'), 'no unsend on her own message');
    // Only on one's own messages.
    expect(inRow(bob, sent.id, 'unsend-button')).to.equal(null);

    const unsend = inRow(alice, sent.id, 'unsend-button') as HTMLButtonElement;
    expect(unsend.localName).to.equal('button');
    expect(unsend.getAttribute('aria-label')).to.equal('Unsend message');
    expect(unsend.textContent!.trim()).to.equal('Unsend');
    unsend.focus();
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => inRow(alice, sent.id, 'unsend-confirm'), 'no confirm');
    expect(focused(alice)).to.equal(inRow(alice, sent.id, 'unsend-yes'));
    // The confirm's styles came with its code.
    expect(getComputedStyle(inRow(alice, sent.id, 'unsend-confirm')!).flexWrap).to.equal('wrap');
    expect(inRow(alice, sent.id, 'unsend-confirm')!.textContent).to.contain(
      'Unsend this message for everyone?',
    );
    await expect(alice).to.be.accessible();
    // Escape takes it back, focus returns to the button; nothing was unsent.
    await sendKeys({ press: 'Escape' });
    await waitUntil(() => !inRow(alice, sent.id, 'unsend-confirm'), 'Escape did not cancel');
    expect(focused(alice)).to.equal(inRow(alice, sent.id, 'unsend-button'));
    expect(inRow(alice, sent.id, 'text')!.textContent).to.equal('take this back');

    await sendKeys({ press: 'Enter' });
    await waitUntil(() => inRow(alice, sent.id, 'unsend-yes'), 'no confirm again');
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => inRow(alice, sent.id, 'deleted'), 'Alice’s row not deleted');
    expect(inRow(alice, sent.id, 'deleted')!.textContent).to.equal('Message deleted');
    expect(inRow(alice, sent.id, 'text')).to.equal(null);
    expect(inRow(alice, sent.id, 'unsend-button')).to.equal(null);
    // The focus stays in the dialog (on the message list), not lost to the page.
    expect(focused(alice)).to.equal($(alice, '[part~="list"]'));
    // Bob's dialog hears message.deleted: the row keeps its place, without the text.
    await waitUntil(() => inRow(bob, sent.id, 'deleted'), 'Bob’s row not deleted');
    expect(inRow(bob, sent.id, 'text')).to.equal(null);
    await expect(bob).to.be.accessible();
  });

  it('shows the backend’s reason when the unsend is refused, and offers none without deleteMessage', async () => {
    const room = newRoom();
    const refusing = new MemoryTransport({ room, user: 'alice' });
    refusing.deleteMessage = () =>
      Promise.reject(new ReelError('forbidden', 'Only its author can unsend a message.'));
    const alice = await mount('alice', room, refusing);
    const sent = await sendText(room, 'alice', 'stays');
    await waitUntil(() => inRow(alice, sent.id, 'unsend-button'));
    inRow(alice, sent.id, 'unsend-button')!.click();
    await waitUntil(() => inRow(alice, sent.id, 'unsend-yes'));
    inRow(alice, sent.id, 'unsend-yes')!.click();
    await waitUntil(() => inRow(alice, sent.id, 'unsend-error'), 'no refusal shown');
    expect(inRow(alice, sent.id, 'unsend-error')!.textContent).to.equal(
      'Could not unsend: Only its author can unsend a message.',
    );
    expect(inRow(alice, sent.id, 'unsend-error')!.getAttribute('role')).to.equal('alert');
    expect(inRow(alice, sent.id, 'text')!.textContent).to.equal('stays');
    await alice.updateComplete;
    expect(focused(alice)).to.equal(inRow(alice, sent.id, 'unsend-button'));

    const plain = await mount(
      'alice',
      room,
      withoutUnsend(new MemoryTransport({ room, user: 'alice' })),
    );
    await waitUntil(() => row(plain, sent.id));
    expect(inRow(plain, sent.id, 'unsend-button')).to.equal(null);
  });

  it('drops a clip unsent while the buddy’s reel plays it: the reel goes on with the next one', async () => {
    const room = newRoom();
    const bob = await mount('bob', room);
    const first = await sendClip(room, 'alice');
    const second = await sendClip(room, 'alice');
    await waitUntil(() => $(bob, '[part~="badge"]')?.textContent === '2 new', 'no badge of 2');
    ($(bob, '[part~="play-all"]') as HTMLButtonElement).click();
    await waitUntil(() => $(bob, '[part~="reel"]'), 'the reel did not open');
    const reel = $(bob, '[part~="reel"]') as HTMLElement & {
      clips: { id: string }[];
      playlist: readonly { id: string }[];
      position: { index: number; offset: number };
    };
    const video = () => reel.shadowRoot!.querySelector<HTMLVideoElement>('video[data-active]');
    await waitUntil(
      () => reel.position.index === 0 && reel.position.offset > 0.2,
      'the first clip did not play',
      { timeout: 8000 },
    );

    await new MemoryTransport({ room, user: 'alice' }).deleteMessage(
      CONVERSATION,
      first.message.id,
    );
    await waitUntil(() => inRow(bob, first.message.id, 'deleted'), 'no "Message deleted"');
    expect(reel.clips.map((clip) => clip.id)).to.deep.equal([second.video.id]);
    await waitUntil(
      () => reel.playlist[reel.position.index]?.id === second.video.id && !video()?.paused,
      'the reel did not go on with the next clip',
      { timeout: 8000 },
    );
    expect($(bob, '[part~="badge"]')?.textContent).to.equal('1 new');
    expect($(bob, '.main')!.inert).to.equal(true);
  });

  it('says so when every clip of the open reel was unsent, keeping the focus in the panel', async () => {
    const room = newRoom();
    const bob = await mount('bob', room);
    const { message } = await sendClip(room, 'alice');
    await waitUntil(() => $(bob, '[part~="badge"]'), 'no badge');
    ($(bob, '[part~="play-all"]') as HTMLButtonElement).click();
    await waitUntil(() => $(bob, '[part~="reel"]'), 'the reel did not open');
    await new MemoryTransport({ room, user: 'alice' }).deleteMessage(CONVERSATION, message.id);
    await waitUntil(() => !$(bob, '[part~="reel"]'), 'the player stayed');
    expect($(bob, '.no-clips')!.textContent!.trim()).to.equal('No clips left: alice unsent them.');
    await bob.updateComplete;
    expect(focused(bob)).to.equal($(bob, '[part~="close-button"]'));
    expect($(bob, '[part~="badge"]')).to.equal(null);
    await expect(bob).to.be.accessible();
  });

  it('shows "Seen" on one’s own clip once the buddy played it to its end', async () => {
    const room = newRoom();
    const alice = await mount('alice', room);
    const bob = await mount('bob', room);
    const { message, video } = await sendClip(room, 'alice');
    await waitUntil(() => inRow(bob, message.id, 'play-button'), 'no play button at Bob’s', {
      timeout: 5000,
    });
    await waitUntil(() => inRow(alice, message.id, 'video'));
    expect(inRow(alice, message.id, 'seen')).to.equal(null);
    inRow(bob, message.id, 'play-button')!.click();
    await waitUntil(() => inRow(alice, message.id, 'seen'), 'Alice did not see "Seen"', {
      timeout: 10_000,
    });
    expect(inRow(alice, message.id, 'seen')!.textContent).to.equal('Seen');
    // Bob's badge counts it as watched; the backend has it too.
    await waitUntil(() => !$(bob, '[part~="badge"]'), 'Bob’s badge still counts it');
    const listed = await new MemoryTransport({ room, user: 'alice' }).getVideo(
      CONVERSATION,
      video.id,
    );
    expect(listed.watchedBy).to.deep.equal(['bob']);
    await expect(alice).to.be.accessible();
  });
});
