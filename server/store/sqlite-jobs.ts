// The durable conversion queue (JobQueue) on SqliteStore's database. Jobs are created by
// the store's completeUpload, in the same transaction as the upload's completion.
import type { Database as Db } from 'better-sqlite3';
import type { Job, JobQueue } from './jobs.js';
import type { BusyRetry } from './busy-retry.js';
import type { Transact } from './rows.js';

export class SqliteJobs implements JobQueue {
  private readonly sql;

  constructor(
    db: Db,
    private readonly writes: BusyRetry,
    private readonly transact: Transact,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.sql = {
      requeueRunning: p(`UPDATE jobs SET state = 'queued', run_at = ? WHERE state = 'running'`),
      jobsForOrphans: p(`INSERT OR IGNORE INTO jobs (video_id, state, attempts, run_at)
        SELECT v.id, 'queued', 0, ? FROM videos v JOIN uploads u ON u.id = v.id
        WHERE v.state = 'processing' AND u.complete = 1`),
      // Fair across owners: only owners below their share of running jobs, and of those
      // the one served least recently (job_turns), then its oldest due job.
      dueJob: p(`SELECT j.video_id, j.attempts, v.owner FROM jobs j
        JOIN videos v ON v.id = j.video_id LEFT JOIN job_turns t ON t.owner = v.owner
        WHERE j.state = 'queued' AND j.run_at <= @at AND v.owner NOT IN (
          SELECT rv.owner FROM jobs r JOIN videos rv ON rv.id = r.video_id
          WHERE r.state = 'running' AND r.video_id NOT IN (SELECT value FROM json_each(@waiting))
          GROUP BY rv.owner HAVING COUNT(*) >= @perOwner)
        ORDER BY COALESCE(t.started_at, 0), j.run_at, j.rowid LIMIT 1`),
      startJob: p(`UPDATE jobs SET state = 'running', attempts = attempts + 1 WHERE video_id = ?`),
      takeTurn: p(`INSERT INTO job_turns (owner, started_at) VALUES (?, ?)
        ON CONFLICT (owner) DO UPDATE SET started_at = excluded.started_at`),
      forgetTurns: p('DELETE FROM job_turns WHERE started_at < ?'),
      retryJob: p(
        `UPDATE jobs SET state = 'queued', run_at = ?, last_error = ? WHERE video_id = ?`,
      ),
      releaseJob: p(`UPDATE jobs SET state = 'queued', run_at = ?, attempts = MAX(attempts - 1, 0)
        WHERE video_id = ? AND state = 'running'`),
      nextDue: p(`SELECT MIN(run_at) AS due FROM jobs WHERE state = 'queued' AND run_at > ?`),
      queued: p(`SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued'`),
    };
  }

  async recover(): Promise<void> {
    await this.transact(() => {
      const at = Date.now();
      this.sql.requeueRunning.run(at);
      this.sql.jobsForOrphans.run(at);
      // A turn a day old counts as none; keeps the table to recent owners.
      this.sql.forgetTurns.run(at - 24 * 3600_000);
    });
  }

  async claim(
    at: number,
    perOwner: number,
    waiting: readonly string[] = [],
  ): Promise<Job | undefined> {
    return this.transact(() => {
      const row = this.sql.dueJob.get({ at, perOwner, waiting: JSON.stringify(waiting) }) as
        { video_id: string; attempts: number; owner: string } | undefined;
      if (!row) return undefined;
      this.sql.startJob.run(row.video_id);
      this.sql.takeTurn.run(row.owner, at);
      return { videoId: row.video_id, attempts: row.attempts + 1 };
    });
  }

  async retry(videoId: string, runAt: number, error: string): Promise<void> {
    await this.writes.run(() => this.sql.retryJob.run(runAt, error, videoId));
  }

  async release(videoIds: string[]): Promise<void> {
    const at = Date.now();
    await this.transact(() => {
      for (const id of videoIds) this.sql.releaseJob.run(at, id);
    });
  }

  async queuedCount(): Promise<number> {
    return (this.sql.queued.get() as { n: number }).n;
  }

  async nextDue(after: number): Promise<number | undefined> {
    const row = this.sql.nextDue.get(after) as { due: number | null };
    return row.due ?? undefined;
  }
}
