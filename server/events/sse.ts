// Server-sent events: one stream per client, carrying the events of the caller's
// conversations. With Last-Event-ID the stream first replays the log after that id, then
// continues live — every event exactly once: we subscribe before reading the log, hold
// live events back while replaying, and never send a seq at or below the last one sent.
// An event with an audience (a video not yet attached to a message) goes to that user only,
// live and in the replay alike.
//
// A client that stops reading (a phone asleep in a busy conversation) must cost a bounded
// amount: every write goes through writeOrDrop, which never writes after the end and drops
// the connection once too much is queued for it; the client resumes with Last-Event-ID.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MediaSigner } from '../auth/media-tokens.js';
import { refusedWhileStopping } from '../http/drain.js';
import { HttpError } from '../http/errors.js';
import type { EventLogStore, StoredEvent } from '../store/types.js';
import { eventJson } from '../wire.js';
import type { EventFanout } from './fanout.js';

const REPLAY_BATCH = 500;
/** Live events held back during a replay that waits for a slow client: past this, drop it. */
const MAX_HELD_EVENTS = 4 * REPLAY_BATCH;
const HEARTBEAT = Buffer.from(': heartbeat\n\n');
/**
 * The last frame of a stream whose instance stops: reconnect at once (`retry: 0`, which
 * EventSource honours; the library's client on `event: reconnect`), where the balancer
 * sends the new request to another instance, which replays from Last-Event-ID.
 */
const RECONNECT_ELSEWHERE = Buffer.from(
  'retry: 0\nevent: reconnect\ndata: {"type":"reconnect"}\n\n',
);

