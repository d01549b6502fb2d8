import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { nanoid } from 'nanoid';
import { MemoryTransport } from '../transport/memory-transport.js';
import { ReelError } from '../transport/errors.js';
import type { Message, MessageDraft, ReelEvent, ReelTransport } from '../transport/types.js';
import { linkify } from './linkify.js';
import './index.js';
import type { ReelChat } from './reel-chat.js';

const CONVERSATION = 'c1';
const rooms: string[] = [];

function newRoom(): string {
  const room = `chat-${nanoid(8)}`;
  rooms.push(room);
  return room;
}

afterEach(() => {
  for (const room of rooms.splice(0)) MemoryTransport.resetRoom(room);
});

function $(el: ReelChat, selector: string): HTMLElement | null {
  return el.shadowRoot!.querySelector<HTMLElement>(selector);
}

function $$(el: ReelChat, selector: string): HTMLElement[] {
  return [...el.shadowRoot!.querySelectorAll<HTMLElement>(selector)];
}

function texts(el: ReelChat): string[] {
  return $$(el, '[part~="text"]').map((node) => node.textContent ?? '');
}

function list(el: ReelChat): HTMLElement {
  return $(el, '[part~="list"]')!;
}

function input(el: ReelChat): HTMLTextAreaElement {
  return $(el, '[part~="input"]') as HTMLTextAreaElement;
}

async function ready(el: ReelChat): Promise<ReelChat> {
  await waitUntil(
    () =>
      !($(el, '[part~="record-button"]') as HTMLButtonElement | null)?.disabled &&
      list(el).getAttribute('aria-busy') === 'false' &&
      el.getAttribute('connection') === 'online',
    'the chat did not become ready',
  );
  return el;
}

interface MountOptions {
  user: string;
  buddy?: string;
  room: string;
  transport?: ReelTransport;
  pageSize?: number;
  width?: number;
}

async function mount(options: MountOptions): Promise<ReelChat> {
  const el = await fixture<ReelChat>(html`
    <reel-chat
      .transport=${options.transport ?? 'memory'}
      room=${options.room}
      conversation=${CONVERSATION}
      user=${options.user}
      user-name=${options.user[0].toUpperCase() + options.user.slice(1)}
      buddy=${options.buddy ?? (options.user === 'alice' ? 'bob' : 'alice')}
      page-size=${options.pageSize ?? 30}
      style="height: 420px; width: ${options.width ?? 380}px"
    ></reel-chat>
  `);
  return ready(el);
}

/** Alice and Bob in one room and conversation, side by side. */
async function pair(room = newRoom()): Promise<{ alice: ReelChat; bob: ReelChat; room: string }> {
  const alice = await mount({ user: 'alice', room });
  const bob = await mount({ user: 'bob', room });
  return { alice, bob, room };
}

async function type(el: ReelChat, text: string): Promise<void> {
  const field = input(el);
  field.focus();
  field.value = text;
  field.dispatchEvent(new Event('input', { bubbles: true }));
  await el.updateComplete;
}

async function sendText(el: ReelChat, text: string): Promise<void> {
  await type(el, text);
  ($(el, '[part~="send-button"]') as HTMLButtonElement).click();
}

/** A transport that forwards to `inner`, with a hook in front of sendMessage and subscribe. */
class WrappedTransport implements ReelTransport {
  beforeSend?: (draft: MessageDraft, call: number) => Promise<void> | void;
  dropMessageEvents = false;
  sends = 0;
  constructor(readonly inner: MemoryTransport) {}
  connect() {
    return this.inner.connect();
  }
  listMessages(...args: Parameters<ReelTransport['listMessages']>) {
    return this.inner.listMessages(...args);
  }
  async sendMessage(conversation: string, draft: MessageDraft): Promise<Message> {
    this.sends++;
    await this.beforeSend?.(draft, this.sends);
    return this.inner.sendMessage(conversation, draft);
  }
  upload(...args: Parameters<ReelTransport['upload']>) {
    return this.inner.upload(...args);
  }
  getVideo(...args: Parameters<ReelTransport['getVideo']>) {
    return this.inner.getVideo(...args);
  }
  listVideos(...args: Parameters<ReelTransport['listVideos']>) {
    return this.inner.listVideos(...args);
  }
  subscribe(conversation: string, onEvent: (event: ReelEvent) => void) {
    return this.inner.subscribe(conversation, (event) => {
      // A lossy connection: the events sent while offline never arrive.
      if (event.type === 'connection') this.dropMessageEvents = event.state === 'offline';
      else if (this.dropMessageEvents) return;
      onEvent(event);
    });
  }
  close() {
    return this.inner.close();
  }
}

