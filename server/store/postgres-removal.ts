// What takes data away again, on PgStore's database (the twin of sqlite-removal.ts): unsend,
// watched marks, retention and erasure. A video removed here loses all its rows in the same
// transaction as its message; the caller then removes its files.
import type { PgDatabase, Sql } from './pg-database.js';
import type { TransactionLog } from './postgres-log.js';
import { now, toMessage, type Row } from './rows.js';
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

type Transact = <T>(work: (tx: Sql, log: TransactionLog) => Promise<T>) => Promise<T>;

/** Tables erasure touches: vacuumed after, so dead rows do not linger until autovacuum. */
const ERASED_TABLES = ['events', 'watched', 'jobs', 'uploads', 'videos', 'messages', 'members'];

export class PgRemoval implements RemovalStore {
  constructor(
    private readonly db: PgDatabase,
    private readonly transact: Transact,
  ) {}

  async deleteMessage(conversation: string, id: string, author: string): Promise<DeleteOutcome> {
    return this.transact(async (tx, log): Promise<DeleteOutcome> => {
      // FOR UPDATE: two unsends of one message at once — the second waits, then sees it deleted.
      const [row] = await tx.query<Row>(
        'SELECT * FROM messages WHERE id = $1 AND conversation = $2 FOR UPDATE',
        [id, conversation],
      );
      if (!row) return { outcome: 'not-found' };
      const message = toMessage(row);
      if (message.author !== author) return { outcome: 'forbidden' };
      if (message.deletedAt !== null) return { outcome: 'already-deleted', message };
      const deleted: MessageRecord = { ...message, text: null, video: null, deletedAt: now() };
      await tx.query(
        'UPDATE messages SET text = NULL, video = NULL, deleted_at = $1 WHERE id = $2',
        [deleted.deletedAt, id],
      );
      if (message.video !== null) await removeVideoRows(tx, message.video);
      // A message's earlier events now tell only what is left of it.
      await tx.query(
        `UPDATE events SET data = $1 WHERE subject = $2 AND type = 'message.created'`,
        [JSON.stringify(deleted), id],
      );
      log.append({ type: 'message.deleted', conversation, audience: null, message: deleted });
      return { outcome: 'deleted', message: deleted, video: message.video };
    });
  }

  async markWatched(video: VideoRecord, user: string): Promise<boolean> {
    return this.transact(async (tx, log) => {
      const watchedAt = now();
      // Only while the video exists: a mark racing an unsend leaves nothing behind.
      const added = await tx.query(
        `INSERT INTO watched (video_id, user_id, watched_at)
         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM videos WHERE id = $1)
         ON CONFLICT (video_id, user_id) DO NOTHING RETURNING video_id`,
        [video.id, user, watchedAt],
      );
      if (added.length === 0) return false;
      const watch: WatchRecord = {
        video: video.id,
        conversation: video.conversation,
        user,
        watchedAt,
      };
      const event = { type: 'video.watched' as const, conversation: video.conversation, watch };
      log.append({ ...event, audience: video.owner });
      // The watcher's other devices (a phone and a laptop) learn it too.
      if (user !== video.owner) log.append({ ...event, audience: user });
      return true;
    });
  }

  async watchers(videoIds: string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    if (videoIds.length === 0) return result;
    const rows = await this.db.query<{ video_id: string; user_id: string }>(
      'SELECT video_id, user_id FROM watched WHERE video_id = ANY($1::text[]) ORDER BY watched_at, n',
      [videoIds],
    );
    for (const { video_id, user_id } of rows) {
      const list = result.get(video_id);
      if (list) list.push(user_id);
      else result.set(video_id, [user_id]);
    }
    return result;
  }

