// Server-sent events: one stream per client, carrying the events of the caller's
// conversations. With Last-Event-ID the stream first replays the log after that id, then
// continues live — every event exactly once: we subscribe before reading the log, hold
// live events back while replaying, and never send a seq at or below the last one sent.
// An event with an audience (a video not yet attached to a message) goes to that user only,
// live and in the replay alike.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MediaSigner } from '../auth/media-tokens.js';
import { HttpError } from '../http/errors.js';
import type { MetadataStore, StoredEvent } from '../store/types.js';
import { messageJson, videoJson } from '../wire.js';
import type { EventFanout } from './fanout.js';

const REPLAY_BATCH = 500;
/** A client this far behind is cut off; it reconnects with Last-Event-ID and catches up. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface SseOptions {
  heartbeatMs: number;
  retryMs: number;
  /** Open streams one user may hold at once; one more is refused with 429. */
  maxStreamsPerUser: number;
}

export interface StreamRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** Whose stream this is: for the per-user limit, and for events meant for one user. */
  user: string;
  conversations: string[];
  /** The last event the client saw (0: none, start live). */
  lastEventId: number;
  /** When the caller's token expires (ms since epoch): the stream ends then. */
  expiresAt: number;
}

export class SseHub {
  private readonly open = new Set<ServerResponse>();
  private readonly perUser = new Map<string, number>();

  constructor(
    private readonly store: MetadataStore,
    private readonly fanout: EventFanout,
    private readonly signer: MediaSigner,
    private readonly options: SseOptions,
  ) {}

  async stream({
    req,
    res,
    user,
    conversations,
    lastEventId,
    expiresAt,
  }: StreamRequest): Promise<void> {
    // The client left while we were checking its token: a 'close' listener would never fire,
    // leaving the subscription and timers below behind for good.
    if (res.closed) return;
    // Each stream holds a socket, a listener and two timers: one token must not open endless ones.
    const count = this.perUser.get(user) ?? 0;
    if (count >= this.options.maxStreamsPerUser) {
      throw new HttpError(
        429,
        `Too many event streams open for this user (at most ${this.options.maxStreamsPerUser}).`,
      );
    }
    this.perUser.set(user, count + 1);
    const wanted = new Set(conversations);
    let lastSent = lastEventId;
    let held: StoredEvent[] | undefined = lastEventId > 0 ? [] : undefined;

    const send = (event: StoredEvent) => {
      if (event.seq <= lastSent || res.writableEnded) return;
      lastSent = event.seq;
      res.write(this.frame(event));
      // Not reading: drop the connection rather than buffer without end.
      if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy();
    };
    const unsubscribe = this.fanout.subscribe((event) => {
      if (!wanted.has(event.conversation)) return;
      if (event.audience !== null && event.audience !== user) return;
      if (held) held.push(event);
      else send(event);
    });

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${this.options.retryMs}\n\n`);
    this.open.add(res);

    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), this.options.heartbeatMs);
    const expiry = setTimeout(
      () => res.end(),
      Math.min(Math.max(expiresAt - Date.now(), 0), 2 ** 31 - 1),
    );
    const cleanUp = () => {
      clearInterval(heartbeat);
      clearTimeout(expiry);
      unsubscribe();
      this.open.delete(res);
      const left = (this.perUser.get(user) ?? 1) - 1;
      if (left > 0) this.perUser.set(user, left);
      else this.perUser.delete(user);
    };
    res.on('close', cleanUp);
    // The client is gone: nothing left to flush.
    req.on('close', () => res.destroy());

    if (held) {
      try {
        for (;;) {
          const batch = await this.store.eventsAfter(lastSent, conversations, user, REPLAY_BATCH);
          for (const event of batch) send(event);
          if (batch.length < REPLAY_BATCH || res.writableEnded || res.destroyed) break;
        }
      } catch (error) {
        console.error('reelchat: replaying events failed', error);
        res.end();
        return;
      }
      const caughtUp = held;
      held = undefined;
      for (const event of caughtUp) send(event);
    }
  }

  /**
   * Drops every open stream (server shutdown). Destroyed, not ended: a client that stopped
   * reading would otherwise hold its connection open until its buffered events drain.
   */
  closeAll(): void {
    for (const res of this.open) {
      res.socket?.destroy();
      res.destroy();
    }
    this.open.clear();
  }

  private frame(event: StoredEvent): string {
    const id = String(event.seq);
    const data =
      event.type === 'message.created'
        ? { type: event.type, id, message: messageJson(event.message) }
        : { type: event.type, id, video: videoJson(event.video, this.signer) };
    return `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`;
  }
}
