// `reelchat-server erase-user <id>` (from the repository: `npm run server -- erase-user <id>`):
// removes everything of one person from the configured data (REELCHAT_DATA_DIR, and the
// PostgreSQL database of REELCHAT_DATABASE_URL when set) — their
// messages, videos, media, upload remains, watched marks (theirs, and others' of their
// clips), memberships and the log events about any of these — and reports what it removed.
// Run it while the server is stopped: a running server's open streams and conversions are
// not told.
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { databaseUrlOf, s3ConfigOf, type S3Config } from './config.js';
import { isId } from './ids.js';
import { S3ObjectStore } from './media/s3-object-store.js';
import { PgDatabase } from './store/pg-database.js';
import { PgStore } from './store/postgres.js';
import { SqliteStore } from './store/sqlite.js';
import type { ErasureReport } from './store/types.js';

export interface ErasureSummary extends ErasureReport {
  /** Media folders removed (converted clips, and conversions left half-done). */
  mediaFolders: number;
  /** Upload files removed (bytes and tus info files). */
  uploadFiles: number;
}

export class EraseError extends Error {
  override readonly name = 'EraseError';
}

export async function eraseUser(
  dataDir: string,
  user: string,
  databaseUrl: string | undefined = databaseUrlOf(process.env),
  s3: S3Config | undefined = s3ConfigOf(process.env),
): Promise<ErasureSummary> {
  if (!isId(user)) throw new EraseError(`"${user}" is not a user id (A-Z a-z 0-9 _ -).`);
  const report = databaseUrl
    ? await eraseInPostgres(databaseUrl, user)
    : await eraseInSqlite(join(dataDir, 'reelchat.db'), user);
  // Rows first: once they are gone nothing serves these files, so a crash here leaves only
  // files that a second run (or the folders' own clean-up) removes.
  const ids = new Set([...report.videos, ...report.uploads]);
  const inBucket = s3 ? await removeFromBucket(s3, ids) : 0;
  const mediaFolders =
    inBucket +
    (await removeEntries(join(dataDir, 'media'), (name) => {
      const id = name.startsWith('.') ? name.slice(1).split('.')[0]! : name;
      return ids.has(id);
    }));
  const uploadFiles = await removeEntries(join(dataDir, 'uploads'), (name) =>
    ids.has(name.replace(/\.json$/, '')),
  );
  return { ...report, mediaFolders, uploadFiles };
}

async function eraseInSqlite(database: string, user: string): Promise<ErasureReport> {
  if (!existsSync(database)) throw new EraseError(`No reelchat database at ${database}.`);
  const store = new SqliteStore(database, () => undefined);
  try {
    return await store.removal.eraseUser(user);
  } finally {
    await store.close();
  }
}

/**
 * Scaled mode: the rows are in PostgreSQL, and so are the bytes of unfinished uploads
 * (uploads/pg-upload-store.ts), which go with them. Safe while instances run: their streams
 * and conversions find the rows gone, as after an unsend.
 */
async function eraseInPostgres(url: string, user: string): Promise<ErasureReport> {
  const database = await PgDatabase.connect(url, { max: 2, applicationName: 'reelchat-erase' });
  try {
    const report = await (await PgStore.open(database)).removal.eraseUser(user);
    const ids = [...new Set([...report.videos, ...report.uploads])];
    const [tables] = await database.query<{ present: boolean }>(
      "SELECT to_regclass('tus_uploads') IS NOT NULL AS present",
    );
    if (tables?.present && ids.length > 0) {
      await database.query('DELETE FROM tus_uploads WHERE id = ANY($1)', [ids]);
    }
    return report;
  } finally {
    await database.close();
  }
}

/** Scaled mode: each video's media in the bucket; returns how many had any. */
async function removeFromBucket(s3: S3Config, ids: Set<string>): Promise<number> {
  const objects = new S3ObjectStore(s3);
  try {
    let removed = 0;
    for (const id of ids) {
      const found = await objects.deletePrefix(`media/${id}/`);
      if (found > 0) removed++;
    }
    return removed;
  } finally {
    objects.close();
  }
}

/** Removes the entries of `dir` whose names match; returns how many. */
async function removeEntries(dir: string, matches: (name: string) => boolean): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names.filter(matches)) {
    await rm(join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** The report as the command prints it. */
export function describeErasure(summary: ErasureSummary): string {
  return [
    `erased user ${summary.user}:`,
    `  messages:        ${summary.messages}`,
    `  videos:          ${summary.videos.length}`,
    `  uploads:         ${summary.uploads.length}`,
    `  watched marks:   ${summary.watchedMarks}`,
    `  events:          ${summary.events}`,
    `  memberships:     ${summary.memberships}`,
    `  media folders:   ${summary.mediaFolders}`,
    `  upload files:    ${summary.uploadFiles}`,
  ].join('\n');
}
