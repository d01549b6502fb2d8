import { ReelError } from '../transport/errors.js';
import type { Message, ReelTransport, Video } from '../transport/types.js';
import { Outbox, type OutboxTake } from './outbox.js';

// The one home of the outbox's delivery: `<reel-recorder>`'s take lifecycle and `<reel-chat>`'s
// session import it (both load on demand, so it sits in a chunk of its own beside them, never
// in an element's code up front); reelchat/outbox exports it.

let sharedOutbox: Outbox | undefined;

/** The outbox used when the host gave none: one shared `reelchat-outbox` database per page. */
export function defaultOutbox(): Outbox {
  return (sharedOutbox ??= new Outbox());
}

/** Takes being delivered by this page (the fallback where the Web Locks API is missing). */
const busy = new Set<string>();

export interface TakeLockOptions {
  /**
   * Wait while another page (or element) holds the take, instead of giving up at once.
   * Only with the Web Locks API; without it, a held take is given up as before.
   */
  wait?: boolean;
  /** Stops the wait. */
  signal?: AbortSignal;
}

/**
 * Runs `task` holding the take's lock, so one take is delivered by one page (tab) at a
 * time. Resolves to `undefined` without running it when another holds the lock (and
 * `wait` is not set).
 */
export async function withTakeLock<T>(
  outbox: Outbox,
  clientId: string,
  task: () => Promise<T>,
  options: TakeLockOptions = {},
): Promise<T | undefined> {
  const name = `reelchat:${outbox.name}:${clientId}`;
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (locks) {
    let ran = false;
    const request = options.wait ? { signal: options.signal } : { ifAvailable: true };
    const result = await locks.request(name, request, async (lock) => {
      if (!lock) return undefined;
      ran = true;
      return task();
    });
    return ran ? (result as T) : undefined;
  }
  if (busy.has(name)) return undefined;
  busy.add(name);
  try {
    return await task();
  } finally {
    busy.delete(name);
  }
}

export interface UploadTakeOptions {
  signal?: AbortSignal;
  onProgress?(sent: number, total?: number): void;
  /** The length in seconds, read when the transport asks (a live take knows it only at the end). */
  duration?: () => number | undefined;
  /** Shared while recorded, and the video's id once made (`UploadOptions.live`, `onCreated`). */
  live?: boolean;
  onCreated?(videoId: string): void;
}

/**
 * Uploads a take from the outbox (live while it is still recording), records the
 * confirmed bytes as the transport reports them, and stores the resulting video id.
 */
export async function uploadTake(
  transport: ReelTransport,
  outbox: Outbox,
  take: OutboxTake,
  options: UploadTakeOptions = {},
): Promise<Video> {
  const source = await outbox.source(take.clientId, { signal: options.signal });
  const confirm = coalesce((sent: number) => outbox.confirm(take.clientId, sent));
  const video = await transport.upload(take.conversation, source, {
    clientId: take.clientId,
    type: take.type,
    signal: options.signal,
    live: options.live,
    onCreated: options.onCreated,
    onProgress(sent, total) {
      confirm(sent);
      options.onProgress?.(sent, total);
    },
    // A getter: a live source's length is known only once the recording has stopped.
    get duration() {
      return options.duration?.() ?? take.duration;
    },
  });
  if (options.signal?.aborted) {
    throw new ReelError('aborted', 'The upload was cancelled.', { cause: options.signal.reason });
  }
  await outbox.uploaded(take.clientId, video.id);
  return video;
}

/**
 * Sends the video message for an uploaded take and deletes the take. The same clientId
 * as the upload: a backend that already has this message returns it instead of a second.
 */
export async function sendTake(
  transport: ReelTransport,
  outbox: Outbox,
  take: OutboxTake,
  video: string,
): Promise<Message> {
  const message = await transport.sendMessage(take.conversation, {
    clientId: take.clientId,
    video,
  });
  await outbox.delete(take.clientId);
  return message;
}

