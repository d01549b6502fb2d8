// The metadata store on PostgreSQL (scaled mode, REELCHAT_DATABASE_URL): SqliteStore's
// contract and semantics, shared by several instances. Each method is one transaction
// (READ COMMITTED, retried on deadlock by PgDatabase). Messages and events are numbered
// under the ordering lock (postgres-log.ts) so readers paging by number miss nothing; the
// job queue on the same tables is postgres-jobs.ts, unsend/retention/erasure
// postgres-removal.ts. Where SQLite relied on its one writer at a time, the statements here
// either lock the row they change (UPDATE … WHERE state = …) or re-check under the lock.
import { randomBytes } from 'node:crypto';
import type { PgDatabase, Sql } from './pg-database.js';
import { PgRemoval } from './postgres-removal.js';
import { TransactionLog } from './postgres-log.js';
import { STORE_MIGRATIONS } from './postgres-schema.js';
import { now, toEvent, toMessage, toUpload, toVideo, type Row } from './rows.js';
import { UnknownCursorError, VideoTakenError } from './errors.js';
import {
  type MessagePage,
  type MessageRecord,
  type MetadataStore,
  type NewUpload,
  type ReadyMeta,
  type StoredEvent,
  type UploadRecord,
  type VideoPage,
  type VideoRecord,
} from './types.js';

/** Runs `work` in one transaction whose appended events are numbered at its end. */
export type PgTransact = <T>(work: (tx: Sql, log: TransactionLog) => Promise<T>) => Promise<T>;

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

export class PgStore implements MetadataStore {
  readonly removal: PgRemoval;

  private constructor(
    private readonly db: PgDatabase,
    private readonly publish: (event: StoredEvent) => void,
  ) {
    this.removal = new PgRemoval(db, (work) => this.transact(work));
  }

  /**
   * Migrates the schema (safe when several instances start at once) and opens the store on
   * `db`, which stays the caller's to close. `publish` hears each event after its commit —
   * in scaled mode only a nudge for the local PgFanout, which reads the log itself.
   */
  static async open(
    db: PgDatabase,
    publish: (event: StoredEvent) => void = () => undefined,
  ): Promise<PgStore> {
    await db.migrate(STORE_MIGRATIONS);
    return new PgStore(db, publish);
  }

  private async transact<T>(work: (tx: Sql, log: TransactionLog) => Promise<T>): Promise<T> {
    let log!: TransactionLog;
    const result = await this.db.transaction(async (tx) => {
      log = new TransactionLog(tx);
      const value = await work(tx, log);
      await log.flush();
      return value;
    });
    for (const event of log.appended) {
      try {
        this.publish(event);
      } catch (error) {
        console.error('reelchat: publishing an event failed', error);
      }
    }
    return result;
  }

  async touchMember(user: string, name: string, conversation: string): Promise<void> {
    await this.db.query(
      `INSERT INTO members (conversation, user_id, name, last_seen) VALUES ($1, $2, $3, $4)
       ON CONFLICT (conversation, user_id) DO UPDATE SET name = excluded.name, last_seen = excluded.last_seen`,
      [conversation, user, name, now()],
    );
  }

  async createMessage(
    message: MessageRecord,
  ): Promise<{ message: MessageRecord; created: boolean }> {
    return this.transact(async (tx, log) => {
      // Checked first without the lock (a client's retry usually ends here), then enforced
      // under it by the unique keys: a message committed meanwhile makes the insert do nothing.
      const earlier = await this.messageByClientIdIn(tx, message.author, message.clientId);
      if (earlier) return { message: earlier, created: false };
      await assertVideoFree(tx, message.video);
      await log.lock();
      const inserted = await tx.query(
        `INSERT INTO messages (seq, id, conversation, client_id, author, author_name, text, video, created_at)
         VALUES (nextval('messages_seq'), $1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT DO NOTHING RETURNING seq`,
        [
          message.id,
          message.conversation,
          message.clientId,
          message.author,
          message.authorName,
          message.text,
          message.video,
          message.createdAt,
        ],
      );
      if (inserted.length === 0) {
        const raced = await this.messageByClientIdIn(tx, message.author, message.clientId);
        if (raced) return { message: raced, created: false };
        await assertVideoFree(tx, message.video);
        throw new Error(`A message with the id ${message.id} exists already.`);
      }
      log.append({
        type: 'message.created',
        conversation: message.conversation,
        audience: null,
        message,
      });
      return { message, created: true };
    });
  }

