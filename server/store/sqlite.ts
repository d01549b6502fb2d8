// The default metadata store and job queue: one SQLite file (better-sqlite3, WAL) in the
// data folder. This file holds members, messages, uploads, videos and the event log; the job
// queue is sqlite-jobs.ts, unsend/retention/erasure sqlite-removal.ts, row mapping rows.ts. better-sqlite3 is synchronous, so each transaction runs to completion without
// interleaving; several rows that change together change in one transaction. A write that
// finds the database locked by another connection waits asynchronously (busy-retry.ts).
import { randomBytes } from 'node:crypto';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { BusyRetry, SYNC_BUSY_WAIT_MS } from './busy-retry.js';
import { UnknownCursorError, VideoTakenError } from './errors.js';
import { migrate } from './migrations.js';
import {
  eventPayload,
  now,
  toEvent,
  toMessage,
  toUpload,
  toVideo,
  type NewEvent,
  type Row,
  type Transact,
} from './rows.js';
import { SqliteJobs } from './sqlite-jobs.js';
import { SqliteRemoval } from './sqlite-removal.js';
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

export class SqliteStore implements MetadataStore {
  private readonly db: Db;
  private readonly sql: ReturnType<typeof statements>;
  private readonly writes: BusyRetry;
  /** The conversion queue, on the same database (PostgreSQL's is PgJobs, on its own). */
  readonly jobs: SqliteJobs;
  readonly removal: SqliteRemoval;

  constructor(
    path: string,
    /** Called after commit with each event the transaction appended. */
    private readonly publish: (event: StoredEvent) => void,
    /** How long a write waits for another connection's lock before it fails (SQLITE_BUSY). */
    options: { busyWaitMs?: number } = {},
  ) {
    this.writes = new BusyRetry(options.busyWaitMs ?? 10_000);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    // Before serving, a wait blocks nothing: the migrations may wait for a lock.
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    // Then it blocks the event loop while it waits: kept short, longer waits are in BusyRetry.
    this.db.pragma(`busy_timeout = ${SYNC_BUSY_WAIT_MS}`);
    this.sql = statements(this.db);
    const transact: Transact = (fn) => this.transact(fn);
    this.jobs = new SqliteJobs(this.db, this.writes, transact);
    this.removal = new SqliteRemoval(this.db, transact);
  }

  /**
   * Runs `fn` in a write transaction (BEGIN IMMEDIATE: the lock is taken first, so a busy
   * database fails before anything ran and the whole of `fn` can run again); events it
   * appends are published after commit.
   */
  private async transact<T>(fn: (append: (event: NewEvent) => void) => T): Promise<T> {
    let appended: StoredEvent[] = [];
    const append = (event: NewEvent) => {
      const { data, subject } = eventPayload(event);
      const info = this.sql.insertEvent.run(
        event.conversation,
        event.audience,
        event.type,
        JSON.stringify(data),
        subject,
        now(),
      );
      appended.push({ ...event, seq: Number(info.lastInsertRowid) } as StoredEvent);
    };
    const result = await this.writes.run(() => {
      appended = [];
      return this.db.transaction(() => fn(append)).immediate();
    });
    // Committed: a subscriber's failure must not look like a failed write to the caller.
    for (const event of appended) {
      try {
        this.publish(event);
      } catch (error) {
        console.error('reelchat: publishing an event failed', error);
      }
    }
    return result;
  }

  async touchMember(user: string, name: string, conversation: string): Promise<void> {
    await this.writes.run(() => this.sql.touchMember.run(conversation, user, name, now()));
  }

  async createMessage(
    message: MessageRecord,
  ): Promise<{ message: MessageRecord; created: boolean }> {
    return this.transact((append) => {
      const earlier = this.sql.messageByClientId.get(message.author, message.clientId) as
        Row | undefined;
      if (earlier) return { message: toMessage(earlier), created: false };
      if (message.video !== null && this.sql.messageByVideo.get(message.video)) {
        throw new VideoTakenError('This video is already attached to another message.');
      }
      this.sql.insertMessage.run(message);
      append({
        type: 'message.created',
        conversation: message.conversation,
        audience: null,
        message,
      });
      return { message, created: true };
    });
  }

  async messageByClientId(author: string, clientId: string): Promise<MessageRecord | undefined> {
    const row = this.sql.messageByClientId.get(author, clientId) as Row | undefined;
    return row && toMessage(row);
  }

