// The bytes of unfinished tus uploads in PostgreSQL (scaled mode): durable and shared, so an
// upload created on instance A may be continued on B and finished on A, and an instance
// killed mid-upload loses only what it had not yet committed (the client resumes from HEAD).
// Bytes are rows of at most 1 MiB; each piece is inserted in the same statement that moves
// the offset, and only if the offset is still where this request started (optimistic check):
// two instances writing the same upload at the same offset cannot both succeed, the loser
// answers tus's 409. A worker copies the rows to a local scratch file to convert
// (copyToLocal, incrementally while a recording still uploads); they go once converted.
//
// Locker: none across instances, deliberately. @tus/server takes its locker around HEAD,
// PATCH, POST and DELETE; its MemoryLocker is per process. What it buys within a process is
// that a new request for an upload asks the holder to let go (`requestRelease` → the old
// PATCH's stream is ended gracefully, so its bytes are stored before the HEAD answers).
// Across instances that nicety is missing, but nothing breaks: a HEAD on B may report an
// offset below what a stale PATCH on A still holds in memory (at most one piece), the client
// re-sends from there, and A's later commit at the old offset fails the offset check (or,
// landing first, makes B's fail with 409 and the client HEADs again) — no hole, no repeat,
// since the bytes at an offset are the client's own either way. A pg advisory-lock locker would cost a round trip per request and a
// connection per lock held, and a half-open connection of a dead instance would hold the
// lock until TCP gives up, stalling the upload; the offset check already gives safety.
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { DataStore, ERRORS, Upload } from '@tus/server';
import { KeyedLock } from '../limits/keyed-lock.js';
import type { MigrationSet, Sql } from '../store/pg-database.js';

/** Rows of upload bytes are at most this long. */
export const PIECE_BYTES = 1024 * 1024;
/** NOTIFY channel (payload: the upload id) after bytes of an upload were committed. */
export const UPLOAD_WRITTEN_CHANNEL = 'reelchat_upload_written';
/** Pieces fetched per query when copying to a local file (bounds memory). */
const COPY_BATCH = 8;

export const UPLOAD_MIGRATIONS: MigrationSet = {
  name: 'uploads',
  steps: [
    `CREATE TABLE tus_uploads (
       id text PRIMARY KEY,
       size bigint CHECK (size >= 0),
       upload_offset bigint NOT NULL DEFAULT 0 CHECK (upload_offset >= 0),
       metadata jsonb,
       created_at timestamptz NOT NULL,
       CHECK (size IS NULL OR upload_offset <= size)
     );
     CREATE INDEX tus_uploads_by_created ON tus_uploads (created_at);
     CREATE TABLE tus_upload_chunks (
       upload_id text NOT NULL REFERENCES tus_uploads (id) ON DELETE CASCADE,
       start bigint NOT NULL,
       data bytea NOT NULL,
       PRIMARY KEY (upload_id, start)
     );
     -- Video does not compress: spare PostgreSQL the attempt (TOAST without pglz).
     ALTER TABLE tus_upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;`,
  ],
};

export interface PgUploadStoreOptions {
  /** Unfinished uploads older than this (from creation) are expired; 0 = never. */
  expiryMs: number;
  /** A termination (tus DELETE) also removes the upload's rows in our store. */
  onTerminated(id: string): Promise<void>;
}

/** What copyToLocal did. */
export interface LocalCopy {
  /** The local file's length now: the upload's bytes held locally. */
  bytes: number;
  /** Bytes appended by this call. */
  copied: number;
  /** The upload's length is known and the local file holds all of it. */
  complete: boolean;
}

interface UploadRow {
  size: number | null;
  upload_offset: number;
  metadata: Record<string, string | null> | null;
  created_at: Date;
}

export class PgUploadStore extends DataStore {
  /** One copy at a time per local file: two appending at once would repeat bytes. */
  private readonly copies = new KeyedLock();

  constructor(
    private readonly sql: Sql,
    private readonly options: PgUploadStoreOptions,
  ) {
    super();
    this.extensions = [
      'creation',
      'creation-with-upload',
      'creation-defer-length',
      'termination',
      'expiration',
    ];
  }

  override async create(upload: Upload): Promise<Upload> {
    await this.sql.query(
      `INSERT INTO tus_uploads (id, size, metadata, created_at) VALUES ($1, $2, $3, $4)`,
      [
        upload.id,
        upload.size ?? null,
        upload.metadata === undefined ? null : JSON.stringify(upload.metadata),
        upload.creation_date ?? new Date().toISOString(),
      ],
    );
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const [row] = await this.sql.query<UploadRow>(
      'SELECT size, upload_offset, metadata, created_at FROM tus_uploads WHERE id = $1',
      [id],
    );
    if (!row) throw ERRORS.FILE_NOT_FOUND;
    return new Upload({
      id,
      size: row.size ?? undefined,
      offset: row.upload_offset,
      metadata: row.metadata ?? undefined,
      creation_date: row.created_at.toISOString(),
    });
  }