  messageByClientId(author: string, clientId: string): Promise<MessageRecord | undefined> {
    return this.messageByClientIdIn(this.db, author, clientId);
  }

  private async messageByClientIdIn(
    sql: Sql,
    author: string,
    clientId: string,
  ): Promise<MessageRecord | undefined> {
    const [row] = await sql.query<Row>(
      'SELECT * FROM messages WHERE author = $1 AND client_id = $2',
      [author, clientId],
    );
    return row && toMessage(row);
  }

  async listMessages(
    conversation: string,
    options: { after?: string; before?: string; limit: number },
  ): Promise<MessagePage> {
    const seqOf = async (id: string | undefined): Promise<number | undefined> => {
      if (id === undefined) return undefined;
      const [row] = await this.db.query<{ seq: number }>(
        'SELECT seq FROM messages WHERE id = $1 AND conversation = $2',
        [id, conversation],
      );
      if (!row) throw new UnknownCursorError(`No message ${id} in this conversation.`);
      return row.seq;
    };
    const after = await seqOf(options.after);
    const before = (await seqOf(options.before)) ?? MAX_SEQ;
    const { limit } = options;
    if (after !== undefined) {
      const rows = await this.db.query<Row>(
        `SELECT * FROM messages WHERE conversation = $1 AND seq > $2 AND seq < $3
         ORDER BY seq ASC LIMIT $4`,
        [conversation, after, before, limit + 1],
      );
      const messages = rows.slice(0, limit).map(toMessage);
      return { messages, next: rows.length > limit ? messages.at(-1)!.id : null };
    }
    const rows = await this.db.query<Row>(
      `SELECT * FROM messages WHERE conversation = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`,
      [conversation, before, limit + 1],
    );
    const messages = rows.slice(0, limit).map(toMessage).reverse();
    return { messages, next: rows.length > limit ? messages[0]!.id : null };
  }

  async messageWithVideo(videoId: string): Promise<MessageRecord | undefined> {
    const [row] = await this.db.query<Row>('SELECT * FROM messages WHERE video = $1', [videoId]);
    return row && toMessage(row);
  }

  async createUpload(
    upload: NewUpload,
  ): Promise<{ created: true } | { created: false; existing: string }> {
    return this.transact(async (tx) => {
      // Two creations with one clientId at once: the unique key makes the second wait for
      // the first, insert nothing, and name the first's upload.
      const inserted = await tx.query(
        `INSERT INTO uploads (id, owner, conversation, client_id, filetype, created_at, live)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (owner, client_id) DO NOTHING RETURNING id`,
        [
          upload.id,
          upload.owner,
          upload.conversation,
          upload.clientId,
          upload.filetype,
          upload.createdAt,
          upload.live ? 1 : 0,
        ],
      );
      if (inserted.length === 0) {
        const [existing] = await tx.query<{ id: string }>(
          'SELECT id FROM uploads WHERE owner = $1 AND client_id = $2',
          [upload.owner, upload.clientId],
        );
        return { created: false as const, existing: existing!.id };
      }
      await tx.query(
        // A take shared while recorded is `live` from its creation (live_at, rows.ts).
        `INSERT INTO videos (id, owner, conversation, state, created_at, live_at)
         VALUES ($1, $2, $3, 'processing', $4, $5)`,
        [
          upload.id,
          upload.owner,
          upload.conversation,
          upload.createdAt,
          upload.live ? upload.createdAt : null,
        ],
      );
      return { created: true as const };
    });
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const [row] = await this.db.query<Row>('SELECT * FROM uploads WHERE id = $1', [id]);
    return row && toUpload(row);
  }

  async completeUpload(id: string, size: number): Promise<VideoRecord | undefined> {
    return this.transact(async (tx, log) => {
      const changed = await tx.query(
        'UPDATE uploads SET complete = 1, size = $1 WHERE id = $2 AND complete = 0 RETURNING id',
        [size, id],
      );
      if (changed.length === 0) return undefined;
      // The job, in the same transaction as the completion (postgres-jobs.ts claims it).
      await tx.query(
        `INSERT INTO jobs (video_id, state, attempts, run_at) VALUES ($1, 'queued', 0, $2)
         ON CONFLICT (video_id) DO NOTHING`,
        [id, Date.now()],
      );
      const video = await videoIn(tx, id);
      // A live take stays live until ready: nothing new to announce.
      if (video && video.state !== 'live') log.appendVideoUpdated(video);
      return video;
    });
  }

