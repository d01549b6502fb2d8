// The durable conversion queue on PostgreSQL, shared by several worker processes. Jobs are
// created by PgStore.completeUpload in the upload's completing transaction, and removed by
// markVideoReady/markVideoFailed in the outcome's.
//
// A running job has a lease (`lease_until`, held by `lease_owner`, this queue's random id)
// that its worker renews while it converts (heartbeat). A job whose lease lapsed — its
// worker was killed, or lost the database — counts as queued again: another worker claims
// it within the lease (default 30 s) and converts it. A video still becomes ready once only:
// markVideoReady changes a video from processing alone.
//
// Claims take a transaction advisory lock (JOBS_LOCK), so that counting an owner's running
// jobs and starting one is atomic across workers: at most `perOwner` of one owner run
// anywhere, and owners take turns (job_turns), as in SQLite. Times are ms since epoch from
// the workers' clocks (keep them in sync: the lease must dwarf their skew).
import { randomUUID } from 'node:crypto';
import type { Job, JobQueue } from './jobs.js';
import type { PgDatabase } from './pg-database.js';

const JOBS_LOCK = 7_311_020_003;
export const DEFAULT_LEASE_MS = 30_000;

export interface PgJobsOptions {
  /** How long a claimed job stays its worker's without a heartbeat (default 30 s). */
  leaseMs?: number;
  /**
   * The live_leases table exists (postgres-live.ts migrated): a job whose video a worker is
   * converting while it uploads is not claimed until that lease is released or lapses.
   */
  liveLeases?: boolean;
}

export class PgJobs implements JobQueue {
  /** This queue's id, written into the leases it holds. */
  readonly owner = randomUUID();
  readonly leaseMs: number;
  /** Renewing at a third of the lease survives two missed beats. */
  readonly heartbeatMs: number;
  private readonly notLive: string;
  private readonly liveEnds: string;

  constructor(
    private readonly db: PgDatabase,
    options: PgJobsOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.heartbeatMs = Math.max(Math.floor(this.leaseMs / 3), 100);
    this.notLive = options.liveLeases
      ? 'AND NOT EXISTS (SELECT 1 FROM live_leases l WHERE l.video_id = j.video_id AND l.until_ms > $1)'
      : '';
    // A live lease's end is a wake-up time: its job may be claimed then.
    this.liveEnds = options.liveLeases
      ? 'UNION ALL SELECT until_ms FROM live_leases WHERE until_ms > $1'
      : '';
  }

  /**
   * At start: jobs whose lease lapsed become queued, and every video still processing
   * whose upload is complete gets a job. Jobs other live workers are running (their leases
   * current) are left alone.
   */
  async recover(): Promise<void> {
    const at = Date.now();
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE jobs SET state = 'queued', run_at = $1, lease_until = NULL, lease_owner = NULL
         WHERE state = 'running' AND lease_until <= $1`,
        [at],
      );
      await tx.query(
        `INSERT INTO jobs (video_id, state, attempts, run_at)
         SELECT v.id, 'queued', 0, $1 FROM videos v JOIN uploads u ON u.id = v.id
         WHERE v.state = 'processing' AND u.complete = 1
         ON CONFLICT (video_id) DO NOTHING`,
        [at],
      );
      // A turn a day old counts as none; keeps the table to recent owners.
      await tx.query('DELETE FROM job_turns WHERE started_at < $1', [at - 24 * 3600_000]);
    });
  }

  async claim(
    at: number,
    perOwner: number,
    waiting: readonly string[] = [],
  ): Promise<Job | undefined> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [JOBS_LOCK]);
      // Due: queued and due, or running on a lapsed lease. Of owners below their share of
      // (live) running jobs, the one served least recently, then its oldest due job.
      const [row] = await tx.query<{ video_id: string; attempts: number; owner: string }>(
        `SELECT j.video_id, j.attempts, v.owner FROM jobs j
         JOIN videos v ON v.id = j.video_id LEFT JOIN job_turns t ON t.owner = v.owner
         WHERE ((j.state = 'queued' AND j.run_at <= $1) OR (j.state = 'running' AND j.lease_until <= $1))
         AND v.owner NOT IN (
           SELECT rv.owner FROM jobs r JOIN videos rv ON rv.id = r.video_id
           WHERE r.state = 'running' AND r.lease_until > $1 AND r.video_id <> ALL($3::text[])
           GROUP BY rv.owner HAVING COUNT(*) >= $2)
         ${this.notLive}
         ORDER BY COALESCE(t.started_at, 0), j.run_at, j.n LIMIT 1`,
        [at, perOwner, waiting],
      );
      if (!row) return undefined;
      await tx.query(
        `UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $2,
           lease_owner = $3 WHERE video_id = $1`,
        [row.video_id, at + this.leaseMs, this.owner],
      );
      await tx.query(
        `INSERT INTO job_turns (owner, started_at) VALUES ($1, $2)
         ON CONFLICT (owner) DO UPDATE SET started_at = excluded.started_at`,
        [row.owner, at],
      );
      return { videoId: row.video_id, attempts: row.attempts + 1 };
    });
  }

  /** Puts back a job this queue holds (one that another worker took over stays theirs). */
  async retry(videoId: string, runAt: number, error: string): Promise<void> {
    await this.db.query(
      `UPDATE jobs SET state = 'queued', run_at = $1, last_error = $2, lease_until = NULL,
         lease_owner = NULL WHERE video_id = $3 AND (lease_owner = $4 OR state = 'queued')`,
      [runAt, error, videoId, this.owner],
    );
  }

  async release(videoIds: string[]): Promise<void> {
    if (videoIds.length === 0) return;
    await this.db.query(
      `UPDATE jobs SET state = 'queued', run_at = $1, attempts = GREATEST(attempts - 1, 0),
         lease_until = NULL, lease_owner = NULL
       WHERE video_id = ANY($2::text[]) AND state = 'running' AND lease_owner = $3`,
      [Date.now(), videoIds, this.owner],
    );
  }

  /** Renews the leases this queue holds on these running jobs. */
  async heartbeat(videoIds: string[]): Promise<void> {
    if (videoIds.length === 0) return;
    await this.db.query(
      `UPDATE jobs SET lease_until = $1 WHERE video_id = ANY($2::text[])
       AND state = 'running' AND lease_owner = $3`,
      [Date.now() + this.leaseMs, videoIds, this.owner],
    );
  }

  /** The next queued job's due time, or a running job's lease end (its worker may be gone). */
  async queuedCount(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs WHERE state = 'queued'`,
    );
    return row?.n ?? 0;
  }

  async nextDue(after: number): Promise<number | undefined> {
    const [row] = await this.db.query<{ due: number | null }>(
      `SELECT MIN(due) AS due FROM (
         SELECT CASE WHEN state = 'queued' THEN run_at ELSE lease_until END AS due FROM jobs
         WHERE (state = 'queued' AND run_at > $1) OR (state = 'running' AND lease_until > $1)
         ${this.liveEnds}) AS wake_ups`,
      [after],
    );
    return row?.due ?? undefined;
  }
}