  async listMessages(
    conversation: string,
    options: { after?: string; before?: string; limit: number },
  ): Promise<MessagePage> {
    const seqOf = (id: string | undefined): number | undefined => {
      if (id === undefined) return undefined;
      const row = this.sql.messageSeq.get(id, conversation) as { seq: number } | undefined;
      if (!row) throw new UnknownCursorError(`No message ${id} in this conversation.`);
      return row.seq;
    };
    const after = seqOf(options.after);
    const before = seqOf(options.before) ?? Number.MAX_SAFE_INTEGER;
    const { limit } = options;
    if (after !== undefined) {
      // Forward: catching up from a known message.
      const rows = this.sql.messagesAfter.all(conversation, after, before, limit + 1) as Row[];
      const messages = rows.slice(0, limit).map(toMessage);
      return { messages, next: rows.length > limit ? messages.at(-1)!.id : null };
    }
    // Backward: the newest `limit` before the cursor, returned oldest first.
    const rows = this.sql.messagesNewest.all(conversation, before, limit + 1) as Row[];
    const messages = rows.slice(0, limit).map(toMessage).reverse();
    return { messages, next: rows.length > limit ? messages[0]!.id : null };
  }

  async messageWithVideo(videoId: string): Promise<MessageRecord | undefined> {
    const row = this.sql.messageByVideo.get(videoId) as Row | undefined;
    return row && toMessage(row);
  }

  async createUpload(
    upload: NewUpload,
  ): Promise<{ created: true } | { created: false; existing: string }> {
    return this.transact(() => {
      const existing = this.sql.uploadByClientId.get(upload.owner, upload.clientId) as
        { id: string } | undefined;
      if (existing) return { created: false as const, existing: existing.id };
      this.sql.insertUpload.run({ ...upload, live: upload.live ? 1 : 0 });
      this.sql.insertVideo.run({ ...upload, liveAt: upload.live ? upload.createdAt : null });
      return { created: true as const };
    });
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const row = this.sql.uploadById.get(id) as Row | undefined;
    return row && toUpload(row);
  }

  async completeUpload(id: string, size: number): Promise<VideoRecord | undefined> {
    return this.transact((append) => {
      if (this.sql.completeUpload.run(size, id).changes === 0) return undefined;
      this.sql.insertJob.run(id, Date.now());
      const video = this.videoNow(id);
      // A live take stays live until ready: nothing new to announce.
      if (video && video.state !== 'live') append(this.videoUpdated(video));
      return video;
    });
  }

  async deleteUpload(id: string): Promise<void> {
    await this.transact(() => {
      this.sql.deleteJob.run(id);
      this.sql.deleteVideo.run(id);
      this.sql.deleteUpload.run(id);
    });
  }

  async expireUpload(id: string, reason: string): Promise<VideoRecord | undefined> {
    return this.transact((append) => {
      this.sql.deleteUpload.run(id);
      this.sql.deleteJob.run(id);
      if (!this.sql.messageByVideo.get(id)) {
        this.sql.deleteVideo.run(id);
        return undefined;
      }
      this.sql.videoFailed.run(reason, id);
      const video = this.videoNow(id);
      if (video) append(this.videoUpdated(video));
      return video;
    });
  }

  async staleUploads(createdBefore: string): Promise<UploadRecord[]> {
    return (this.sql.staleUploads.all(createdBefore) as Row[]).map(toUpload);
  }

  async unfinishedUploads(owner: string): Promise<UploadRecord[]> {
    return (this.sql.unfinishedUploads.all(owner) as Row[]).map(toUpload);
  }

  async storedBytes(owner: string): Promise<number> {
    return (this.sql.storedBytes.get(owner) as { bytes: number }).bytes;
  }

  async getVideo(id: string): Promise<VideoRecord | undefined> {
    return this.videoNow(id);
  }