export interface ResumeOptions {
  /** Only this conversation's takes. */
  conversation?: string;
  /** Only this user's takes (takes recorded without a user match any). */
  user?: string;
  signal?: AbortSignal;
  /**
   * What to do with takes the person never chose to send (the page went away while they
   * were recording or reviewing): `discard` (default) deletes them, `keep` leaves them.
   */
  unsent?: 'discard' | 'keep';
  /**
   * A take another tab (or element) holds: `skip` (default) leaves it to that holder;
   * `wait` finishes it here if the holder lets go without sending it (its page went away,
   * or its upload failed), after the other takes. The result then waits for that holder:
   * give a `signal` to stop waiting.
   */
  held?: 'skip' | 'wait';
  /**
   * Stops waiting for held takes and starting further ones, but lets an upload in flight go
   * on (`signal` cancels it, and a transport may then end it on the server): an element that
   * leaves the page closes its transport, which keeps such an upload resumable.
   */
  stopWaiting?: AbortSignal;
  onProgress?(take: OutboxTake, sent: number, total?: number): void;
  onUploaded?(take: OutboxTake, video: Video): void;
  onSent?(take: OutboxTake, message: Message): void;
  onError?(take: OutboxTake, error: ReelError): void;
}

export interface ResumeResult {
  messages: Message[];
  /** Takes that could not be delivered this time; they stay in the outbox. */
  failed: { take: OutboxTake; error: ReelError }[];
}

/**
 * Finishes what earlier pages left in the outbox: uploads each take the person chose to
 * send (a resumable transport continues its server-side upload, reading from the outbox),
 * then sends its message, once. Takes another tab is delivering are skipped, or waited for
 * (`held: 'wait'`).
 */
export async function resumePendingUploads(
  transport: ReelTransport,
  outbox: Outbox,
  options: ResumeOptions = {},
): Promise<ResumeResult> {
  const result: ResumeResult = { messages: [], failed: [] };
  const takes = await outbox.pending({ conversation: options.conversation, user: options.user });
  const held: OutboxTake[] = [];
  const stopped = () => options.signal?.aborted || options.stopWaiting?.aborted;
  for (const listed of takes) {
    if (stopped()) break;
    if (outbox.isLive(listed.clientId)) continue; // being recorded in this page
    if (!(await resumeTake(transport, outbox, listed, options, result, false))) held.push(listed);
  }
  // Side by side: one holder's long take (a tab still recording) keeps no other waiting.
  if (options.held === 'wait' && !stopped()) {
    await Promise.all(
      held.map((listed) => resumeTake(transport, outbox, listed, options, result, true)),
    );
  }
  return result;
}

/** Delivers one listed take holding its lock; false when another holds it (and not `wait`). */
async function resumeTake(
  transport: ReelTransport,
  outbox: Outbox,
  listed: OutboxTake,
  options: ResumeOptions,
  result: ResumeResult,
  wait: boolean,
): Promise<boolean> {
  try {
    const ran = await withTakeLock(
      outbox,
      listed.clientId,
      async () => {
        // Read again under the lock: the holder may have sent or deleted it meanwhile.
        const take = await outbox.get(listed.clientId);
        if (!take) return true;
        if (!take.send || take.state === 'recording') {
          if ((options.unsent ?? 'discard') === 'discard') await outbox.delete(take.clientId);
          return true;
        }
        let video = take.video;
        if (video === undefined) {
          const uploaded = await uploadTake(transport, outbox, take, {
            signal: options.signal,
            onProgress: (sent, total) => options.onProgress?.(take, sent, total ?? take.bytes),
          });
          options.onUploaded?.(take, uploaded);
          video = uploaded.id;
        }
        const message = await sendTake(transport, outbox, take, video);
        result.messages.push(message);
        options.onSent?.(take, message);
        return true;
      },
      { wait, signal: options.stopWaiting ?? options.signal },
    );
    return ran === true;
  } catch (error) {
    const reelError = ReelError.from(error);
    result.failed.push({ take: listed, error: reelError });
    if (reelError.code !== 'aborted') options.onError?.(listed, reelError);
    return true;
  }
}

/** Calls an async function with the latest value, never two at once, skipping stale values. */
function coalesce(run: (value: number) => Promise<void>): (value: number) => void {
  let running = false;
  let latest: number | undefined;
  const pump = async () => {
    running = true;
    while (latest !== undefined) {
      const value = latest;
      latest = undefined;
      await run(value).catch(() => undefined);
    }
    running = false;
  };
  return (value: number) => {
    latest = Math.max(value, latest ?? 0);
    if (!running) void pump();
  };
}
