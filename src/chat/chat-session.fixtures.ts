// Shared by the ChatSession suites: a recording host, a stub transport whose answers the
// test hands out, and small makers of messages and events. Nothing here renders.
import { nanoid } from 'nanoid';
import { Outbox } from '../outbox/outbox.js';
import { ReelError } from '../transport/errors.js';
import type { MemoryTransport } from '../transport/memory-transport.js';
import type {
  ListOptions,
  Message,
  MessageDraft,
  Page,
  ReelEvent,
  ReelTransport,
  Video,
} from '../transport/types.js';
import type { ChatSession, ChatSessionHost } from './chat-session.js';

export const CONVERSATION = 'c1';

/** Resolves when `check` holds (checked after each turn of the event loop). */
export async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out: ${what}`);
}

/** A host that records what the session told it. */
export function recordingHost() {
  const seen = {
    changes: 0,
    loaded: 0,
    errors: [] as { error: ReelError; visible: boolean; restartable?: boolean }[],
    appended: [] as { ids: string[]; live: boolean }[],
    announced: [] as string[],
  };
  const host: ChatSessionHost = {
    changed: () => void seen.changes++,
    failed: (error, visible, restartable) => void seen.errors.push({ error, visible, restartable }),
    appended: (added, live) => void seen.appended.push({ ids: added.map((m) => m.id), live }),
    message: (message) => void seen.announced.push(message.id),
    loaded: () => void seen.loaded++,
  };
  return { host, seen };
}

export function message(n: number, author = 'bob', extra: Partial<Message> = {}): Message {
  return {
    id: `m${String(n).padStart(4, '0')}`,
    conversation: CONVERSATION,
    clientId: `client-${n}`,
    author,
    text: `message ${n}`,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    ...extra,
  };
}

/** A transport whose every call waits until the test answers it. */
export class StubTransport implements ReelTransport {
  deleteMessage?: (conversation: string, id: string) => Promise<void>;
  markWatched?: (conversation: string, id: string) => Promise<void>;
  readonly calls: { method: string; options?: ListOptions; draft?: MessageDraft }[] = [];
  listener?: (event: ReelEvent) => void;
  pages: ((options: ListOptions) => Page<Message>)[] = [];
  failSends = 0;
  videos = new Map<string, Video>();
  subscribedBeforeList = false;

  connect() {
    return Promise.resolve({ user: 'alice' });
  }
  async listMessages(_conversation: string, options: ListOptions = {}): Promise<Page<Message>> {
    this.calls.push({ method: 'listMessages', options });
    this.subscribedBeforeList ||= this.listener !== undefined;
    const answer = this.pages.shift();
    if (!answer) throw new ReelError('network', 'no page prepared');
    await Promise.resolve();
    return answer(options);
  }
  async sendMessage(conversation: string, draft: MessageDraft): Promise<Message> {
    this.calls.push({ method: 'sendMessage', draft });
    if (this.failSends-- > 0) throw new ReelError('network', 'The network is down.');
    return message(900, 'alice', { clientId: draft.clientId, text: draft.text, conversation });
  }
  upload(): Promise<Video> {
    return Promise.reject(new ReelError('unsupported', 'not here'));
  }
  async getVideo(_conversation: string, id: string): Promise<Video> {
    this.calls.push({ method: 'getVideo' });
    const video = this.videos.get(id);
    if (!video) throw new ReelError('not-found', id);
    return video;
  }
  async listVideos(): Promise<Video[]> {
    this.calls.push({ method: 'listVideos' });
    return [];
  }
  subscribe(_conversation: string, onEvent: (event: ReelEvent) => void) {
    this.listener = onEvent;
    return () => (this.listener = undefined);
  }
  close() {
    return Promise.resolve();
  }
}

/** Uploads a clip and sends it as a message (the memory transport makes it ready soon). */
export async function sendClip(
  transport: MemoryTransport,
): Promise<{ video: Video; message: Message }> {
  const clientId = nanoid();
  const bytes = new Blob([new Uint8Array(1000)], { type: 'video/webm' });
  const video = await transport.upload(CONVERSATION, bytes, { clientId, type: 'video/webm' });
  const sent = await transport.sendMessage(CONVERSATION, { clientId, video: video.id });
  return { video, message: sent };
}

/** A live `message.created` event. */
export function created(m: Message): ReelEvent {
  return { type: 'message.created', id: `e-${m.id}`, message: m } as ReelEvent;
}

export function ids(session: ChatSession): string[] {
  return session.timeline.entries().map((entry) => entry.key);
}

/** An outbox of the test's own: a session keeps its texts there, not in the shared one. */
export function scratchOutbox(): Outbox {
  return new Outbox({ name: `session-test-${nanoid(8)}` });
}
