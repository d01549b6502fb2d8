import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import { ReelError } from '../transport/errors.js';
import type { ResumableSource, UploadHandle } from '../transport/types.js';

/**
 * Where a take is in its life. `recording`: chunks are still arriving (or the page that
 * recorded it went away mid-take); `recorded`: stopped, every chunk is stored;
 * `uploaded`: the backend has the whole video (`video` is its id), the message is not sent yet.
 * A take whose message has been sent is deleted.
 */
export type TakeState = 'recording' | 'recorded' | 'uploaded';

/** The small record kept per take beside its chunks. */
export interface OutboxTake {
  /** The take's idempotency key: used for the upload and for the message. */
  clientId: string;
  conversation: string;
  /** Who recorded it (the session's user), so another account on this browser never sends it. */
  user?: string;
  /** MIME type the MediaRecorder produced. */
  type: string;
  state: TakeState;
  /** True once the person chose to send it (pressed send, or stop without review). */
  send: boolean;
  /** Chunks written so far, and the byte length of each (index = chunk number). */
  chunks: number;
  sizes: number[];
  /** Bytes written so far. */
  bytes: number;
  /** Bytes the backend has confirmed. */
  confirmed: number;
  /** Chunks deleted from the front because the backend confirmed them. */
  dropped: number;
  /** Set by the transport (through `OutboxSource.remember`) once its upload can be resumed. */
  upload?: UploadHandle;
  /** The backend's video id once the upload completed. */
  video?: string;
  /** The recorder's own measure of the length, in seconds. */
  duration?: number;
  startedAt: string;
  stoppedAt?: string;
  updatedAt: string;
}

/**
 * A take as an upload source: a `ResumableSource` (re-readable from any byte the
 * backend has not confirmed, live while the recording goes on) that is also a plain
 * `AsyncIterable<Uint8Array>` from byte 0, plus a place for the transport to keep its
 * server-side upload handle across reloads.
 */
export interface OutboxSource extends ResumableSource, AsyncIterable<Uint8Array> {
  readonly clientId: string;
  /** The server-side upload a previous page started, if the transport remembered one. */
  readonly upload?: UploadHandle;
  /**
   * The take's bytes from `offset` on (following the recording live while it lasts).
   * Fails with `conflict` when bytes before the first one still stored are asked for.
   */
  read(offset: number): AsyncIterable<Uint8Array>;
  /**
   * Called by a transport once its server-side upload exists and can be resumed from an
   * offset. From then on the outbox deletes chunks as the transport confirms them.
   */
  remember(handle: UploadHandle): Promise<void>;
}

export interface OutboxOptions {
  /** IndexedDB database name (default `reelchat-outbox`). */
  name?: string;
}

type TakeKey = ['take', string];
type ChunkKey = ['chunk', string, number];

const takeKey = (clientId: string): TakeKey => ['take', clientId];
const chunkKey = (clientId: string, index: number): ChunkKey => ['chunk', clientId, index];
/** Every take record and nothing else: strings sort before arrays in IndexedDB keys. */
const TAKES = () => IDBKeyRange.bound(['take'], ['take', []]);

/** In-page state of a take this outbox instance is writing right now. */
interface Live {
  version: number;
  waiters: Set<() => void>;
}

let persistAsked = false;

/**
 * Every recorded chunk is written here (IndexedDB, through idb-keyval) before it is sent,
 * so a lost network or a reload loses nothing. One key per chunk (`['chunk', clientId, n]`,
 * an ArrayBuffer: Safari's private mode refuses Blobs) and one small record per take
 * (`['take', clientId]`), written together in one transaction.
 */
