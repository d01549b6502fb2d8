// The local disk full (embedded mode's data folder, a worker's scratch space): a passing
// state an operator clears, not a bug and not the client's fault. Uploads are refused with
// 507 before their bytes are read when what is free, less a reserve kept for SQLite, the
// conversions and the info files, would not hold them; a write that still meets ENOSPC
// answers 507 too, its upload's offset being what really reached the disk (tus reads it from
// the file), so the client resumes from there once space is freed. A conversion that runs out
// of space is tried again later, never failed for good.
import { statfs } from 'node:fs/promises';
import { HttpError } from '../http/errors.js';

/** Seconds a client is asked to wait before trying again while the disk is full. */
export const DISK_FULL_RETRY_AFTER_S = 30;

/** A write found no space left (thrown where the cause would otherwise be lost). */
export class DiskFullError extends Error {
  override readonly name = 'DiskFullError';
  readonly code = 'ENOSPC';
  constructor(doing: string, options?: { cause?: unknown }) {
    super(`No space left on the server's disk (${doing}).`, options);
  }
}

const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** Whether an error means the disk (or SQLite's file) is out of space. */
export function isDiskFull(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && FULL_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** What a client is told: 507 (RFC 4918 Insufficient Storage), when to try again. */
export function diskFullRefusal(): HttpError {
  return new HttpError(
    507,
    "The server's storage is full; the upload resumes once space is freed.",
    { retryAfter: DISK_FULL_RETRY_AFTER_S, storage: 'full' },
    {
      code: 'quota-exceeded',
      headers: { 'Retry-After': String(DISK_FULL_RETRY_AFTER_S) },
    },
  );
}

export interface DiskReport {
  /** Bytes an unprivileged writer may still use on the folder's filesystem. */
  freeBytes: number;
  /** Kept free: uploads are refused once they would eat into it. */
  reserveBytes: number;
  /** Free space is below the reserve (uploads are refused). */
  full: boolean;
}

/** The free space of the filesystem that holds a folder, and the reserve kept on it. */
export class DiskSpace {
  constructor(
    readonly directory: string,
    readonly reserveBytes: number,
  ) {}

  async report(): Promise<DiskReport> {
    const stats = await statfs(this.directory);
    const freeBytes = stats.bavail * stats.bsize;
    return { freeBytes, reserveBytes: this.reserveBytes, full: freeBytes < this.reserveBytes };
  }

  /**
   * Throws the 507 refusal when `bytes` more would leave less than the reserve free. A
   * folder that cannot be measured is not a reason to refuse (the write itself will tell).
   */
  async admit(bytes: number): Promise<void> {
    const report = await this.report().catch(() => undefined);
    if (report && report.freeBytes - bytes < this.reserveBytes) throw diskFullRefusal();
  }
}
