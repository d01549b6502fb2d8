// Token buckets shared by every instance (scaled mode): one row per (limit, user), brought
// up to date and taken from in one statement. The row lock of INSERT … ON CONFLICT DO
// UPDATE serialises takes of one user across instances, and the update sees the row as
// the previous take left it, so concurrent takes never spend the same token twice.
import type { MigrationSet, PgDatabase } from '../store/pg-database.js';
import type { RateLimit, RateLimits } from './rate-limit.js';
import type { TakeResult } from './token-bucket.js';

export const LIMITS_MIGRATIONS: MigrationSet = {
  name: 'limits',
  steps: [
    `CREATE TABLE rate_buckets (
       name text NOT NULL,
       key text NOT NULL,
       tokens double precision NOT NULL,
       at_ms bigint NOT NULL,
       last_ok boolean NOT NULL,
       PRIMARY KEY (name, key))`,
  ],
};

/** Full buckets are the same as none: swept after this many takes. */
const SWEEP_EVERY = 1000;

export function pgRateLimits(db: PgDatabase): RateLimits {
  return (name, options) => new PgTokenBuckets(db, name, options.capacity, options.ratePerS);
}

class PgTokenBuckets implements RateLimit {
  private takes = 0;
  private readonly ratePerMs: number;

  constructor(
    private readonly db: PgDatabase,
    private readonly name: string,
    private readonly capacity: number,
    ratePerS: number,
  ) {
    if (!(capacity >= 1) || !(ratePerS > 0)) {
      throw new RangeError('A token bucket needs capacity ≥ 1 and a positive rate.');
    }
    this.ratePerMs = ratePerS / 1000;
  }

  async take(key: string, cost = 1): Promise<TakeResult> {
    const now = Date.now();
    if (++this.takes % SWEEP_EVERY === 0) void this.sweep(now);
    // $6: the bucket refilled to now, from the row as the previous take left it.
    const [row] = await this.db.query<{ tokens: number; last_ok: boolean }>(
      `INSERT INTO rate_buckets AS b (name, key, tokens, at_ms, last_ok)
       VALUES ($1, $2, $3::float8 - $5::float8, $4, $3::float8 >= $5::float8)
       ON CONFLICT (name, key) DO UPDATE SET
         tokens = CASE
           WHEN LEAST($3::float8, b.tokens + GREATEST(0, $4 - b.at_ms) * $6::float8) >= $5::float8
           THEN LEAST($3::float8, b.tokens + GREATEST(0, $4 - b.at_ms) * $6::float8) - $5::float8
           ELSE LEAST($3::float8, b.tokens + GREATEST(0, $4 - b.at_ms) * $6::float8) END,
         at_ms = GREATEST($4, b.at_ms),
         last_ok = LEAST($3::float8, b.tokens + GREATEST(0, $4 - b.at_ms) * $6::float8) >= $5::float8
       RETURNING tokens, last_ok`,
      [this.name, key, this.capacity, now, cost, this.ratePerMs],
    );
    if (row!.last_ok) return { ok: true };
    const waitMs = (cost - row!.tokens) / this.ratePerMs;
    return { ok: false, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  async refund(key: string, cost = 1): Promise<void> {
    await this.db.query(
      `UPDATE rate_buckets SET tokens = LEAST($3::float8, tokens + $4::float8)
       WHERE name = $1 AND key = $2`,
      [this.name, key, this.capacity, cost],
    );
  }

  private async sweep(now: number): Promise<void> {
    const fillMs = this.capacity / this.ratePerMs;
    await this.db
      .query('DELETE FROM rate_buckets WHERE name = $1 AND at_ms < $2', [this.name, now - fillMs])
      .catch((error: unknown) => console.error('reelchat: sweeping rate buckets failed', error));
  }
}