export class Outbox {
  readonly name: string;
  private readonly store: UseStore;
  private readonly live = new Map<string, Live>();
  /** Per take, the tail of its queue of writes: writes to one take never interleave. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: OutboxOptions = {}) {
    this.name = options.name ?? 'reelchat-outbox';
    this.store = createStore(this.name, 'outbox');
  }

  /** Starts a take. Asks the browser once per page to keep this site's storage (`persist()`). */
  async begin(take: {
    clientId: string;
    conversation: string;
    type: string;
    user?: string;
    send?: boolean;
  }): Promise<OutboxTake> {
    askPersist();
    const now = new Date().toISOString();
    const record: OutboxTake = {
      clientId: take.clientId,
      conversation: take.conversation,
      user: take.user,
      type: take.type,
      state: 'recording',
      send: take.send ?? false,
      chunks: 0,
      sizes: [],
      bytes: 0,
      confirmed: 0,
      dropped: 0,
      startedAt: now,
      updatedAt: now,
    };
    this.live.set(take.clientId, { version: 0, waiters: new Set() });
    try {
      await this.write((store) => store.put(record, takeKey(take.clientId)));
    } catch (error) {
      this.live.delete(take.clientId);
      throw error;
    }
    return record;
  }

  /**
   * Stores the next chunk of a take that is recording. Resolves once it is in IndexedDB;
   * fails with `quota-exceeded` when the browser refuses the space.
   */
  append(clientId: string, data: Blob | ArrayBuffer | Uint8Array): Promise<void> {
    return this.queue(clientId, async () => {
      const buffer = await toArrayBuffer(data);
      if (buffer.byteLength === 0) return;
      const take = await this.get(clientId);
      if (!take) return; // cancelled meanwhile
      if (take.state !== 'recording') {
        throw new ReelError('conflict', 'This take has stopped; no more chunks can be added.');
      }
      const index = take.chunks;
      const next: OutboxTake = {
        ...take,
        chunks: index + 1,
        sizes: [...take.sizes, buffer.byteLength],
        bytes: take.bytes + buffer.byteLength,
        updatedAt: new Date().toISOString(),
      };
      await this.write((store) => {
        store.put(buffer, chunkKey(clientId, index));
        store.put(next, takeKey(clientId));
      });
      this.notify(clientId);
    });
  }

  /**
   * Marks the take stopped: every chunk is stored. Live readers end after the last chunk
   * once the take is also approved for sending (`send`, here or through `approve`): until
   * then they wait, so a transport keeps its upload open (length unknown) while the person
   * reviews the take, and a retake can still end it on the server with nothing kept.
   */
  finish(clientId: string, details: { duration?: number; send?: boolean } = {}): Promise<void> {
    return this.queue(clientId, async () => {
      const take = await this.change(clientId, (take) => ({
        ...take,
        state: take.state === 'recording' ? 'recorded' : take.state,
        stoppedAt: take.stoppedAt ?? new Date().toISOString(),
        duration: details.duration ?? take.duration,
        send: details.send ?? take.send,
      }));
      this.notify(clientId);
      if (!take || take.send) this.live.delete(clientId);
    });
  }

  /** The person chose to send this take: live readers end, and a resume after reload may send it. */
  approve(clientId: string): Promise<void> {
    return this.queue(clientId, async () => {
      await this.change(clientId, (take) => ({ ...take, send: true }));
      this.notify(clientId);
      this.live.delete(clientId);
    });
  }

  /** Records the transport's resumable upload (see `OutboxSource.remember`). */
  remember(clientId: string, upload: UploadHandle): Promise<void> {
    return this.queue(clientId, async () => {
      await this.change(clientId, (take) => ({ ...take, upload }));
    });
  }

  /**
   * The backend has `bytes` of this take. Once the transport has a resumable upload
   * (`remember`), chunks wholly below that offset are deleted: they will never be re-read.
   */
  confirm(clientId: string, bytes: number): Promise<void> {
    return this.queue(clientId, async () => {
      const take = await this.get(clientId);
      if (!take || bytes <= take.confirmed) return;
      const next: OutboxTake = { ...take, confirmed: Math.min(bytes, take.bytes) };
      const drop: ChunkKey[] = [];
      if (take.upload) {
        let end = offsetOf(take, take.dropped);
        while (next.dropped < take.chunks && end + take.sizes[next.dropped] <= next.confirmed) {
          end += take.sizes[next.dropped];
          drop.push(chunkKey(clientId, next.dropped));
          next.dropped++;
        }
      }
      next.updatedAt = new Date().toISOString();
      await this.write((store) => {
        for (const key of drop) store.delete(key);
        store.put(next, takeKey(clientId));
      });
    });
  }

