// Writes that wait for another connection's write lock without blocking the event loop.
// better-sqlite3 is synchronous: its busy timeout is a sleep on the server's only thread.
// So SQLite waits only briefly (SYNC_BUSY_WAIT_MS) and a write that still finds the
// database locked (a backup, a migration, an operator's sqlite3 shell holding BEGIN
// IMMEDIATE) is retried here with backoff, asynchronously, until `waitMs` have passed: the
// caller just sees a slower promise, and the server keeps answering meanwhile.
import { setTimeout as sleep } from 'node:timers/promises';

/** SQLite's own (blocking) busy wait per attempt; PRAGMA busy_timeout. */
export const SYNC_BUSY_WAIT_MS = 25;
const FIRST_RETRY_MS = 10;
const MAX_RETRY_MS = 250;

/** The database was locked by another connection for longer than the write may wait. */
export function isDatabaseBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

export class BusyRetry {
  /** Writes waiting for the lock, oldest first: they take turns, so only one probes it. */
  private waiting = 0;
  private turn: Promise<void> = Promise.resolve();
  /** The last write in line gave up on the lock (so the ones behind need not probe it). */
  private gaveUp = false;

  constructor(private readonly waitMs: number) {}

  /** Runs `attempt` (one synchronous write transaction) now, or once the lock is free. */
  run<T>(attempt: () => T): Promise<T> {
    const startedAt = Date.now();
    if (this.waiting > 0) return this.later(attempt, startedAt, false);
    try {
      const result = attempt();
      this.gaveUp = false;
      return Promise.resolve(result);
    } catch (error) {
      if (!isDatabaseBusy(error)) return Promise.reject(error);
      return this.later(attempt, startedAt, true);
    }
  }

  private async later<T>(attempt: () => T, startedAt: number, justFailed: boolean): Promise<T> {
    this.waiting++;
    const previous = this.turn;
    let done!: () => void;
    this.turn = new Promise<void>((resolve) => (done = resolve));
    try {
      await previous;
      let delay = FIRST_RETRY_MS;
      let lastError: unknown;
      for (let tried = justFailed; ; tried = true) {
        const left = startedAt + this.waitMs - Date.now();
        // Out of time: a write behind one that gave up fails without probing the lock
        // (each probe blocks the loop for SYNC_BUSY_WAIT_MS).
        if (left <= 0 && (tried || this.gaveUp)) {
          this.gaveUp = true;
          throw lastError ?? busyError(this.waitMs);
        }
        if (tried) {
          await sleep(Math.min(delay, left));
          delay = Math.min(delay * 2, MAX_RETRY_MS);
        }
        try {
          const result = attempt();
          this.gaveUp = false;
          return result;
        } catch (error) {
          if (!isDatabaseBusy(error)) throw error;
          lastError = error;
        }
      }
    } finally {
      this.waiting--;
      done();
    }
  }
}

function busyError(waitMs: number): Error {
  return Object.assign(new Error(`database is locked (waited ${waitMs} ms)`), {
    code: 'SQLITE_BUSY',
  });
}