  /**
   * Stores the request body from `offset`, committing each piece of at most 1 MiB with its
   * offset advance, so a cut connection keeps what arrived. Resolves to the new offset.
   */
  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    let at = offset;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let refused = false;
    const commit = async (piece: Buffer) => {
      try {
        await this.append(id, at, piece);
      } catch (error) {
        refused = true;
        throw error;
      }
      at += piece.length;
    };
    try {
      for await (const chunk of readable as AsyncIterable<Buffer>) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        while (pendingBytes >= PIECE_BYTES) {
          const all = Buffer.concat(pending, pendingBytes);
          await commit(all.subarray(0, PIECE_BYTES));
          const rest = all.subarray(PIECE_BYTES);
          pending = rest.length > 0 ? [rest] : [];
          pendingBytes = rest.length;
        }
      }
    } catch (error) {
      // The body broke off (or passed the size allowed): keep what arrived before, as the
      // file store does, unless the store itself refused this request.
      if (!refused && pendingBytes > 0) {
        await commit(Buffer.concat(pending, pendingBytes)).catch(() => undefined);
      }
      throw error;
    }
    if (pendingBytes > 0) await commit(Buffer.concat(pending, pendingBytes));
    return at;
  }

  override async declareUploadLength(id: string, size: number): Promise<void> {
    const rows = await this.sql.query(
      `UPDATE tus_uploads SET size = $2
       WHERE id = $1 AND size IS NULL AND upload_offset <= $2 RETURNING id`,
      [id, size],
    );
    if (rows.length === 0) {
      await this.getUpload(id); // throws when it is gone
      throw ERRORS.INVALID_LENGTH;
    }
  }

  /** tus termination (DELETE): the bytes, then our rows, before the 204 goes out. */
  override async remove(id: string): Promise<void> {
    await this.discard(id);
    await this.options.onTerminated(id);
  }

  /** Removes the upload's info and bytes; nothing there is fine. */
  async discard(id: string): Promise<void> {
    await this.sql.query('DELETE FROM tus_uploads WHERE id = $1', [id]);
  }

  /**
   * Removes the bytes of unfinished uploads created longer than the expiry ago, as the file
   * store does. Only bytes: reelchat expires its own rows (Uploads.removeStale).
   */
  override async deleteExpired(): Promise<number> {
    if (this.options.expiryMs <= 0) return 0;
    const rows = await this.sql.query(
      `DELETE FROM tus_uploads
       WHERE created_at < now() - $1 * interval '1 millisecond'
         AND (size IS NULL OR upload_offset < size)
       RETURNING id`,
      [this.options.expiryMs],
    );
    return rows.length;
  }

  override getExpiration(): number {
    return this.options.expiryMs;
  }

  /**
   * Appends to the local file at `path` the upload's bytes beyond the file's current length
   * (creating it and its folder), so calling it after each PATCH copies only what is new.
   */
  async copyToLocal(id: string, path: string): Promise<LocalCopy> {
    return this.copies.run(path, async () => {
      await mkdir(dirname(path), { recursive: true });
      const file = await open(path, 'a');
      try {
        const before = (await file.stat()).size;
        let have = before;
        for (;;) {
          const rows = await this.sql.query<{
            size: number | null;
            upload_offset: number;
            start: number | null;
            data: Buffer | null;
          }>(
            // A piece holding byte `have` starts less than PIECE_BYTES before it: that bound
            // keeps the scan on the primary key's range.
            `SELECT u.size, u.upload_offset, c.start, c.data
             FROM tus_uploads u
             LEFT JOIN LATERAL (
               SELECT start, substring(data FROM (greatest($2::bigint - start, 0) + 1)::int) AS data
               FROM tus_upload_chunks
               WHERE upload_id = u.id AND start > $2::bigint - $3::bigint
                 AND start + octet_length(data) > $2::bigint
               ORDER BY start LIMIT $4
             ) c ON true
             WHERE u.id = $1
             ORDER BY c.start`,
            [id, have, PIECE_BYTES, COPY_BATCH],
          );
          const info = rows[0];
          if (!info) throw ERRORS.FILE_NOT_FOUND;
          if (info.upload_offset < have) {
            throw new Error(
              `Local copy of upload ${id} is longer (${have}) than its bytes (${info.upload_offset}).`,
            );
          }
          let pieces = 0;
          for (const row of rows) {
            if (row.start === null || !row.data) continue;
            if (row.start > have) throw new Error(`Upload ${id} has no bytes at ${have}.`);
            await file.appendFile(row.data);
            have += row.data.length;
            pieces++;
          }
          if (pieces < COPY_BATCH) {
            const complete = info.size !== null && have === info.size;
            return { bytes: have, copied: have - before, complete };
          }
        }
      } finally {
        await file.close();
      }
    });
  }

  /** One statement: the offset moves, the piece is stored, and a NOTIFY goes out on commit. */
  private async append(id: string, offset: number, piece: Buffer): Promise<void> {
    const rows = await this.sql.query(
      `WITH moved AS (
         UPDATE tus_uploads SET upload_offset = upload_offset + $3::bigint
         WHERE id = $1 AND upload_offset = $2::bigint
           AND (size IS NULL OR upload_offset + $3::bigint <= size)
         RETURNING id
       ), stored AS (
         INSERT INTO tus_upload_chunks (upload_id, start, data) SELECT id, $2, $4 FROM moved
       )
       SELECT pg_notify('${UPLOAD_WRITTEN_CHANNEL}', id) FROM moved`,
      [id, offset, piece.length, piece],
    );
    if (rows.length > 0) return;
    const current = await this.getUpload(id); // throws when it is gone
    if (current.offset !== offset) throw ERRORS.INVALID_OFFSET;
    throw ERRORS.ERR_SIZE_EXCEEDED;
  }
}