  /** The upload finished: the backend's video id. Every chunk can go; the record stays until the message is sent. */
  uploaded(clientId: string, video: string): Promise<void> {
    return this.queue(clientId, async () => {
      const take = await this.get(clientId);
      if (!take) return;
      const next: OutboxTake = {
        ...take,
        state: 'uploaded',
        video,
        confirmed: take.bytes,
        dropped: take.chunks,
        updatedAt: new Date().toISOString(),
      };
      await this.write((store) => {
        for (let i = take.dropped; i < take.chunks; i++) store.delete(chunkKey(clientId, i));
        store.put(next, takeKey(clientId));
      });
    });
  }

  /** Deletes a take and all its chunks (sent, cancelled or retaken). */
  delete(clientId: string): Promise<void> {
    return this.queue(clientId, async () => {
      const take = await this.get(clientId);
      await this.write((store) => {
        if (take)
          for (let i = take.dropped; i < take.chunks; i++) store.delete(chunkKey(clientId, i));
        // Chunks a racing append may have added beyond the record's count, too.
        store.delete(IDBKeyRange.bound(['chunk', clientId], ['chunk', clientId, []]));
        store.delete(takeKey(clientId));
      });
      this.notify(clientId);
      this.live.delete(clientId);
    });
  }

  async get(clientId: string): Promise<OutboxTake | undefined> {
    return this.read((store) => store.get(takeKey(clientId)) as IDBRequest<OutboxTake | undefined>);
  }