  async deleteUpload(id: string): Promise<void> {
    await this.transact(async (tx) => {
      await tx.query('DELETE FROM jobs WHERE video_id = $1', [id]);
      await tx.query('DELETE FROM videos WHERE id = $1', [id]);
      await tx.query('DELETE FROM uploads WHERE id = $1', [id]);
    });
  }

  async expireUpload(id: string, reason: string): Promise<VideoRecord | undefined> {
    return this.transact(async (tx, log) => {
      await tx.query('DELETE FROM uploads WHERE id = $1', [id]);
      await tx.query('DELETE FROM jobs WHERE video_id = $1', [id]);
      // Under the lock: a message attaching the video meanwhile is seen (or comes after).
      await log.lock();
      const attached = await tx.query('SELECT 1 FROM messages WHERE video = $1', [id]);
      if (attached.length === 0) {
        await tx.query('DELETE FROM videos WHERE id = $1', [id]);
        return undefined;
      }
      await tx.query(
        `UPDATE videos SET state = 'failed', reason = $1 WHERE id = $2 AND state = 'processing'`,
        [reason, id],
      );
      const video = await videoIn(tx, id);
      if (video) log.appendVideoUpdated(video);
      return video;
    });
  }

  async staleUploads(createdBefore: string): Promise<UploadRecord[]> {
    const rows = await this.db.query<Row>(
      'SELECT * FROM uploads WHERE complete = 0 AND created_at < $1',
      [createdBefore],
    );
    return rows.map(toUpload);
  }

  async unfinishedUploads(owner: string): Promise<UploadRecord[]> {
    const rows = await this.db.query<Row>(
      'SELECT * FROM uploads WHERE owner = $1 AND complete = 0',
      [owner],
    );
    return rows.map(toUpload);
  }

  async storedBytes(owner: string): Promise<number> {
    const [row] = await this.db.query<{ bytes: string | number }>(
      `SELECT COALESCE(SUM(CASE WHEN v.state = 'ready' THEN COALESCE(v.bytes, 0)
         WHEN u.complete = 1 THEN COALESCE(u.size, 0) ELSE 0 END), 0) AS bytes
       FROM videos v LEFT JOIN uploads u ON u.id = v.id WHERE v.owner = $1 AND v.state != 'failed'`,
      [owner],
    );
    // SUM of bigint is numeric, which the driver hands over as text.
    return Number(row!.bytes);
  }

  getVideo(id: string): Promise<VideoRecord | undefined> {
    return videoIn(this.db, id);
  }

  async listSharedVideos(
    conversation: string,
    options: { owner?: string; after?: string; before?: string; limit: number },
  ): Promise<VideoPage> {
    const seqOf = async (id: string | undefined): Promise<number | undefined> => {
      if (id === undefined) return undefined;
      const [row] = await this.db.query<{ seq: number }>(
        'SELECT seq FROM messages WHERE video = $1 AND conversation = $2 AND video IS NOT NULL',
        [id, conversation],
      );
      if (!row) throw new UnknownCursorError(`No shared video ${id} in this conversation.`);
      return row.seq;
    };
    const after = await seqOf(options.after);
    const before = (await seqOf(options.before)) ?? MAX_SEQ;
    const owner = options.owner ?? null;
    const { limit } = options;
    const shared = `SELECT v.* FROM messages m JOIN videos v ON v.id = m.video
      WHERE m.conversation = $1 AND m.video IS NOT NULL AND m.seq > $2 AND m.seq < $3
      AND v.conversation = m.conversation AND v.state = 'ready'
      AND ($4::text IS NULL OR v.owner = $4)`;
    if (after !== undefined) {
      const rows = await this.db.query<Row>(`${shared} ORDER BY m.seq ASC LIMIT $5`, [
        conversation,
        after,
        before,
        owner,
        limit + 1,
      ]);
      const videos = rows.slice(0, limit).map(toVideo);
      return { videos, next: rows.length > limit ? videos.at(-1)!.id : null };
    }
    const rows = await this.db.query<Row>(`${shared} ORDER BY m.seq DESC LIMIT $5`, [
      conversation,
      0,
      before,
      owner,
      limit + 1,
    ]);
    const videos = rows.slice(0, limit).map(toVideo).reverse();
    return { videos, next: rows.length > limit ? videos[0]!.id : null };
  }

