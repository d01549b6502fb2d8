// `reelchat-server backup <file>` (embedded mode): a consistent copy of the SQLite database
// through SQLite's online backup API (better-sqlite3's db.backup), safe while the server
// runs and writes — the copy is the database as of one moment, pages written meanwhile are
// copied again. The copy is checked (PRAGMA integrity_check) before it is reported done. The
// database holds the media links' signing key too; the media and uploads folders are plain
// files, copied after it (docs/scaling.md, "Backups").
import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

export interface BackupSummary {
  source: string;
  target: string;
  pages: number;
  bytes: number;
  seconds: number;
}

/** Backs up `dataDir`'s reelchat.db into `target`, which must not exist yet. */
export async function backupSqlite(dataDir: string, target: string): Promise<BackupSummary> {
  const source = join(dataDir, 'reelchat.db');
  const into = resolve(target);
  if (!existsSync(source)) throw new BackupError(`There is no database at ${source}.`);
  if (existsSync(into)) throw new BackupError(`${into} exists already; name a new file.`);
  if (!existsSync(dirname(into)))
    throw new BackupError(`The folder ${dirname(into)} does not exist.`);
  const started = Date.now();
  const db = new Database(source, { fileMustExist: true });
  let pages = 0;
  try {
    // The server's connection waits up to its busy timeout for this one's short read locks.
    db.pragma('busy_timeout = 5000');
    const progress = await db.backup(into);
    pages = progress.totalPages;
  } catch (error) {
    await rm(into, { force: true });
    throw new BackupError(`The backup failed: ${(error as Error).message}`);
  } finally {
    db.close();
  }
  const copy = new Database(into, { fileMustExist: true });
  try {
    const result = copy.pragma('integrity_check', { simple: true });
    if (result !== 'ok')
      throw new BackupError(`The backup at ${into} fails integrity_check: ${String(result)}`);
  } finally {
    copy.close();
  }
  return {
    source,
    target: into,
    pages,
    bytes: (await stat(into)).size,
    seconds: (Date.now() - started) / 1000,
  };
}

export function describeBackup(summary: BackupSummary): string {
  return (
    `reelchat: backed up ${summary.source} to ${summary.target} ` +
    `(${summary.pages} pages, ${summary.bytes} bytes, ${summary.seconds.toFixed(2)} s, integrity ok). ` +
    'Now copy the media folder (docs/scaling.md, "Backups").'
  );
}