  /** Takes not yet sent, oldest first; optionally only one conversation's or one user's. */
  async pending(filter: { conversation?: string; user?: string } = {}): Promise<OutboxTake[]> {
    const all = await this.read((store) => store.getAll(TAKES()) as IDBRequest<OutboxTake[]>);
    return all
      .filter(
        (take) => filter.conversation === undefined || take.conversation === filter.conversation,
      )
      .filter(
        (take) => filter.user === undefined || take.user === undefined || take.user === filter.user,
      )
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /** True while this outbox instance owns the take (recording it, or awaiting the person's review). */
  isLive(clientId: string): boolean {
    return this.live.has(clientId);
  }

  /**
   * The take's bytes from `offset`, chunk by chunk, read back from IndexedDB. While the
   * take is being recorded through this instance it waits for each next chunk, and ends
   * when the take is finished and approved (or deleted, or `signal` fires). A take that a
   * page which went away left unfinished ends at its last stored chunk.
   */
  async *readFrom(
    clientId: string,
    offset = 0,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<Uint8Array, void, undefined> {
    let position = offset;
    for (;;) {
      throwIfAborted(options.signal);
      const live = this.live.get(clientId);
      const seen = live?.version ?? -1;
      const take = await this.get(clientId);
      if (!take) throw new ReelError('not-found', `The outbox has no take "${clientId}".`);
      if (position > take.bytes) {
        if (!live || take.state !== 'recording') {
          throw new ReelError(
            'bad-request',
            `Offset ${position} is past the take's ${take.bytes} bytes.`,
          );
        }
      } else {
        const { index, within } = locate(take, position);
        if (index < take.dropped) {
          throw new ReelError(
            'conflict',
            `Bytes from ${position} of take "${clientId}" were confirmed and deleted.`,
          );
        }
        if (index < take.chunks) {
          const buffer = await this.read(
            (store) => store.get(chunkKey(clientId, index)) as IDBRequest<ArrayBuffer | undefined>,
          );
          if (!buffer)
            throw new ReelError('conflict', `Chunk ${index} of take "${clientId}" is gone.`);
          const bytes = new Uint8Array(buffer, within);
          position += bytes.byteLength;
          yield bytes;
          continue;
        }
      }
      // The end: a finished, approved take, or one no page of ours is recording any more.
      if (!live || (take.state !== 'recording' && take.send)) return;
      await this.waitForChange(clientId, seen, options.signal);
    }
  }

  /** The take as an upload source for `transport.upload`. */
  async source(clientId: string, options: { signal?: AbortSignal } = {}): Promise<OutboxSource> {
    const take = await this.get(clientId);
    if (!take) throw new ReelError('not-found', `The outbox has no take "${clientId}".`);
    return {
      clientId,
      upload: take.upload,
      read: (offset: number) => this.readFrom(clientId, offset, options),
      remember: (handle: UploadHandle) => this.remember(clientId, handle),
      [Symbol.asyncIterator]: () => this.readFrom(clientId, 0, options),
    };
  }

  private waitForChange(clientId: string, seen: number, signal?: AbortSignal): Promise<void> {
    const live = this.live.get(clientId);
    if (!live || live.version !== seen) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        live.waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        live.waiters.delete(done);
        reject(new ReelError('aborted', 'The operation was cancelled.', { cause: signal?.reason }));
      };
      live.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Wakes the take's live readers: a chunk arrived, or it finished or was deleted. */
  private notify(clientId: string): void {
    const live = this.live.get(clientId);
    if (!live) return;
    live.version++;
    for (const wake of [...live.waiters]) wake();
  }

  private async change(
    clientId: string,
    update: (take: OutboxTake) => OutboxTake,
  ): Promise<OutboxTake | undefined> {
    const take = await this.get(clientId);
    if (!take) return undefined;
    const next = { ...update(take), updatedAt: new Date().toISOString() };
    await this.write((store) => store.put(next, takeKey(clientId)));
    return next;
  }

  private queue<T>(clientId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(clientId) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => undefined);
    this.queues.set(clientId, tail);
    void tail.then(() => {
      if (this.queues.get(clientId) === tail) this.queues.delete(clientId);
    });
    return run;
  }

  private async read<T>(request: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    try {
      return await this.store('readonly', (store) => promisifyRequest(request(store)));
    } catch (error) {
      throw storageError(error);
    }
  }

  /** Runs `work` in one readwrite transaction and resolves when it has committed. */
  private async write(work: (store: IDBObjectStore) => unknown): Promise<void> {
    try {
      await this.store('readwrite', (store) => {
        try {
          work(store);
        } catch (error) {
          store.transaction.abort();
          throw error;
        }
        return promisifyRequest(store.transaction);
      });
    } catch (error) {
      throw storageError(error);
    }
  }
}

/** Byte offset where chunk `index` starts. */
function offsetOf(take: OutboxTake, index: number): number {
  let offset = 0;
  for (let i = 0; i < index; i++) offset += take.sizes[i];
  return offset;
}

/** The chunk holding byte `position`, and where in it (`index === chunks` at the end). */
function locate(take: OutboxTake, position: number): { index: number; within: number } {
  let start = 0;
  for (let index = 0; index < take.chunks; index++) {
    const end = start + take.sizes[index];
    if (position < end) return { index, within: position - start };
    start = end;
  }
  return { index: take.chunks, within: 0 };
}

async function toArrayBuffer(data: Blob | ArrayBuffer | Uint8Array): Promise<ArrayBuffer> {
  if (data instanceof ArrayBuffer) return data;
  if (data instanceof Blob) return data.arrayBuffer();
  return data.slice().buffer as ArrayBuffer;
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) {
    throw new ReelError('aborted', 'The operation was cancelled.', { cause: signal.reason });
  }
}

/** IndexedDB failures as ReelErrors: a full disk is `quota-exceeded`, said plainly. */
export function storageError(error: unknown): ReelError {
  if (error instanceof ReelError) return error;
  const name = error instanceof DOMException ? error.name : (error as { name?: string })?.name;
  if (name === 'QuotaExceededError') {
    return new ReelError(
      'quota-exceeded',
      'There is not enough storage space to keep the recording.',
      {
        cause: error,
      },
    );
  }
  if (name === 'AbortError' && error instanceof DOMException) {
    // An aborted transaction: the real reason, if any, travels as the transaction's error.
    return new ReelError('internal', `The outbox could not be written: ${error.message}`, {
      cause: error,
    });
  }
  return ReelError.from(error);
}

function askPersist(): void {
  if (persistAsked) return;
  persistAsked = true;
  // Best effort: browsers that grant it keep the outbox under storage pressure.
  void navigator.storage?.persist?.().catch(() => false);
}