export interface SseOptions {
  heartbeatMs: number;
  retryMs: number;
  /** Open streams one user may hold at once; one more is refused with 429. */
  maxStreamsPerUser: number;
  /**
   * Bytes queued for one client (not yet taken by the kernel) past which its stream is
   * dropped: it reconnects with Last-Event-ID and catches up.
   */
  maxBufferedBytes: number;
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

/** Whether the stream can still be written to (not ended, not destroyed). */
export function isOpen(res: ServerResponse): boolean {
  return !res.writableEnded && !res.destroyed;
}

/**
 * The one way to write to an event stream: does nothing once it has ended or closed (a
 * write after end would throw from a timer and take the process down), and destroys it
 * once more than `maxBufferedBytes` are queued — a client that does not read is dropped,
 * not buffered without end. Chunks are Buffers, so writableLength counts bytes (for a
 * string it counts UTF-16 units: half the bytes of emoji). Returns whether it is still open.
 */
export function writeOrDrop(res: ServerResponse, chunk: Buffer, maxBufferedBytes: number): boolean {
  if (!isOpen(res)) return false;
  res.write(chunk);
  if (res.writableLength > maxBufferedBytes) {
    res.destroy();
    return false;
  }
  return true;
}

/** Resolves once what is queued has been taken by the kernel, or the stream has closed. */
function drained(res: ServerResponse): Promise<void> {
  if (!isOpen(res) || res.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** One stream's live events: what it has sent, and what it holds back during a replay. */
interface StreamFeed {
  send(event: StoredEvent): void;
  lastSent(): number;
  unsubscribe(): void;
  /** After the replay: sends the live events held back meanwhile, and every later one at once. */
  sendHeld(): void;
}

interface StreamTimers {
  /** Ends the stream gracefully (token expired, replay failed). */
  end(): void;
  /** Clears every timer (the stream has closed). */
  stop(): void;
}

export class SseHub {
  /** Open streams, and how to end each one gracefully. */
  private readonly open = new Map<ServerResponse, StreamTimers>();
  /** Set by endAll: the instance is stopping, no stream opens any more. */
  private stopping = false;
  private readonly perUser = new Map<string, number>();
  /** Each live event is framed once for all its streams, which then share the bytes. */
  private readonly frames = new WeakMap<StoredEvent, Buffer>();

  constructor(
    private readonly store: EventLogStore,
    private readonly fanout: EventFanout,
    private readonly signer: MediaSigner,
    private readonly options: SseOptions,
  ) {}

  /** Event streams open now (for /metrics). */
  get openStreams(): number {
    return this.open.size;
  }

  async stream(request: StreamRequest): Promise<void> {
    const { req, res, user, conversations } = request;
    // The client left while we were checking its token: a 'close' listener would never fire,
    // leaving the subscription and timers below behind for good.
    if (res.closed) return;
    // Its request got past the stop's refusal while its token was being checked.
    if (this.stopping) throw refusedWhileStopping(res);
    this.admit(user);
    const feed = this.follow(request);
    const timers = this.keepAlive(res, request.expiresAt, feed.unsubscribe);
    this.begin(res, timers);
    res.once('close', () => {
      timers.stop();
      feed.unsubscribe();
      this.open.delete(res);
      this.release(user);
    });
    // Whatever goes wrong on one stream ends that stream, never the process.
    res.on('error', () => res.destroy());
    // The client is gone: nothing left to flush.
    req.on('close', () => res.destroy());

    if (request.lastEventId <= 0) return;
    try {
      await this.replay(res, conversations, user, feed.lastSent, feed.send);
    } catch (error) {
      console.error('reelchat: replaying events failed', error);
      timers.end();
      return;
    }
    feed.sendHeld();
  }

  /**
   * Subscribes one stream to the live events meant for it (its conversations; an event with
   * an audience, only that user's). Subscribed before the replay reads the log, so nothing
   * falls between the two: with a Last-Event-ID, live events are held back until the replay
   * is done (sendHeld), and send never repeats a seq at or below the last one sent.
   */
  private follow({ res, user, conversations, lastEventId }: StreamRequest): StreamFeed {
    const wanted = new Set(conversations);
    let lastSent = lastEventId;
    let held: StoredEvent[] | undefined = lastEventId > 0 ? [] : undefined;
    const send = (event: StoredEvent) => {
      if (event.seq <= lastSent || !isOpen(res)) return;
      lastSent = event.seq;
      writeOrDrop(res, this.frame(event), this.options.maxBufferedBytes);
    };
    const subscription = this.fanout.subscribe((event) => {
      if (!wanted.has(event.conversation)) return;
      if (event.audience !== null && event.audience !== user) return;
      if (!held) send(event);
      else if (held.push(event) > MAX_HELD_EVENTS) res.destroy();
    });
    let listening = true;
    return {
      send,
      lastSent: () => lastSent,
      unsubscribe: () => {
        if (listening) subscription();
        listening = false;
      },
      sendHeld: () => {
        const caughtUp = held ?? [];
        held = undefined;
        for (const event of caughtUp) send(event);
      },
    };
  }

  /**
   * The stream's timers: a heartbeat, and its end at the token's exp (or when the replay
   * fails). At the end nothing more is written; the end follows what is queued, and a client
   * that has not read it a heartbeat later is dropped (it reconnects with a fresh token and
   * Last-Event-ID).
   */
  private keepAlive(res: ServerResponse, expiresAt: number, unsubscribe: () => void): StreamTimers {
    const { maxBufferedBytes, heartbeatMs } = this.options;
    const heartbeat = setInterval(() => writeOrDrop(res, HEARTBEAT, maxBufferedBytes), heartbeatMs);
    let dropAfterEnd: NodeJS.Timeout | undefined;
    const end = () => {
      clearInterval(heartbeat);
      unsubscribe();
      if (!isOpen(res)) return;
      res.end();
      dropAfterEnd = setTimeout(() => res.destroy(), heartbeatMs);
    };
    const expiry = setTimeout(end, Math.min(Math.max(expiresAt - Date.now(), 0), 2 ** 31 - 1));
    return {
      end,
      stop: () => {
        clearInterval(heartbeat);
        clearTimeout(expiry);
        clearTimeout(dropAfterEnd);
      },
    };
  }

  /** Each stream holds a socket, a listener and two timers: one token must not open endless ones. */
  private admit(user: string): void {
    const count = this.perUser.get(user) ?? 0;
    if (count >= this.options.maxStreamsPerUser) {
      throw new HttpError(
        429,
        `Too many event streams open for this user (at most ${this.options.maxStreamsPerUser}).`,
      );
    }
    this.perUser.set(user, count + 1);
  }

  private release(user: string): void {
    const left = (this.perUser.get(user) ?? 1) - 1;
    if (left > 0) this.perUser.set(user, left);
    else this.perUser.delete(user);
  }

  /** The stream's head: its headers and the reconnection delay. */
  private begin(res: ServerResponse, timers: StreamTimers): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    writeOrDrop(
      res,
      Buffer.from(`retry: ${this.options.retryMs}\n\n`),
      this.options.maxBufferedBytes,
    );
    this.open.set(res, timers);
  }

  /**
   * Sends the log after the last event sent, batch by batch, as fast as the client reads:
   * it waits for the queue to drain instead of passing the bound (a client catching up
   * after a long sleep is not cut off for being behind).
   */
  private async replay(
    res: ServerResponse,
    conversations: string[],
    user: string,
    lastSent: () => number,
    send: (event: StoredEvent) => void,
  ): Promise<void> {
    for (;;) {
      const batch = await this.store.eventsAfter(lastSent(), conversations, user, REPLAY_BATCH);
      for (const event of batch) {
        if (!isOpen(res)) return;
        send(event);
        if (res.writableLength > this.options.maxBufferedBytes / 2) await drained(res);
      }
      if (batch.length < REPLAY_BATCH || !isOpen(res)) return;
    }
  }

  /**
   * A graceful stop: every stream gets the frame that sends its client elsewhere at once,
   * then ends (nothing more is sent: the next instance replays the rest). Resolves once all
   * have closed; closeAll drops those whose clients have not read their end meanwhile.
   */
  endAll(): Promise<void> {
    this.stopping = true;
    const closed = [...this.open].map(([res, timers]) => {
      const done = new Promise<void>((resolve) => res.once('close', () => resolve()));
      writeOrDrop(res, RECONNECT_ELSEWHERE, this.options.maxBufferedBytes);
      timers.end();
      return done;
    });
    return Promise.all(closed).then(() => undefined);
  }

  /**
   * Drops every open stream (server shutdown). Destroyed, not ended: a client that stopped
   * reading would otherwise hold its connection open until its buffered events drain.
   */
  closeAll(): void {
    this.stopping = true;
    for (const res of this.open.keys()) {
      res.socket?.destroy();
      res.destroy();
    }
    this.open.clear();
  }

  private frame(event: StoredEvent): Buffer {
    let frame = this.frames.get(event);
    if (frame) return frame;
    const data = eventJson(event, this.signer);
    frame = Buffer.from(`id: ${data.id}\nevent: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
    this.frames.set(event, frame);
    return frame;
  }
}
