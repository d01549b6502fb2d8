// Event fan-out across server instances (scaled mode). The log in PostgreSQL is the
// channel: each instance's PgFanout reads the events after the last one it delivered, in
// seq order, and hands them to its local listeners (the SSE streams) — every event once,
// none skipped, since the store numbers events in commit order (store/postgres-log.ts).
//
// It reads when the doorbell rings (NOTIFY reelchat_events, sent by each appending
// transaction on commit, carrying only the new head), when the local store just committed
// (publish), after the LISTEN connection came back (notifications sent meanwhile are lost),
// and every `pollMs` anyway, so a lost doorbell costs latency, never events.
import type { PgDatabase } from '../store/pg-database.js';
import { EVENTS_CHANNEL } from '../store/postgres-log.js';
import type { StoredEvent } from '../store/types.js';
import type { EventFanout, EventListener } from './fanout.js';

/** What the fan-out reads: PgStore's whole log, in order. */
export interface EventLogReader {
  eventsSince(seq: number, limit: number): Promise<StoredEvent[]>;
  headSeq(): Promise<number>;
}

export interface PgFanoutOptions {
  /** The safety poll (default 2 s). */
  pollMs?: number;
  /** Events read at once (default 500). */
  batch?: number;
}

export class PgFanout implements EventFanout {
  private readonly listeners = new Set<EventListener>();
  private delivered: number;
  private reading: Promise<void> | undefined;
  private again = false;
  private stopListening: (() => Promise<void>) | undefined;
  private readonly poll: NodeJS.Timeout;
  private closed = false;
  private readonly batch: number;

  private constructor(
    private readonly log: EventLogReader,
    head: number,
    options: PgFanoutOptions,
  ) {
    this.delivered = head;
    this.batch = options.batch ?? 500;
    this.poll = setInterval(() => this.poke(), options.pollMs ?? 2_000);
    this.poll.unref();
  }

  /** Starts at the log's head now: listeners hear what is appended from here on. */
  static async start(
    db: PgDatabase,
    log: EventLogReader,
    options: PgFanoutOptions = {},
  ): Promise<PgFanout> {
    const fanout = new PgFanout(log, await log.headSeq(), options);
    try {
      fanout.stopListening = await db.listen(
        EVENTS_CHANNEL,
        () => fanout.poke(),
        () => fanout.poke(),
      );
    } catch (error) {
      await fanout.close();
      throw error;
    }
    // Appended between reading the head and listening: the doorbell may have rung unheard.
    fanout.poke();
    return fanout;
  }

  /** The local store committed this event: read the log now instead of waiting for the doorbell. */
  publish(_event: StoredEvent): void {
    this.poke();
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last seq handed to the listeners. */
  get position(): number {
    return this.delivered;
  }

  /** Resolves once what was committed before the call has been delivered (tests, shutdown). */
  async caughtUp(): Promise<void> {
    this.poke();
    while (this.reading) await this.reading;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poll);
    await this.stopListening?.();
    await this.reading;
  }

  /** Reads (one read at a time; a poke during one makes another follow it). */
  private poke(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readAll()
      .catch((error: unknown) => {
        // The poll tries again; nothing was delivered past what was read.
        console.error('reelchat: reading the event log for the fan-out failed', error);
      })
      .finally(() => {
        this.reading = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async readAll(): Promise<void> {
    for (;;) {
      const events = await this.log.eventsSince(this.delivered, this.batch);
      for (const event of events) {
        if (this.closed || event.seq <= this.delivered) continue;
        this.delivered = event.seq;
        this.deliver(event);
      }
      if (events.length < this.batch || this.closed) return;
    }
  }

  private deliver(event: StoredEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        console.error('reelchat: an event listener failed', error);
      }
    }
  }
}