  async listSharedVideos(
    conversation: string,
    options: { owner?: string; after?: string; before?: string; limit: number },
  ): Promise<VideoPage> {
    const seqOf = (id: string | undefined): number | undefined => {
      if (id === undefined) return undefined;
      const row = this.sql.sharedVideoSeq.get(id, conversation) as { seq: number } | undefined;
      if (!row) throw new UnknownCursorError(`No shared video ${id} in this conversation.`);
      return row.seq;
    };
    const after = seqOf(options.after);
    const before = seqOf(options.before) ?? Number.MAX_SAFE_INTEGER;
    const owner = options.owner ?? null;
    const { limit } = options;
    if (after !== undefined) {
      const rows = this.sql.sharedVideosAfter.all(
        conversation,
        after,
        before,
        owner,
        owner,
        limit + 1,
      ) as Row[];
      const videos = rows.slice(0, limit).map(toVideo);
      return { videos, next: rows.length > limit ? videos.at(-1)!.id : null };
    }
    const rows = this.sql.sharedVideosNewest.all(
      conversation,
      before,
      owner,
      owner,
      limit + 1,
    ) as Row[];
    const videos = rows.slice(0, limit).map(toVideo).reverse();
    return { videos, next: rows.length > limit ? videos[0]!.id : null };
  }

  async markVideoReady(id: string, meta: ReadyMeta): Promise<VideoRecord | undefined> {
    return this.transact((append) => {
      this.sql.deleteJob.run(id);
      const changed = this.sql.videoReady.run({
        id,
        duration: meta.duration,
        width: meta.width,
        height: meta.height,
        bytes: meta.bytes,
        sha256: meta.sha256,
        videoCodec: meta.videoCodec,
        audioCodec: meta.audioCodec,
        readyAt: now(),
      }).changes;
      const video = this.videoNow(id);
      if (changed && video) append(this.videoUpdated(video));
      return changed ? video : undefined;
    });
  }

  async markVideoFailed(id: string, reason: string): Promise<VideoRecord | undefined> {
    return this.transact((append) => {
      this.sql.deleteJob.run(id);
      const changed = this.sql.videoFailed.run(reason, id).changes;
      const video = this.videoNow(id);
      if (changed && video) append(this.videoUpdated(video));
      return changed ? video : undefined;
    });
  }

  async markVideoLive(id: string): Promise<VideoRecord | undefined> {
    return this.transact((append) => {
      const changed = this.sql.videoLive.run(now(), id).changes;
      const video = this.videoNow(id);
      if (changed && video) append(this.videoUpdated(video));
      return changed ? video : undefined;
    });
  }

  async eventsAfter(
    seq: number,
    conversations: string[],
    user: string,
    limit: number,
  ): Promise<StoredEvent[]> {
    const rows = this.sql.eventsAfter.all(seq, JSON.stringify(conversations), user, limit) as Row[];
    return rows.map(toEvent);
  }

