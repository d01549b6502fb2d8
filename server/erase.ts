// `reelchat-server erase-user <id>` (from the repository: `npm run server -- erase-user <id>`):
// removes everything of one person from the configured data (REELCHAT_DATA_DIR) — their
// messages, videos, media, upload remains, watched marks (theirs, and others' of their
// clips), memberships and the log events about any of these — and reports what it removed.
// Run it while the server is stopped: a running server's open streams and conversions are
// not told.
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isId } from './ids.js';
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

export async function eraseUser(dataDir: string, user: string): Promise<ErasureSummary> {
  if (!isId(user)) throw new EraseError(`"${user}" is not a user id (A-Z a-z 0-9 _ -).`);
  const database = join(dataDir, 'reelchat.db');
  if (!existsSync(database)) throw new EraseError(`No reelchat database at ${database}.`);
  const store = new SqliteStore(database, () => undefined);
  let report: ErasureReport;
  try {
    report = await store.eraseUser(user);
  } finally {
    await store.close();
  }
  // Rows first: once they are gone nothing serves these files, so a crash here leaves only
  // files that a second run (or the folders' own clean-up) removes.
  const ids = new Set([...report.videos, ...report.uploads]);
  const mediaFolders = await removeEntries(join(dataDir, 'media'), (name) => {
    const id = name.startsWith('.') ? name.slice(1).split('.')[0]! : name;
    return ids.has(id);
  });
  const uploadFiles = await removeEntries(join(dataDir, 'uploads'), (name) =>
    ids.has(name.replace(/\.json$/, '')),
  );
  return { ...report, mediaFolders, uploadFiles };
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
