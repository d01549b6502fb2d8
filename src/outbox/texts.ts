import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import type { MessageDraft } from '../transport/types.js';
import { storageError } from './outbox.js';

/** A message this person wrote that the backend has not confirmed yet. */
export interface PendingText {
  conversation: string;
  /** Who wrote it, so another account on this browser never sends it. */
  user?: string;
  draft: MessageDraft;
  createdAt: string;
}

type TextKey = ['text', string, string];

const textKey = (conversation: string, clientId: string): TextKey => [
  'text',
  conversation,
  clientId,
];

/**
 * Texts not yet confirmed by the backend, kept beside the outbox's takes (the same
 * IndexedDB database and object store, `['text', conversation, clientId]`), so a reload
 * or a closed tab loses none: the next page of that conversation sends each again with the
 * same clientId, which the backend answers with the stored message instead of a second one.
 */
export class PendingTexts {
  private readonly store: UseStore;
  /** Per clientId, the keep in flight: a drop waits for it, so a late keep never revives a text. */
  private readonly keeping = new Map<string, Promise<void>>();

  constructor(name = 'reelchat-outbox') {
    this.store = createStore(name, 'outbox');
  }

  keep(text: PendingText): Promise<void> {
    const id = text.draft.clientId;
    const kept = this.write((store) => store.put(text, textKey(text.conversation, id)));
    this.keeping.set(id, kept);
    void kept
      .catch(() => undefined)
      .then(() => {
        if (this.keeping.get(id) === kept) this.keeping.delete(id);
      });
    return kept;
  }

  /** The backend has the message (or the person gave it up): it is not kept any more. */
  async drop(conversation: string, clientId: string): Promise<void> {
    await this.keeping.get(clientId)?.catch(() => undefined);
    await this.write((store) => store.delete(textKey(conversation, clientId)));
  }

  /** One conversation's kept texts, oldest first; optionally only one user's. */
  async list(conversation: string, user?: string): Promise<PendingText[]> {
    const range = IDBKeyRange.bound(['text', conversation], ['text', conversation, []]);
    let all: PendingText[];
    try {
      all = await this.store('readonly', (store) =>
        promisifyRequest(store.getAll(range) as IDBRequest<PendingText[]>),
      );
    } catch (error) {
      throw storageError(error);
    }
    return all
      .filter((text) => user === undefined || text.user === undefined || text.user === user)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  private async write(work: (store: IDBObjectStore) => unknown): Promise<void> {
    try {
      await this.store('readwrite', (store) => {
        work(store);
        return promisifyRequest(store.transaction);
      });
    } catch (error) {
      throw storageError(error);
    }
  }
}
