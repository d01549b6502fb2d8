// What takes data away again, on SqliteStore's database: unsend (deleteMessage), the
// watched marks that go with videos, retention (expireBefore) and erasure (eraseUser).
// A video removed here loses all its rows in the same transaction as its message; the
// caller then removes its files (media, upload bytes), which nothing can reach any more.
import type { Database as Db } from 'better-sqlite3';
import { now, toMessage, type Row, type Transact } from './rows.js';
import {
  RETENTION_BATCH,
  type DeleteOutcome,
  type ErasureReport,
  type MessageRecord,
  type RemovalStore,
  type RetentionReport,
  type VideoRecord,
  type WatchRecord,
} from './types.js';

export class SqliteRemoval implements RemovalStore {
  private readonly sql;

  constructor(
    private readonly db: Db,
    private readonly transact: Transact,
  ) {
    const p = (sql: string) => db.prepare(sql);
    const ids = 'SELECT value FROM json_each(?)';
    this.sql = {
      message: p('SELECT * FROM messages WHERE id = ? AND conversation = ?'),
      unsend: p('UPDATE messages SET text = NULL, video = NULL, deleted_at = ? WHERE id = ?'),
      deleteMessage: p('DELETE FROM messages WHERE id = ?'),
      // A message's earlier events now tell only what is left of it.
      rewriteCreated: p(
        `UPDATE events SET data = ? WHERE subject = ? AND type = 'message.created'`,
      ),
      eventsAbout: p('DELETE FROM events WHERE subject = ?'),
      deleteJob: p('DELETE FROM jobs WHERE video_id = ?'),
      deleteWatched: p('DELETE FROM watched WHERE video_id = ?'),
      deleteUpload: p('DELETE FROM uploads WHERE id = ?'),
      deleteVideo: p('DELETE FROM videos WHERE id = ?'),
      // Only while the video exists: a mark racing an unsend leaves nothing behind.
      insertWatched: p(`INSERT OR IGNORE INTO watched (video_id, user, watched_at)
        SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM videos WHERE id = ?)`),
      watchers: p(
        `SELECT video_id, user FROM watched WHERE video_id IN (${ids}) ORDER BY watched_at, rowid`,
      ),
      oldMessages: p('SELECT * FROM messages WHERE created_at < ? ORDER BY seq LIMIT ?'),
      // Unattached clips (never sent, or whose message is gone) past the cutoff; unfinished
      // uploads are the upload expiry's.
      oldVideos: p(`SELECT v.id FROM videos v WHERE v.created_at < ?
        AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.video = v.id)
        AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.id = v.id AND u.complete = 0) LIMIT ?`),
      oldEvents: p('DELETE FROM events WHERE created_at < ?'),
      messagesBy: p('SELECT id FROM messages WHERE author = ?'),
      videosBy: p('SELECT id FROM videos WHERE owner = ?'),
      uploadsBy: p('SELECT id FROM uploads WHERE owner = ?'),
      eventsAboutAny: p(`DELETE FROM events WHERE subject IN (${ids})`),
      eventsFor: p('DELETE FROM events WHERE audience = ?'),
      watchEventsBy: p(
        `DELETE FROM events WHERE type = 'video.watched' AND json_extract(data, '$.user') = ?`,
      ),
      watchedByOrOf: p(`DELETE FROM watched WHERE user = ? OR video_id IN (${ids})`),
      jobsOf: p(`DELETE FROM jobs WHERE video_id IN (${ids})`),
      uploadsOf: p('DELETE FROM uploads WHERE owner = ?'),
      videosOf: p('DELETE FROM videos WHERE owner = ?'),
      messagesOf: p('DELETE FROM messages WHERE author = ?'),
      membershipsOf: p('DELETE FROM members WHERE user = ?'),
      turnsOf: p('DELETE FROM job_turns WHERE owner = ?'),
    };
  }

  async deleteMessage(conversation: string, id: string, author: string): Promise<DeleteOutcome> {
    return this.transact((append): DeleteOutcome => {
      const row = this.sql.message.get(id, conversation) as Row | undefined;
      if (!row) return { outcome: 'not-found' };
      const message = toMessage(row);
      if (message.author !== author) return { outcome: 'forbidden' };
      if (message.deletedAt !== null) return { outcome: 'already-deleted', message };
      const deleted: MessageRecord = { ...message, text: null, video: null, deletedAt: now() };
      this.sql.unsend.run(deleted.deletedAt, id);
      if (message.video !== null) this.removeVideoRows(message.video);
      this.sql.rewriteCreated.run(JSON.stringify(deleted), id);
      append({ type: 'message.deleted', conversation, audience: null, message: deleted });
      return { outcome: 'deleted', message: deleted, video: message.video };
    });
  }

