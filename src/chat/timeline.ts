import type { Message, MessageDraft } from '../transport/types.js';

export type SendStatus = 'pending' | 'sent' | 'failed';

/** One row of the message list: a stored message, or one of this person's not yet confirmed. */
export interface Entry {
  /** The message id once stored; `local:<clientId>` before. */
  key: string;
  clientId: string;
  author: string;
  authorName?: string;
  text?: string;
  video?: string;
  createdAt: string;
  status: SendStatus;
  /** Why the last attempt failed (failed entries). */
  error?: string;
  /** The last attempt failed for want of a connection: it is sent again on reconnect. */
  retryable?: boolean;
  /** The draft to send again (local entries). */
  draft?: MessageDraft;
  /** Unsent by its author: it keeps its place, without its text or clip. */
  deleted?: boolean;
}

/**
 * The ordered messages of one conversation: stored ones in the backend's order, each id once,
 * then this person's local ones (pending or failed) in the order they were written. A stored
 * message with the same author and clientId as a local one replaces it.
 */
export class Timeline {
  private stored: Entry[] = [];
  private readonly ids = new Set<string>();
  private readonly local = new Map<string, Entry>();

  constructor(private readonly me: string) {}

  get size(): number {
    return this.stored.length + this.local.size;
  }

  get oldestId(): string | undefined {
    return this.stored[0]?.key;
  }

  get newestId(): string | undefined {
    return this.stored.at(-1)?.key;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Older messages (oldest first) go before everything known; returns the ones that were new. */
  prepend(messages: readonly Message[]): Message[] {
    const added = this.fresh(messages);
    this.stored = [...added.map((m) => this.entryOf(m)), ...this.stored];
    return added;
  }

  /** Newer messages (oldest first) go after everything known; returns the ones that were new. */
  append(messages: readonly Message[]): Message[] {
    const added = this.fresh(messages);
    this.stored.push(...added.map((m) => this.entryOf(m)));
    return added;
  }

  /** A message this person is about to send, shown as pending. */
  addLocal(draft: MessageDraft, authorName?: string): Entry {
    const entry: Entry = {
      key: `local:${draft.clientId}`,
      clientId: draft.clientId,
      author: this.me,
      authorName,
      text: draft.text,
      video: draft.video,
      createdAt: new Date().toISOString(),
      status: 'pending',
      draft,
    };
    this.local.set(draft.clientId, entry);
    return entry;
  }

  localEntry(clientId: string): Entry | undefined {
    return this.local.get(clientId);
  }

  /** Marks a local message failed (unless it has been confirmed meanwhile). */
  fail(clientId: string, error: string, retryable = false): void {
    const entry = this.local.get(clientId);
    if (entry) this.local.set(clientId, { ...entry, status: 'failed', error, retryable });
  }

  /** Local messages that failed for want of a connection. */
  retryable(): string[] {
    return [...this.local.values()]
      .filter((e) => e.status === 'failed' && e.retryable)
      .map((e) => e.clientId);
  }

  /** Marks a failed local message pending again; returns its draft (same clientId). */
  retry(clientId: string): MessageDraft | undefined {
    const entry = this.local.get(clientId);
    if (!entry?.draft) return undefined;
    this.local.set(clientId, {
      ...entry,
      status: 'pending',
      error: undefined,
      retryable: undefined,
    });
    return entry.draft;
  }

  /**
   * A stored message was unsent: its entry keeps its place but loses its text and clip.
   * Returns the entry as it was (to tell which clip went), or undefined if it is not listed
   * or was deleted already.
   */
  markDeleted(id: string): Entry | undefined {
    const index = this.stored.findIndex((entry) => entry.key === id);
    const entry = this.stored[index];
    if (!entry || entry.deleted) return undefined;
    this.stored[index] = { ...entry, text: undefined, video: undefined, deleted: true };
    return entry;
  }

  entries(): Entry[] {
    return [...this.stored, ...this.local.values()];
  }

  private fresh(messages: readonly Message[]): Message[] {
    const added: Message[] = [];
    for (const message of messages) {
      // Even when listed already: a text kept from an earlier page may come back as its answer.
      if (message.author === this.me) this.local.delete(message.clientId);
      if (this.ids.has(message.id)) continue;
      this.ids.add(message.id);
      added.push(message);
    }
    return added;
  }

  private entryOf(message: Message): Entry {
    return {
      key: message.id,
      clientId: message.clientId,
      author: message.author,
      authorName: message.authorName,
      text: message.deleted ? undefined : message.text,
      video: message.deleted ? undefined : message.video,
      createdAt: message.createdAt,
      status: 'sent',
      ...(message.deleted ? { deleted: true } : {}),
    };
  }
}
