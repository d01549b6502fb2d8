// What the <reel-chat> element tests share (reel-chat.test.ts, reel-chat.video.test.ts): rooms
// of the memory transport, the element's fixture and its parts, a transport to wrap, and
// messages and videos sent by another person.
import { fixture, html } from '@open-wc/testing';
import { nanoid } from 'nanoid';
import { waitUntil } from '../test-helpers/wait.js';
import { Outbox } from '../outbox/outbox.js';
import { MemoryTransport } from '../transport/memory-transport.js';
import type { Message, MessageDraft, ReelEvent, ReelTransport } from '../transport/types.js';
import type { ReelChat } from './reel-chat.js';

export const CONVERSATION = 'c1';
const rooms: string[] = [];

export function newRoom(): string {
  const room = `chat-${nanoid(8)}`;
  rooms.push(room);
  return room;
}

/** Empties the rooms of `newRoom` (an afterEach of each file). */
export function resetRooms(): void {
  for (const room of rooms.splice(0)) MemoryTransport.resetRoom(room);
}

export function $(el: ReelChat, selector: string): HTMLElement | null {
  return el.shadowRoot!.querySelector<HTMLElement>(selector);
}

export function $$(el: ReelChat, selector: string): HTMLElement[] {
  return [...el.shadowRoot!.querySelectorAll<HTMLElement>(selector)];
}

export function texts(el: ReelChat): string[] {
  return $$(el, '[part~="text"]').map((node) => node.textContent ?? '');
}

export function list(el: ReelChat): HTMLElement {
  return $(el, '[part~="list"]')!;
}

export function input(el: ReelChat): HTMLTextAreaElement {
  return $(el, '[part~="input"]') as HTMLTextAreaElement;
}

export async function ready(el: ReelChat): Promise<ReelChat> {
  await waitUntil(
    () =>
      !($(el, '[part~="record-button"]') as HTMLButtonElement | null)?.disabled &&
      list(el).getAttribute('aria-busy') === 'false' &&
      el.getAttribute('connection') === 'online',
    'the chat did not become ready',
  );
  return el;
}

export interface MountOptions {
  user: string;
  buddy?: string;
  room: string;
  transport?: ReelTransport;
  pageSize?: number;
  width?: number;
  /** Where takes and unsent texts are kept (default: a fresh outbox of its own). */
  outbox?: Outbox;
}

export async function mount(options: MountOptions): Promise<ReelChat> {
  return ready(await place(options));
}

/** The element in the page, without waiting for it to be online. */
export async function place(options: MountOptions): Promise<ReelChat> {
  return fixture<ReelChat>(html`
    <reel-chat
      .transport=${options.transport ?? 'memory'}
      .outbox=${options.outbox ?? new Outbox({ name: `chat-test-${nanoid(8)}` })}
      room=${options.room}
      conversation=${CONVERSATION}
      user=${options.user}
      user-name=${options.user[0].toUpperCase() + options.user.slice(1)}
      buddy=${options.buddy ?? (options.user === 'alice' ? 'bob' : 'alice')}
      page-size=${options.pageSize ?? 30}
      style="height: 420px; width: ${options.width ?? 380}px"
    ></reel-chat>
  `);
}

/** Alice and Bob in one room and conversation, side by side. */
export async function pair(
  room = newRoom(),
): Promise<{ alice: ReelChat; bob: ReelChat; room: string }> {
  const alice = await mount({ user: 'alice', room });
  const bob = await mount({ user: 'bob', room });
  return { alice, bob, room };
}

export async function type(el: ReelChat, text: string): Promise<void> {
  const field = input(el);
  field.focus();
  field.value = text;
  field.dispatchEvent(new Event('input', { bubbles: true }));
  await el.updateComplete;
}

export async function sendText(el: ReelChat, text: string): Promise<void> {
  await type(el, text);
  ($(el, '[part~="send-button"]') as HTMLButtonElement).click();
}

/** A transport that forwards to `inner`, with a hook in front of sendMessage and subscribe. */
export class WrappedTransport implements ReelTransport {
  beforeSend?: (draft: MessageDraft, call: number) => Promise<void> | void;
  beforeUpload?: () => Promise<void> | void;
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
  async upload(...args: Parameters<ReelTransport['upload']>) {
    await this.beforeUpload?.();
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

export async function seed(room: string, user: string, count: number): Promise<Message[]> {
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
export async function sample(): Promise<Blob> {
  sampleBlob ??= await (await fetch('/test-fixtures/video/sample.mp4')).blob();
  return sampleBlob;
}

export async function sendVideo(room: string, user: string, processingDelay = 50) {
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