  async markVideoReady(id: string, meta: ReadyMeta): Promise<VideoRecord | undefined> {
    return this.transact(async (tx, log) => {
      await tx.query('DELETE FROM jobs WHERE video_id = $1', [id]);
      // The row lock makes a second worker's UPDATE wait, then find the state changed.
      const changed = await tx.query(
        `UPDATE videos SET state = 'ready', reason = NULL, duration = $2, width = $3, height = $4,
           bytes = $5, sha256 = $6, video_codec = $7, audio_codec = $8, ready_at = $9
         WHERE id = $1 AND state = 'processing' RETURNING id`,
        [
          id,
          meta.duration,
          meta.width,
          meta.height,
          meta.bytes,
          meta.sha256,
          meta.videoCodec,
          meta.audioCodec,
          now(),
        ],
      );
      if (changed.length === 0) return undefined;
      const video = await videoIn(tx, id);
      if (video) log.appendVideoUpdated(video);
      return video;
    });
  }

  async markVideoFailed(id: string, reason: string): Promise<VideoRecord | undefined> {
    return this.transact(async (tx, log) => {
      await tx.query('DELETE FROM jobs WHERE video_id = $1', [id]);
      const changed = await tx.query(
        `UPDATE videos SET state = 'failed', reason = $1 WHERE id = $2 AND state = 'processing'
         RETURNING id`,
        [reason, id],
      );
      if (changed.length === 0) return undefined;
      const video = await videoIn(tx, id);
      if (video) log.appendVideoUpdated(video);
      return video;
    });
  }

  async markVideoLive(id: string): Promise<VideoRecord | undefined> {
    return this.transact(async (tx, log) => {
      const changed = await tx.query(
        `UPDATE videos SET live_at = $1 WHERE id = $2 AND state = 'processing' AND live_at IS NULL
         RETURNING id`,
        [now(), id],
      );
      if (changed.length === 0) return undefined;
      const video = await videoIn(tx, id);
      if (video) log.appendVideoUpdated(video);
      return video;
    });
  }

  async eventsAfter(
    seq: number,
    conversations: string[],
    user: string,
    limit: number,
  ): Promise<StoredEvent[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM events WHERE seq > $1 AND conversation = ANY($2::text[])
       AND (audience IS NULL OR audience = $3) ORDER BY seq LIMIT $4`,
      [seq, conversations, user, limit],
    );
    return rows.map(toEvent);
  }

  /** Every event after `seq`, of every conversation and audience, oldest first (the fan-out). */
  async eventsSince(seq: number, limit: number): Promise<StoredEvent[]> {
    const rows = await this.db.query<Row>(
      'SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2',
      [seq, limit],
    );
    return rows.map(toEvent);
  }

  /** The newest event's seq (0 when none): where a fan-out starting now begins. */
  async headSeq(): Promise<number> {
    const [row] = await this.db.query<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM events');
    return row?.seq ?? 0;
  }

  async secret(name: string): Promise<Buffer> {
    await this.db.query(
      'INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
      [name, randomBytes(32)],
    );
    const [row] = await this.db.query<{ value: Buffer }>(
      'SELECT value FROM settings WHERE name = $1',
      [name],
    );
    return row!.value;
  }

  /** The database is whoever connected it's to close (server/backends.ts). */
  async close(): Promise<void> {}
}

async function assertVideoFree(sql: Sql, video: string | null): Promise<void> {
  if (video === null) return;
  const taken = await sql.query('SELECT 1 FROM messages WHERE video = $1', [video]);
  if (taken.length > 0) {
    throw new VideoTakenError('This video is already attached to another message.');
  }
}

export async function videoIn(sql: Sql, id: string): Promise<VideoRecord | undefined> {
  const [row] = await sql.query<Row>('SELECT * FROM videos WHERE id = $1', [id]);
  return row && toVideo(row);
}