  async markWatched(video: VideoRecord, user: string): Promise<boolean> {
    return this.transact((append) => {
      const watchedAt = now();
      const added = this.sql.insertWatched.run(video.id, user, watchedAt, video.id).changes > 0;
      if (!added) return false;
      const watch: WatchRecord = {
        video: video.id,
        conversation: video.conversation,
        user,
        watchedAt,
      };
      const event = { type: 'video.watched' as const, conversation: video.conversation, watch };
      append({ ...event, audience: video.owner });
      // The watcher's other devices (a phone and a laptop) learn it too.
      if (user !== video.owner) append({ ...event, audience: user });
      return true;
    });
  }

  async watchers(videoIds: string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    if (videoIds.length === 0) return result;
    const rows = this.sql.watchers.all(JSON.stringify(videoIds)) as {
      video_id: string;
      user: string;
    }[];
    for (const { video_id, user } of rows) {
      const list = result.get(video_id);
      if (list) list.push(user);
      else result.set(video_id, [user]);
    }
    return result;
  }

  async expireBefore(cutoff: string): Promise<RetentionReport> {
    return this.transact((append) => {
      const videos: string[] = [];
      const messages = (this.sql.oldMessages.all(cutoff, RETENTION_BATCH) as Row[]).map(toMessage);
      const deletedAt = now();
      for (const message of messages) {
        if (message.video !== null) {
          this.removeVideoRows(message.video);
          videos.push(message.video);
        }
        this.sql.eventsAbout.run(message.id);
        this.sql.deleteMessage.run(message.id);
        append({
          type: 'message.deleted',
          conversation: message.conversation,
          audience: null,
          message: {
            ...message,
            text: null,
            video: null,
            deletedAt: message.deletedAt ?? deletedAt,
          },
        });
      }
      const unattached = this.sql.oldVideos.all(cutoff, RETENTION_BATCH) as { id: string }[];
      for (const { id } of unattached) {
        this.removeVideoRows(id);
        videos.push(id);
      }
      const events = this.sql.oldEvents.run(cutoff).changes;
      return { messages: messages.length, videos, events };
    });
  }

  async eraseUser(user: string): Promise<ErasureReport> {
    // Freed pages are zeroed, so what is deleted is not left in the file's free space.
    this.db.pragma('secure_delete = ON');
    try {
      const report = await this.transact((): ErasureReport => {
        const column = (rows: unknown[]) => (rows as { id: string }[]).map((row) => row.id);
        const messages = column(this.sql.messagesBy.all(user));
        const videos = column(this.sql.videosBy.all(user));
        const uploads = column(this.sql.uploadsBy.all(user));
        const subjects = JSON.stringify([...messages, ...videos, ...uploads]);
        const owned = JSON.stringify([...new Set([...videos, ...uploads])]);
        const events =
          this.sql.eventsAboutAny.run(subjects).changes +
          this.sql.eventsFor.run(user).changes +
          this.sql.watchEventsBy.run(user).changes;
        const watchedMarks = this.sql.watchedByOrOf.run(user, owned).changes;
        this.sql.jobsOf.run(owned);
        this.sql.uploadsOf.run(user);
        this.sql.videosOf.run(user);
        this.sql.messagesOf.run(user);
        const memberships = this.sql.membershipsOf.run(user).changes;
        this.sql.turnsOf.run(user);
        return {
          user,
          messages: messages.length,
          videos,
          uploads,
          watchedMarks,
          events,
          memberships,
        };
      });
      // Nothing of theirs left in the write-ahead log or in free pages either.
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.exec('VACUUM');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      return report;
    } finally {
      this.db.pragma('secure_delete = OFF');
    }
  }

  /** Every row of a video but the message it was attached to (unsend, retention). */
  private removeVideoRows(videoId: string): void {
    this.sql.deleteJob.run(videoId);
    this.sql.deleteWatched.run(videoId);
    this.sql.deleteUpload.run(videoId);
    this.sql.deleteVideo.run(videoId);
    this.sql.eventsAbout.run(videoId);
  }
}