async function seed(room: string, user: string, count: number): Promise<Message[]> {
  const transport = new MemoryTransport({ room, user });
  const sent: Message[] = [];
  for (let i = 0; i < count; i++) {
    sent.push(
      await transport.sendMessage(CONVERSATION, { clientId: nanoid(), text: `message ${i}` }),
    );
  }
  await transport.close();
  return sent;
}

let sampleBlob: Blob | undefined;
async function sample(): Promise<Blob> {
  sampleBlob ??= await (await fetch('/test-fixtures/video/sample.mp4')).blob();
  return sampleBlob;
}

async function sendVideo(room: string, user: string, processingDelay = 50) {
  const transport = new MemoryTransport({ room, user, processingDelay });
  const clientId = nanoid();
  const video = await transport.upload(CONVERSATION, await sample(), {
    clientId,
    type: 'video/mp4',
    duration: 2,
  });
  const message = await transport.sendMessage(CONVERSATION, { clientId, video: video.id });
  // Closing would stop nothing here (the room keeps the video); leave it to the page.
  return { video, message };
}

describe('linkify', () => {
  it('links http(s) URLs only, leaving trailing punctuation out', () => {
    expect(linkify('see https://example.com/a?b=1. and (http://x.org/p) ok')).to.deep.equal([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { kind: 'text', text: '. and (' },
      { kind: 'link', text: 'http://x.org/p', href: 'http://x.org/p' },
      { kind: 'text', text: ') ok' },
    ]);
    expect(linkify('javascript:alert(1) data:text/html,x')).to.deep.equal([
      { kind: 'text', text: 'javascript:alert(1) data:text/html,x' },
    ]);
    expect(linkify('www.example.org')[0]).to.deep.equal({
      kind: 'link',
      text: 'www.example.org',
      href: 'https://www.example.org/',
    });
  });
});