  async expireBefore(cutoff: string): Promise<RetentionReport> {
    return this.transact(async (tx, log) => {
      const videos: string[] = [];
      const rows = await tx.query<Row>(
        'SELECT * FROM messages WHERE created_at < $1 ORDER BY seq LIMIT $2 FOR UPDATE',
        [cutoff, RETENTION_BATCH],
      );
      const messages = rows.map(toMessage);
      const deletedAt = now();
      for (const message of messages) {
        if (message.video !== null) {
          await removeVideoRows(tx, message.video);
          videos.push(message.video);
        }
        await tx.query('DELETE FROM events WHERE subject = $1', [message.id]);
        await tx.query('DELETE FROM messages WHERE id = $1', [message.id]);
        log.append({
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
      // Unattached clips past the cutoff; unfinished uploads are the upload expiry's.
      const unattached = await tx.query<{ id: string }>(
        `SELECT v.id FROM videos v WHERE v.created_at < $1
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.video = v.id)
         AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.id = v.id AND u.complete = 0) LIMIT $2`,
        [cutoff, RETENTION_BATCH],
      );
      for (const { id } of unattached) {
        await removeVideoRows(tx, id);
        videos.push(id);
      }
      const events = await tx.query('DELETE FROM events WHERE created_at < $1 RETURNING seq', [
        cutoff,
      ]);
      return { messages: messages.length, videos, events: events.length };
    });
  }

  async eraseUser(user: string): Promise<ErasureReport> {
    const report = await this.transact(async (tx): Promise<ErasureReport> => {
      const ids = async (sql: string) =>
        (await tx.query<{ id: string }>(sql, [user])).map((row) => row.id);
      const count = async (sql: string, values: unknown[]) =>
        (await tx.query(`${sql} RETURNING 1`, values)).length;
      const messages = await ids('SELECT id FROM messages WHERE author = $1');
      const videos = await ids('SELECT id FROM videos WHERE owner = $1');
      const uploads = await ids('SELECT id FROM uploads WHERE owner = $1');
      const subjects = [...messages, ...videos, ...uploads];
      const owned = [...new Set([...videos, ...uploads])];
      const events =
        (await count('DELETE FROM events WHERE subject = ANY($1::text[])', [subjects])) +
        (await count('DELETE FROM events WHERE audience = $1', [user])) +
        (await count(
          `DELETE FROM events WHERE type = 'video.watched' AND (data::jsonb)->>'user' = $1`,
          [user],
        ));
      const watchedMarks = await count(
        'DELETE FROM watched WHERE user_id = $1 OR video_id = ANY($2::text[])',
        [user, owned],
      );
      await tx.query('DELETE FROM jobs WHERE video_id = ANY($1::text[])', [owned]);
      await tx.query('DELETE FROM uploads WHERE owner = $1', [user]);
      await tx.query('DELETE FROM videos WHERE owner = $1', [user]);
      await tx.query('DELETE FROM messages WHERE author = $1', [user]);
      const memberships = await count('DELETE FROM members WHERE user_id = $1', [user]);
      await tx.query('DELETE FROM job_turns WHERE owner = $1', [user]);
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
    // The deleted rows' space is reclaimed now rather than at autovacuum's leisure. (Unlike
    // SQLite's secure_delete, PostgreSQL does not zero freed space; the WAL and backups keep
    // what they kept — docs/scaling.md.)
    for (const table of ERASED_TABLES) {
      await this.db.query(`VACUUM ${table}`).catch((error: unknown) => {
        console.error(`reelchat: vacuuming ${table} after an erasure failed`, error);
      });
    }
    return report;
  }
}

/** Every row of a video but the message it was attached to (unsend, retention). */
async function removeVideoRows(tx: Sql, videoId: string): Promise<void> {
  await tx.query('DELETE FROM jobs WHERE video_id = $1', [videoId]);
  await tx.query('DELETE FROM watched WHERE video_id = $1', [videoId]);
  await tx.query('DELETE FROM uploads WHERE id = $1', [videoId]);
  await tx.query('DELETE FROM videos WHERE id = $1', [videoId]);
  await tx.query('DELETE FROM events WHERE subject = $1', [videoId]);
}
