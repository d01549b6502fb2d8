// The event log and message order on PostgreSQL, across instances.
//
// Readers page by number: the SSE replay reads events with seq > Last-Event-ID, the fan-out
// reads events after the last it delivered, clients catch up on messages with `after=`. A
// plain bigserial breaks that under concurrent writers: numbers are drawn when a row is
// inserted but become visible when its transaction commits, so 41 can commit after 42 and
// a reader that already went past 42 never sees 41 (measured: 25–32 of 202 events lost).
//
// The single-writer rule: every transaction that creates a message or appends an event
// takes one transaction-level advisory lock (ORDER_LOCK) right before numbering those rows,
// after all its other writes, and keeps it until it commits. Numbers are drawn only under
// the lock, so the holders number and commit one after another: commit order is number
// order, and a reader that sees N has every number below N that will ever commit (a rolled
// back transaction leaves a gap nobody waits for). PostgreSQL releases transaction locks
// after the commit is visible, so the next holder's rows are always later. Taking the lock
// last keeps it held briefly (an insert or two, then COMMIT): ~500 messages/s measured from
// three pools at once on a loaded 2-core machine, the limit of one ordered log.
//
// The same transaction rings the doorbell: pg_notify('reelchat_events', head), delivered on
// commit to every instance's PgFanout, which then reads the rows (the payload is tiny).
import type { Sql } from './pg-database.js';
import { eventPayload, now, type NewEvent } from './rows.js';
import type { StoredEvent, VideoRecord } from './types.js';

/** Key of the advisory lock that orders messages and events (a constant, the same everywhere). */
export const ORDER_LOCK = 7_311_020_002;
export const EVENTS_CHANNEL = 'reelchat_events';

/** An event to append; a video.updated's audience is decided under the lock (see below). */
interface Pending {
  event: NewEvent;
  /** A video.updated whose audience is decided when it is numbered. */
  decide?: VideoRecord;
}

/** One transaction's appends: collected while it runs, numbered at its end. */
export class TransactionLog {
  private readonly pending: Pending[] = [];
  private locked = false;
  readonly appended: StoredEvent[] = [];

  constructor(private readonly tx: Sql) {}

  append(event: NewEvent): void {
    this.pending.push({ event });
  }

  /**
   * A video's video.updated: for the whole conversation once the video is attached to a
   * message, else for its owner alone. Attaching happens only under the lock, so deciding
   * there matches the event's place in the log (a message created just before it is seen).
   */
  appendVideoUpdated(video: VideoRecord): void {
    const event: NewEvent = {
      type: 'video.updated',
      conversation: video.conversation,
      audience: null,
      video,
    };
    this.pending.push({ event, decide: video });
  }

  /**
   * Takes the ordering lock (once per transaction): call right before numbering rows —
   * nextval('messages_seq') and nextval('events_seq') are drawn nowhere else.
   */
  async lock(): Promise<void> {
    if (this.locked) return;
    await this.tx.query('SELECT pg_advisory_xact_lock($1)', [ORDER_LOCK]);
    this.locked = true;
  }

  /** Numbers and inserts the pending events, and rings the doorbell; the transaction's last step. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    await this.lock();
    const createdAt = now();
    for (const { event: pending, decide } of this.pending) {
      const event: NewEvent = decide
        ? { ...pending, audience: (await this.attached(decide)) ? null : decide.owner }
        : pending;
      const { data, subject } = eventPayload(event);
      const [row] = await this.tx.query<{ seq: number }>(
        `INSERT INTO events (seq, conversation, audience, type, data, subject, created_at)
         VALUES (nextval('events_seq'), $1, $2, $3, $4, $5, $6) RETURNING seq`,
        [event.conversation, event.audience, event.type, JSON.stringify(data), subject, createdAt],
      );
      this.appended.push({ ...event, seq: row!.seq } as StoredEvent);
    }
    this.pending.length = 0;
    await this.tx.query('SELECT pg_notify($1, $2)', [
      EVENTS_CHANNEL,
      String(this.appended.at(-1)!.seq),
    ]);
  }

  private async attached(video: VideoRecord): Promise<boolean> {
    const rows = await this.tx.query('SELECT 1 FROM messages WHERE video = $1', [video.id]);
    return rows.length > 0;
  }
}