describe('<reel-chat>', () => {
  it('delivers a text from one dialog to the other live, exactly once', async () => {
    const { alice, bob } = await pair();
    await sendText(alice, 'Hi Bob!');
    await waitUntil(() => texts(bob).includes('Hi Bob!'), 'bob did not get the message');
    await waitUntil(() => !$(alice, '[part~="status"]'), 'alice’s message stayed pending');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts(bob)).to.deep.equal(['Hi Bob!']);
    expect(texts(alice)).to.deep.equal(['Hi Bob!']);
    expect($(bob, '[part~="message-other"] [part~="author"]')!.textContent).to.equal('Alice');
    expect($(alice, '[part~="message-own"]')).to.not.equal(null);
    // The polite live region announces what arrived for Bob.
    expect($(bob, '[aria-live="polite"]')!.textContent).to.contain('Alice: Hi Bob!');
    expect(input(alice).value).to.equal('');
  });

  it('sends on Enter and makes a new line on Shift+Enter', async () => {
    const { alice, bob } = await pair();
    input(alice).focus();
    await sendKeys({ type: 'line one' });
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Enter' });
    await sendKeys({ up: 'Shift' });
    await sendKeys({ type: 'line two' });
    expect(input(alice).value).to.equal('line one\nline two');
    expect(texts(alice)).to.deep.equal([]);
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => texts(bob).length === 1);
    expect(texts(bob)[0]).to.equal('line one\nline two');
    expect(input(alice).value).to.equal('');
  });

  it('loads the newest page at the bottom, then older pages from the button and on scrolling up, keeping the position', async () => {
    const room = newRoom();
    await seed(room, 'bob', 45);
    const alice = await mount({ user: 'alice', room, pageSize: 20 });
    const box = list(alice);
    expect(texts(alice)).to.have.length(20);
    expect(texts(alice)[0]).to.equal('message 25');
    expect(texts(alice).at(-1)).to.equal('message 44');
    expect(box.scrollHeight - box.scrollTop - box.clientHeight).to.be.lessThan(2);

    const anchor = () =>
      $$(alice, '[part~="message"]').find((m) => m.textContent!.includes('message 25'))!;
    const offset = () => anchor().getBoundingClientRect().top - box.getBoundingClientRect().top;
    const before = offset();
    ($(alice, '[part~="load-older"]') as HTMLButtonElement).click();
    await waitUntil(() => texts(alice).length === 40, 'older page did not load');
    await alice.updateComplete;
    expect(texts(alice)[0]).to.equal('message 5');
    expect(Math.abs(offset() - before)).to.be.lessThan(2);

    box.scrollTop = 0;
    await waitUntil(() => texts(alice).length === 45, 'scrolling up did not load the rest');
    expect(texts(alice)[0]).to.equal('message 0');
    expect(box.scrollTop).to.be.greaterThan(0);
    await waitUntil(() => !$(alice, '[part~="load-older"]'));
    expect($(alice, '[part~="history"]')!.textContent).to.contain('beginning');
  });

  it('does not jump while the person reads older messages: it shows a "new messages" pill', async () => {
    const room = newRoom();
    await seed(room, 'bob', 25);
    const { alice, bob } = await pair(room);
    const box = list(alice);
    box.scrollTop = 10;
    await waitUntil(() => box.scrollTop === 10);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sendText(bob, 'are you there?');
    await waitUntil(() => $(alice, '[part~="new-messages"]'), 'no pill');
    expect(box.scrollTop).to.equal(10);
    expect($(alice, '[part~="new-messages"]')!.textContent).to.contain('1 new message');
    $(alice, '[part~="new-messages"]')!.click();
    await alice.updateComplete;
    expect(box.scrollHeight - box.scrollTop - box.clientHeight).to.be.lessThan(2);
    expect($(alice, '[part~="new-messages"]')).to.equal(null);
  });

  it('shows an offline banner and catches up on reconnect with every missed message exactly once', async () => {
    const room = newRoom();
    const lossy = new WrappedTransport(new MemoryTransport({ room, user: 'alice' }));
    const alice = await mount({ user: 'alice', room, transport: lossy });
    const bob = await mount({ user: 'bob', room });
    await sendText(bob, 'before');
    await waitUntil(() => texts(alice).includes('before'));

    MemoryTransport.setOnline(room, false);
    await waitUntil(() => $(alice, '[part~="offline"]')!.textContent!.trim() !== '', 'no banner');
    expect($(alice, '[part~="offline"]')!.getAttribute('role')).to.equal('status');
    await waitUntil(() => $(bob, '[part~="offline"]')!.textContent!.trim() !== '');
    for (const text of ['one', 'two', 'three']) await sendText(bob, text);
    await waitUntil(() => texts(bob).length === 4);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(texts(alice)).to.deep.equal(['before']);

    MemoryTransport.setOnline(room, true);
    await waitUntil(() => texts(alice).length === 4, 'alice did not catch up');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts(alice)).to.deep.equal(['before', 'one', 'two', 'three']);
    expect($(alice, '[part~="offline"]')!.textContent!.trim()).to.equal('');
    // Bob got his own held events back as well as the replies: still each once.
    expect(texts(bob)).to.deep.equal(['before', 'one', 'two', 'three']);
  });

  it('shows a message as pending, then sent', async () => {
    const room = newRoom();
    let release!: () => void;
    const slow = new WrappedTransport(new MemoryTransport({ room, user: 'alice' }));
    slow.beforeSend = () => new Promise<void>((resolve) => (release = resolve));
    const alice = await mount({ user: 'alice', room, transport: slow });
    await sendText(alice, 'wait for it');
    await waitUntil(() => $(alice, '[part~="status"]'));
    expect($(alice, '[part~="status"]')!.textContent).to.equal('Sending…');
    expect(texts(alice)).to.deep.equal(['wait for it']);
    release();
    await waitUntil(() => !$(alice, '[part~="status"]'), 'still pending');
    expect(texts(alice)).to.deep.equal(['wait for it']);
  });

  it('marks a failed send and retries it with the same clientId, never doubling it', async () => {
    const room = newRoom();
    const flaky = new WrappedTransport(new MemoryTransport({ room, user: 'alice' }));
    const clientIds: string[] = [];
    flaky.beforeSend = (draft, call) => {
      clientIds.push(draft.clientId);
      if (call === 1) throw new ReelError('network', 'The network is down.');
    };
    const alice = await mount({ user: 'alice', room, transport: flaky });
    const bob = await mount({ user: 'bob', room });
    const errors: ReelError[] = [];
    alice.addEventListener('reel-error', (event) => errors.push(event.detail.error));
    await sendText(alice, 'second time lucky');
    await waitUntil(() => $(alice, '[part~="retry"]'), 'no retry button');
    expect($(alice, '[part~="status"]')!.textContent).to.equal('Not sent');
    expect(errors.map((error) => error.code)).to.deep.equal(['network']);
    $(alice, '[part~="retry"]')!.click();
    await waitUntil(() => texts(bob).length === 1);
    await waitUntil(() => !$(alice, '[part~="status"]'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(clientIds).to.have.length(2);
    expect(clientIds[0]).to.equal(clientIds[1]);
    expect(texts(alice)).to.deep.equal(['second time lucky']);
    expect(texts(bob)).to.deep.equal(['second time lucky']);
  });

  it('replaces a send whose answer was lost with the stored message, once', async () => {
    const room = newRoom();
    const inner = new MemoryTransport({ room, user: 'alice' });
    const lost = new WrappedTransport(inner);
    lost.sendMessage = async (conversation, draft) => {
      await inner.sendMessage(conversation, draft);
      throw new ReelError('network', 'The answer got lost.');
    };
    const alice = await mount({ user: 'alice', room, transport: lost });
    await sendText(alice, 'did it arrive?');
    await waitUntil(() => !$(alice, '[part~="status"]') && texts(alice).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts(alice)).to.deep.equal(['did it arrive?']);
  });

  it('lets the host veto or edit a send through reel-request-send', async () => {
    const { alice, bob } = await pair();
    const veto = (event: Event) => event.preventDefault();
    alice.addEventListener('reel-request-send', veto);
    await sendText(alice, 'secret');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts(alice)).to.deep.equal([]);
    expect(input(alice).value).to.equal('secret');
    alice.removeEventListener('reel-request-send', veto);

    alice.addEventListener(
      'reel-request-send',
      (event) => {
        expect(event.cancelable).to.equal(true);
        expect(event.detail.conversation).to.equal(CONVERSATION);
        expect(event.detail.draft.clientId).to.match(/^[A-Za-z0-9_-]{21}$/);
        event.detail.draft.text = `${event.detail.draft.text} [edited]`;
      },
      { once: true },
    );
    $(alice, '[part~="send-button"]')!.click();
    await waitUntil(() => texts(bob).length === 1);
    expect(texts(bob)).to.deep.equal(['secret [edited]']);
  });

  it('shows markup as text and makes only http(s) links clickable', async () => {
    const { alice, bob } = await pair();
    await sendText(alice, '<img src=x onerror=alert(1)>');
    await waitUntil(() => texts(bob).length === 1);
    expect(texts(bob)[0]).to.equal('<img src=x onerror=alert(1)>');
    expect(bob.shadowRoot!.querySelector('img')).to.equal(null);

    await sendText(alice, 'docs at https://example.com/a?b=1. and javascript:alert(1)');
    await waitUntil(() => texts(bob).length === 2);
    const links = $$(bob, '[part~="text"] a');
    expect(links).to.have.length(1);
    expect(links[0].getAttribute('href')).to.equal('https://example.com/a?b=1');
    expect(links[0].getAttribute('target')).to.equal('_blank');
    expect(links[0].getAttribute('rel')).to.equal('noopener noreferrer');
    expect(texts(bob)[1]).to.equal('docs at https://example.com/a?b=1. and javascript:alert(1)');
  });

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
      clips: { watched?: boolean }[];
      position: { index: number };
    };
    expect(again.clips.map((clip) => clip.watched)).to.deep.equal([true, false]);
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
    await waitUntil(() => $(alice, '[data-id="upload"]')?.textContent?.includes('Uploading 25 %'));
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