  async secret(name: string): Promise<Buffer> {
    await this.writes.run(() => this.sql.insertSecret.run(name, randomBytes(32)));
    return (this.sql.secret.get(name) as { value: Buffer }).value;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /**
   * The video.updated event of a video's current state. Until the video is attached to a
   * message only its owner may see it (a clip recorded and then dropped stays private), so
   * its events go to the owner alone; the attaching message.created tells the others.
   */
  private videoUpdated(video: VideoRecord): NewEvent {
    const attached = this.sql.messageByVideo.get(video.id) !== undefined;
    return {
      type: 'video.updated',
      conversation: video.conversation,
      audience: attached ? null : video.owner,
      video,
    };
  }

  private videoNow(id: string): VideoRecord | undefined {
    const row = this.sql.videoById.get(id) as Row | undefined;
    return row && toVideo(row);
  }
}

/** The store's statements, prepared once. */
function statements(db: Db) {
  const p = (sql: string) => db.prepare(sql);
  return {
    ...messageStatements(p),
    ...uploadStatements(p),
    ...videoStatements(p),
    ...logStatements(p),
  };
}

type Prepare = (sql: string) => Statement;

/** Members and messages. */
function messageStatements(p: Prepare) {
  return {
    touchMember: p(`INSERT INTO members (conversation, user, name, last_seen) VALUES (?, ?, ?, ?)
      ON CONFLICT (conversation, user) DO UPDATE SET name = excluded.name, last_seen = excluded.last_seen`),
    messageByClientId: p('SELECT * FROM messages WHERE author = ? AND client_id = ?'),
    messageByVideo: p('SELECT * FROM messages WHERE video = ?'),
    messageSeq: p('SELECT seq FROM messages WHERE id = ? AND conversation = ?'),
    insertMessage:
      p(`INSERT INTO messages (id, conversation, client_id, author, author_name, text, video, created_at)
      VALUES (@id, @conversation, @clientId, @author, @authorName, @text, @video, @createdAt)`),
    messagesNewest: p(
      `SELECT * FROM messages WHERE conversation = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    ),
    messagesAfter: p(
      `SELECT * FROM messages WHERE conversation = ? AND seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?`,
    ),
  };
}

/** Uploads, the videos they become, and the bytes an owner stores. */
function uploadStatements(p: Prepare) {
  return {
    uploadById: p('SELECT * FROM uploads WHERE id = ?'),
    uploadByClientId: p('SELECT id FROM uploads WHERE owner = ? AND client_id = ?'),
    insertUpload:
      p(`INSERT INTO uploads (id, owner, conversation, client_id, filetype, created_at, live)
      VALUES (@id, @owner, @conversation, @clientId, @filetype, @createdAt, @live)`),
    // A take shared while recorded is `live` from its creation (live_at, rows.ts).
    insertVideo: p(`INSERT INTO videos (id, owner, conversation, state, created_at, live_at)
      VALUES (@id, @owner, @conversation, 'processing', @createdAt, @liveAt)`),
    completeUpload: p('UPDATE uploads SET complete = 1, size = ? WHERE id = ? AND complete = 0'),
    deleteUpload: p('DELETE FROM uploads WHERE id = ?'),
    deleteVideo: p('DELETE FROM videos WHERE id = ?'),
    staleUploads: p('SELECT * FROM uploads WHERE complete = 0 AND created_at < ?'),
    unfinishedUploads: p('SELECT * FROM uploads WHERE owner = ? AND complete = 0'),
    storedBytes: p(`SELECT COALESCE(SUM(CASE WHEN v.state = 'ready' THEN COALESCE(v.bytes, 0)
      WHEN u.complete = 1 THEN COALESCE(u.size, 0) ELSE 0 END), 0) AS bytes
      FROM videos v LEFT JOIN uploads u ON u.id = v.id WHERE v.owner = ? AND v.state != 'failed'`),
  };
}

/** Videos: found, listed as shared in a conversation, and their outcome. */
function videoStatements(p: Prepare) {
  return {
    videoById: p('SELECT * FROM videos WHERE id = ?'),
    // Shared videos in message order; `m.video IS NOT NULL` lets the partial index skip text.
    sharedVideoSeq: p(
      'SELECT seq FROM messages WHERE video = ? AND conversation = ? AND video IS NOT NULL',
    ),
    sharedVideosNewest: p(`SELECT v.* FROM messages m JOIN videos v ON v.id = m.video
      WHERE m.conversation = ? AND m.video IS NOT NULL AND m.seq < ? AND v.conversation = m.conversation
      AND v.state = 'ready' AND (? IS NULL OR v.owner = ?) ORDER BY m.seq DESC LIMIT ?`),
    sharedVideosAfter: p(`SELECT v.* FROM messages m JOIN videos v ON v.id = m.video
      WHERE m.conversation = ? AND m.video IS NOT NULL AND m.seq > ? AND m.seq < ? AND v.conversation = m.conversation
      AND v.state = 'ready' AND (? IS NULL OR v.owner = ?) ORDER BY m.seq ASC LIMIT ?`),
    videoReady:
      p(`UPDATE videos SET state = 'ready', reason = NULL, duration = @duration, width = @width,
      height = @height, bytes = @bytes, sha256 = @sha256, video_codec = @videoCodec, audio_codec = @audioCodec, ready_at = @readyAt
      WHERE id = @id AND state = 'processing'`),
    videoLive: p(
      `UPDATE videos SET live_at = ? WHERE id = ? AND state = 'processing' AND live_at IS NULL`,
    ),
    videoFailed: p(
      `UPDATE videos SET state = 'failed', reason = ? WHERE id = ? AND state = 'processing'`,
    ),
  };
}

/** The event log, the settings (secrets) and the job queue. */
function logStatements(p: Prepare) {
  return {
    insertEvent: p(
      'INSERT INTO events (conversation, audience, type, data, subject, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    eventsAfter:
      p(`SELECT * FROM events WHERE seq > ? AND conversation IN (SELECT value FROM json_each(?))
      AND (audience IS NULL OR audience = ?) ORDER BY seq LIMIT ?`),
    secret: p('SELECT value FROM settings WHERE name = ?'),
    insertSecret: p('INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)'),
    insertJob: p(
      `INSERT OR IGNORE INTO jobs (video_id, state, attempts, run_at) VALUES (?, 'queued', 0, ?)`,
    ),
    deleteJob: p('DELETE FROM jobs WHERE video_id = ?'),
  };
}
